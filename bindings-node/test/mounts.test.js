'use strict';
// The gate decides on the path the application routes on: relative to an
// Express mount, after URL rewrites (Express middleware, Fastify rewriteUrl).
// Real servers on 127.0.0.1, real HTTP requests, real signed tokens.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const express = require('express');
const Fastify = require('fastify');
const mfagate = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close } = require('./servers.js');

const gate = new mfagate.Gate('partner-center', { keys: [h.JWK1] });
const now = () => h.NOW;
const MFA = h.signRS256(h.claims());
const PWD = h.signRS256(h.claims({ amr: ['pwd'] }));

/** GET base+path with an App+User token whose amr is only pwd, then with MFA. */
async function checkCustomers(base, path, reached) {
  let r = await fetch(base + path, { headers: { authorization: `Bearer ${PWD}` } });
  assert.equal(r.status, 401, `${path} without MFA: ${await r.clone().text()}`);
  assert.equal(r.statusText, 'Unauthorized - MFA required');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  assert.equal((await r.json()).reason, 'mfa_required');
  assert.deepEqual(reached, [], `${path} without MFA never reaches the handler`);

  r = await fetch(base + path, { headers: { authorization: `Bearer ${MFA}` } });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { reason: 'mfa_satisfied', rule: 'api' });
  assert.equal(reached.length, 1);
}

async function serve(t, app) {
  const server = http.createServer(app);
  const base = await listen(server);
  t.after(() => close(server));
  return base;
}

test('Express: a gate mounted with its router decides on the path relative to the mount', async (t) => {
  const reached = [];
  const router = express.Router();
  router.get('/v1/customers', (req, res) => {
    reached.push(req.originalUrl);
    res.json({ reason: req.mfagate.reason, rule: req.mfagate.rule });
  });
  const app = express();
  app.use('/api', mfagate.express({ gate, now }), router);
  await checkCustomers(await serve(t, app), '/api/v1/customers', reached);
  assert.deepEqual(reached, ['/api/v1/customers']);
});

test('Express: a URL rewrite before the gate is decided on the rewritten path', async (t) => {
  const reached = [];
  const app = express();
  app.use((req, res, next) => {
    if (req.url.startsWith('/legacy/customers')) req.url = `/v1/customers${req.url.slice('/legacy/customers'.length)}`;
    next();
  });
  app.use(mfagate.express({ gate, now }));
  app.get('/v1/customers', (req, res) => {
    reached.push(req.originalUrl);
    res.json({ reason: req.mfagate.reason, rule: req.mfagate.rule });
  });
  await checkCustomers(await serve(t, app), '/legacy/customers?x=1', reached);
  assert.deepEqual(reached, ['/legacy/customers?x=1']);
});

test('Fastify: a rewriteUrl server option is decided on the rewritten path', async (t) => {
  const reached = [];
  const app = Fastify({
    rewriteUrl: (req) => (req.url.startsWith('/legacy/customers') ? `/v1/customers${req.url.slice('/legacy/customers'.length)}` : req.url),
  });
  await app.register(mfagate.fastify, { gate, now });
  app.get('/v1/customers', async (request) => {
    reached.push(request.originalUrl);
    return { reason: request.mfagate.reason, rule: request.mfagate.rule };
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  await checkCustomers(base, '/legacy/customers?x=1', reached);
  assert.deepEqual(reached, ['/legacy/customers?x=1']);
});

test('Fastify: routes under a register prefix are decided on the full path', async (t) => {
  const reached = [];
  const app = Fastify();
  await app.register(mfagate.fastify, { gate, now });
  await app.register(
    async (scope) => {
      scope.get('/customers', async (request) => {
        reached.push(request.url);
        return { reason: request.mfagate.reason, rule: request.mfagate.rule };
      });
    },
    { prefix: '/v1' },
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  await checkCustomers(base, '/v1/customers', reached);
});
