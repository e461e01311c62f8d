'use strict';
// Express on 127.0.0.1 with or without the mfagate middleware (bench/http.js runs it).
const express = require('express');
const mfagate = require('../lib/index.js');
const h = require('../test/helpers.js');

const mode = process.argv[2];
const app = express();
if (mode === 'gate') app.use(mfagate.express({ gate: new mfagate.Gate('partner-center', { keys: [h.JWK1] }) }));
app.get('/v1/customers', (req, res) => res.json({ ok: true, reason: req.mfagate?.reason ?? null }));
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => m === 'stop' && server.close(() => process.exit(0)));
