'use strict';
// Two credentials are refused, never one picked: Node's req.headers keeps
// only the first Authorization line, so the middleware must read every line
// (issue 8 item 9). Real Express and Fastify servers, raw HTTP on 127.0.0.1.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const express = require('express');
const Fastify = require('fastify');
const mfagate = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close } = require('./servers.js');

const gate = new mfagate.Gate('partner-center', { keys: [h.JWK1] });
const now = () => h.NOW;
const MFA = h.signRS256(h.claims());
const PWD = h.signRS256(h.claims({ amr: ['pwd'] }));

/** Sends a request with exactly these header lines; resolves to { status, body }. */
function send(base, lines) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname, () => {
      s.end(['GET /v1/customers HTTP/1.1', `Host: ${hostname}:${port}`, 'Connection: close', ...lines, '', ''].join('\r\n'));
    });
    let out = '';
    s.on('data', (b) => (out += b));
    s.on('end', () => {
      const [head, body] = out.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    s.on('error', reject);
  });
}

async function servers(t) {
  const app = express();
  app.use(mfagate.express({ gate, now }));
  app.get('/v1/customers', (req, res) => res.json({ reached: true }));
  const e = require('node:http').createServer(app);
  const fa = Fastify();
  await fa.register(mfagate.fastify, { gate, now });
  fa.get('/v1/customers', async () => ({ reached: true }));
  const bases = { express: await listen(e), fastify: await fa.listen({ port: 0, host: '127.0.0.1' }) };
  t.after(async () => {
    await close(e);
    await fa.close();
  });
  return bases;
}

test('two Authorization header lines are refused as credential_ambiguous, in Express and Fastify', async (t) => {
  for (const [name, base] of Object.entries(await servers(t))) {
    // The MFA token first: reading only the first line would let it through.
    const r = await send(base, [`Authorization: Bearer ${MFA}`, `Authorization: Bearer ${PWD}`]);
    assert.equal(r.status, 400, `${name}: ${r.body}`);
    assert.equal(JSON.parse(r.body).reason, 'credential_ambiguous', name);
    const one = await send(base, [`Authorization: Bearer ${MFA}`]);
    assert.equal(one.status, 200, `${name}: one credential is fine`);
    assert.deepEqual(JSON.parse(one.body), { reached: true });
  }
});

test('sessionCookie: every cookie of the name, joined; the core refuses two', () => {
  assert.equal(mfagate.sessionCookie({ headers: { cookie: 'a=1; id_token=x' } }, 'id_token'), 'x');
  assert.equal(mfagate.sessionCookie({ headers: { cookie: 'id_token=x; id_token=y' } }, 'id_token'), 'x, y');
  assert.equal(mfagate.sessionCookie({ headers: new Headers({ cookie: 'id_token=z' }) }, 'id_token'), 'z');
  assert.equal(mfagate.sessionCookie({ headers: {} }, 'id_token'), null);
  const d = gate.evaluate({ path: '/commerce/customers', token: mfagate.sessionCookie({ headers: { cookie: `id_token=${MFA}; id_token=${MFA}` } }, 'id_token'), now: h.NOW });
  assert.equal(d.reason, 'credential_ambiguous');
});
