'use strict';
// Target 2 of the chaos run: Express with mfagate's middleware over a
// JwksGate on the flapping endpoint.
//   node node_app.js PORT JWKS_URL TTL MIN_REFRESH TIMEOUT MAX_BYTES
// GET /v1/customers is gated; the allowed answer says what the gate knew.
// GET /_chaos/state is answered before the gate: its counters.
const path = require('path');
const repo = path.resolve(__dirname, '..', '..');
const express = require(path.join(repo, 'bindings-node', 'node_modules', 'express'));
const mfagate = require(path.join(repo, 'bindings-node'));

const [port, jwksUri, ttl, minRefresh, timeout, maxBytes] = process.argv.slice(2);
let errors = 0;
const gate = new mfagate.JwksGate('partner-center', {
  jwksUri,
  ttlSeconds: Number(ttl),
  minRefreshSeconds: Number(minRefresh),
  timeoutSeconds: Number(timeout),
  maxBytes: Number(maxBytes),
  onError: (e) => {
    errors += 1;
    if (e?.code !== 'jwks_fetch_failed') console.error('unexpected onError', e);
  },
});

const known = () => ({
  fetches: gate.fetchCount,
  kids: gate.hasKeys ? [...gate.gate.keyIds].filter(Boolean).sort() : null,
});

const app = express();
app.disable('x-powered-by');
app.get('/_chaos/state', (req, res) => res.json({ ...known(), warnings: errors }));
app.use(mfagate.express({ gate }));
app.get('/v1/customers', (req, res) => res.json({ handler: true, reason: req.mfagate.reason, ...known() }));
app.use((err, req, res, next) => {
  console.error('middleware error', err);
  res.status(500).json({ error: String(err) });
});
process.on('unhandledRejection', (e) => { console.error('unhandledRejection', e); process.exit(70); });
app.listen(Number(port), '127.0.0.1');
