'use strict';
// Normalisation must never move a request into a less-protective rule, and a
// route limited to GET also governs HEAD (which Express and Fastify serve with
// the GET route). Real Express and Fastify routers on 127.0.0.1, requests
// sent with the path exactly as written (node:http), real signed tokens.
//
// These depend on the core change of issue 8 (decide under every candidate
// rule; GET routes govern HEAD): until it lands on main they fail.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const express = require('express');
const Fastify = require('fastify');
const mfagate = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close, raw } = require('./servers.js');

const API_KINDS = ['app_user', 'app_only', 'delegated_admin'];
const PUBLIC_POLICY = { builtin: 'partner-center', overrides: { routes: { public_orders: { paths: ['/v1/public/**'], mfa: false, kinds: API_KINDS } } } };
const HEAD_POLICY = { builtin: 'partner-center', overrides: { routes: { reports: { paths: ['/reports/**'], methods: ['GET'], mfa: true, kinds: API_KINDS } } } };
const now = () => h.NOW;
const MFA = h.signRS256(h.claims());
const PWD = h.signRS256(h.claims({ amr: ['pwd'] }));
const bearer = (t) => ({ authorization: `Bearer ${t}` });

/** Paths that a router sends to /v1/:id/orders (or that normalise to /v1/public/...). */
const VARIANTS = ['/v1/PUBLIC/orders', '/v1/public;x/orders', '/v1/public\\x/orders', '/v1/%70ublic/orders'];

function expressServer(policy, routes) {
  const app = express();
  app.use(mfagate.express({ gate: new mfagate.Gate(policy, { keys: [h.JWK1] }), now }));
  routes((path, fn) => app.get(path, (req, res) => res.json(fn(req.url, req.params, req.mfagate))));
  return app;
}

async function fastifyServer(policy, routes) {
  const app = Fastify();
  await app.register(mfagate.fastify, { gate: new mfagate.Gate(policy, { keys: [h.JWK1] }), now });
  routes((path, fn) => app.get(path, async (request) => fn(request.url, request.params, request.mfagate)));
  return app;
}

const FRAMEWORKS = {
  async Express(t, policy, routes) {
    const server = http.createServer(expressServer(policy, routes));
    const base = await listen(server);
    t.after(() => close(server));
    return base;
  },
  async Fastify(t, policy, routes) {
    const app = await fastifyServer(policy, routes);
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => app.close());
    return base;
  },
};

/** The routes /v1/public/orders (public) and /v1/:id/orders (records that it was reached). */
function orders(seen) {
  return (route) => {
    route('/v1/public/orders', (url, params, d) => ({ handler: 'public', outcome: d.outcome, reason: d.reason }));
    route('/v1/:id/orders', (url, params, d) => {
      seen.push({ url, id: params.id, reason: d.reason });
      return { handler: 'id', id: params.id, outcome: d.outcome, reason: d.reason };
    });
  };
}

const refusedMfa = (r, what) => {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.body}`);
  assert.equal(r.statusText, 'Unauthorized - MFA required', what);
  assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"', what);
  assert.equal(JSON.parse(r.body).reason, 'mfa_required', what);
};

for (const [name, start] of Object.entries(FRAMEWORKS)) {
  for (const path of VARIANTS) {
    test(`${name}: ${path} without MFA never reaches /v1/:id/orders (Partner Center's 401)`, async (t) => {
      const seen = [];
      const base = await start(t, PUBLIC_POLICY, orders(seen));
      const r = await raw(base, path, { headers: bearer(PWD) });
      assert.deepEqual(seen, [], `${path} reached the :id handler: ${r.body}`);
      refusedMfa(r, path);
    });
  }

  test(`${name}: /v1/public/orders without MFA reaches the public handler`, async (t) => {
    const seen = [];
    const base = await start(t, PUBLIC_POLICY, orders(seen));
    const r = await raw(base, '/v1/public/orders', { headers: bearer(PWD) });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { handler: 'public', outcome: 'allow', reason: 'mfa_not_required' });
    assert.deepEqual(seen, []);
    // and another id is the API rule: MFA required
    refusedMfa(await raw(base, '/v1/contoso/orders', { headers: bearer(PWD) }), '/v1/contoso/orders');
    assert.deepEqual(seen, []);
  });

  test(`${name}: /v1/PUBLIC/orders with an MFA token is allowed`, async (t) => {
    const seen = [];
    const base = await start(t, PUBLIC_POLICY, orders(seen));
    const r = await raw(base, '/v1/PUBLIC/orders', { headers: bearer(MFA) });
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).outcome, 'allow');
  });

  test(`${name}: HEAD on a GET-only MFA route is refused without MFA`, async (t) => {
    const seen = [];
    const base = await start(t, HEAD_POLICY, (route) => {
      route('/reports/daily', (url, params, d) => {
        seen.push(d.reason);
        return { reason: d.reason };
      });
    });
    // GET without MFA: refused (the route's own method)
    refusedMfa(await raw(base, '/reports/daily', { headers: bearer(PWD) }), 'GET');
    assert.deepEqual(seen, []);
    // HEAD without MFA: the framework serves it with the GET route, so it must be refused too
    const head = await raw(base, '/reports/daily', { method: 'HEAD', headers: bearer(PWD) });
    assert.deepEqual(seen, [], `HEAD reached the GET handler (${head.status})`);
    assert.equal(head.status, 401);
    assert.equal(head.statusText, 'Unauthorized - MFA required');
    assert.equal(head.headers['www-authenticate'], 'Bearer error="invalid_token"');
    // with MFA both pass
    assert.equal((await raw(base, '/reports/daily', { method: 'HEAD', headers: bearer(MFA) })).status, 200);
    assert.deepEqual(seen, ['mfa_satisfied']);
  });
}
