'use strict';
// The middleware against real servers on 127.0.0.1 and real HTTP requests.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const express = require('express');
const Fastify = require('fastify');
const mfagate = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close, webServer, jwksServer } = require('./servers.js');

const POLICY = { builtin: 'partner-center', overrides: { token: { partner_tenants: [h.TENANT] }, roles: { app_roles: { admin_agent: ['AdminAgent'] } } } };
const gate = new mfagate.Gate(POLICY, { keys: [h.JWK1] });
const now = () => h.NOW;
const sessionToken = (req) => {
  const headers = req.headers;
  const cookie = typeof headers.get === 'function' ? headers.get('cookie') : headers.cookie;
  return /(?:^|;\s*)session=([^;]+)/.exec(cookie ?? '')?.[1] ?? null;
};

const MFA = h.signRS256(h.claims());
const PWD = h.signRS256(h.claims({ amr: ['pwd'] }));
const PAGE_PWD = h.signRS256(h.claims({ amr: ['pwd'], roles: ['AdminAgent'] }));
const PAGE_MFA = h.signRS256(h.claims({ roles: ['AdminAgent'] }));

/** The exact answers every middleware must give (from the core's decisions). */
async function checkServer(base) {
  const get = (path, headers = {}) => fetch(base + path, { headers, redirect: 'manual' });

  let r = await get('/v1/customers');
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await r.json()).reason, 'no_credential');

  r = await get('/v1/customers', { authorization: `Bearer ${PWD}` });
  assert.equal(r.status, 401);
  assert.equal(r.statusText, 'Unauthorized - MFA required');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  assert.match(r.headers.get('content-type'), /^application\/json/);
  const body = await r.text();
  assert.equal(body, gate.evaluate({ path: '/v1/customers', authorization: `Bearer ${PWD}`, now: h.NOW }).http.body);

  r = await get('/v1/customers', { authorization: `Bearer ${MFA}` });
  assert.equal(r.status, 200);
  const seen = await r.json();
  assert.equal(seen.reason, 'mfa_satisfied');
  assert.equal(seen.outcome, 'allow');
  assert.equal(seen.subject.user, 'admin@contoso.example');

  r = await get('/v1/customers', { authorization: `Bearer ${MFA.slice(0, -4)}AAAA` });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Bearer error="invalid_token", error_description="/);

  r = await get('/commerce/customers?tab=1');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/.auth/login/aad?return_to=/commerce/customers%3Ftab%3D1');
  assert.equal(await r.text(), '');

  r = await get('/commerce/customers', { cookie: `session=${PAGE_PWD}` });
  assert.equal(r.status, 302);
  assert.match(r.headers.get('location'), /prompt=login&amr_values=mfa&return_to=\/commerce\/customers$/);

  r = await get('/commerce/customers', { cookie: `session=${PAGE_MFA}` });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).reason, 'mfa_satisfied');

  r = await get('/commerce/customers', { cookie: `session=${MFA}` });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).reason, 'role_not_permitted');

  r = await get('/commerce/customers', { cookie: `session=${PAGE_MFA}`, authorization: `Bearer ${MFA}` });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).reason, 'credential_ambiguous');

  r = await get('/overview', { authorization: `Bearer ${PWD}` });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).reason, 'mfa_not_required');
}

function expressApp(g, extra = {}) {
  const app = express();
  app.use(mfagate.express({ gate: g, token: sessionToken, now, ...extra }));
  app.get('*', (req, res) => res.json(req.mfagate));
  return app;
}

test('Express middleware', async () => {
  const server = http.createServer(expressApp(gate));
  const base = await listen(server);
  try {
    await checkServer(base);
  } finally {
    await close(server);
  }
});

test('Express middleware with evaluateAsync', async () => {
  const server = http.createServer(expressApp(gate, { async: true }));
  const base = await listen(server);
  try {
    await checkServer(base);
  } finally {
    await close(server);
  }
});

test('Express middleware passes misuse to the error handler', async () => {
  const app = express();
  app.use(mfagate.express({ gate, token: () => 42 }));
  app.get('*', (req, res) => res.send('unreachable'));
  app.use((err, req, res, next) => res.status(500).json({ name: err.name, code: err.code }));
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    const r = await fetch(`${base}/v1/x`);
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { name: 'UsageError', code: 'request_invalid' });
  } finally {
    await close(server);
  }
});

test('Fastify plugin', async () => {
  const app = Fastify();
  await app.register(mfagate.fastify, { gate, token: sessionToken, now });
  app.get('/*', async (request) => request.mfagate);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await checkServer(base);
  } finally {
    await app.close();
  }
});

test('Fastify plugin in an encapsulated context still guards its routes', async () => {
  const app = Fastify();
  await app.register(async (scope) => {
    await scope.register(mfagate.fastify, { gate, now });
    scope.get('/v1/inside', async (request) => request.mfagate.reason);
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.equal((await fetch(`${base}/v1/inside`)).status, 401);
    assert.equal(await (await fetch(`${base}/v1/inside`, { headers: { authorization: `Bearer ${MFA}` } })).text(), 'mfa_satisfied');
  } finally {
    await app.close();
  }
});

test('Web-standard handler behind a fetch-style server', async () => {
  const handle = mfagate.handler({ gate, token: sessionToken, now });
  const app = (request) => Response.json(mfagate.decisionOf(request));
  const server = webServer(handle, app);
  const base = await listen(server);
  try {
    await checkServer(base);
  } finally {
    await close(server);
  }
  // synchronous with a plain Gate
  const res = handle(new Request('http://127.0.0.1/v1/customers'));
  assert.ok(res instanceof Response);
  assert.equal(res.status, 401);
  const allowed = new Request('http://127.0.0.1/v1/customers', { headers: { authorization: `Bearer ${MFA}` } });
  assert.equal(handle(allowed), null);
  assert.equal(mfagate.decisionOf(allowed).reason, 'mfa_satisfied');
});

test('middleware with a JwksGate fetching keys from a local endpoint', async () => {
  const { server: js, state } = jwksServer({ keys: [h.JWK1] });
  const jwksUri = `${await listen(js)}/keys`;
  const remote = new mfagate.JwksGate(POLICY, { jwksUri, minRefreshSeconds: 0 });
  const app = http.createServer(expressApp(remote));
  const base = await listen(app);
  try {
    await checkServer(base);
    assert.equal(state.hits, 1);
    // rotation: the endpoint now serves key 2; a token signed with it triggers one refetch
    state.jwks = { keys: [h.JWK2] };
    const tok2 = h.signRS256(h.claims(), { key: h.RSA2, kid: 'rsa-2' });
    const r = await fetch(`${base}/v1/x`, { headers: { authorization: `Bearer ${tok2}` } });
    assert.equal(r.status, 200);
    assert.equal(state.hits, 2);
  } finally {
    await close(app);
    await close(js);
  }
});

test('middleware options are checked', () => {
  assert.throws(() => mfagate.express({}), TypeError);
  assert.throws(() => mfagate.handler({ gate, token: 'cookie' }), TypeError);
});

test('a JWKS endpoint that is down: the middleware answers the core decision (503 keys_unavailable)', async () => {
  const { server: js } = jwksServer({ keys: [h.JWK1] });
  const jwksUri = `${await listen(js)}/keys`;
  await close(js);
  const remote = new mfagate.JwksGate(POLICY, { jwksUri, timeoutSeconds: 0.5 });
  const app = http.createServer(expressApp(remote));
  const base = await listen(app);
  try {
    const r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${MFA}` } });
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('www-authenticate'), null, 'the user is not challenged to sign in again');
    assert.match(r.headers.get('retry-after'), /^\d+$/);
    assert.equal((await r.json()).reason, 'keys_unavailable');
    assert.equal(remote.lastError?.code, 'jwks_fetch_failed');
  } finally {
    await close(app);
  }
});

test('the Web handler with a JwksGate returns a Promise', async () => {
  const { server: js, state } = jwksServer({ keys: [h.JWK1] });
  const jwksUri = `${await listen(js)}/keys`;
  try {
    const handle = mfagate.handler({ gate: new mfagate.JwksGate(POLICY, { jwksUri }), now });
    const allowed = new Request('http://127.0.0.1/v1/customers', { headers: { authorization: `Bearer ${MFA}` } });
    const p = handle(allowed);
    assert.ok(p instanceof Promise);
    assert.equal(await p, null);
    assert.equal(mfagate.decisionOf(allowed).reason, 'mfa_satisfied');
    const refused = await handle(new Request('http://127.0.0.1/v1/customers', { headers: { authorization: `Bearer ${PWD}` } }));
    assert.equal(refused.status, 401);
    assert.equal(refused.statusText, 'Unauthorized - MFA required');
    assert.equal(state.hits, 1);
  } finally {
    await close(js);
  }
});

// ValidateMfa: true on an allowed API call under the 2026 rules: the app's response carries isMfaCompliant.
const POLICY_2026 = { builtin: 'partner-center-2026', overrides: { token: { partner_tenants: [h.TENANT] } } };
const gate2026 = new mfagate.Gate(POLICY_2026, { keys: [h.JWK1] });
const APP_ONLY = h.signRS256(h.claims({ amr: undefined, scp: undefined, upn: undefined, sub: h.OID, appidacr: '1', roles: ['Partner.ReadWrite.All'] }));

/** The answers of an app behind the middleware under partner-center-2026 (its route answers `{ reason, app: true }`). */
async function checkValidateMfa(base, path = '/v1/customers') {
  const get = (headers) => fetch(base + path, { headers, redirect: 'manual' });
  const compliant = (r) => r.headers.get('ismfacompliant');

  let r = await get({ authorization: `Bearer ${MFA}`, ValidateMfa: 'true' });
  assert.equal(r.status, 200);
  assert.equal(compliant(r), 'true');
  assert.deepEqual(await r.json(), { reason: 'mfa_satisfied', app: true }, 'the app answered');

  r = await get({ authorization: `Bearer ${MFA}`, validatemfa: 'TRUE' });
  assert.equal(compliant(r), 'true', 'the value in any case');

  r = await get({ authorization: `Bearer ${APP_ONLY}`, ValidateMfa: 'true' });
  assert.equal(r.status, 200);
  assert.equal(compliant(r), 'false');
  assert.equal((await r.json()).app, true);

  for (const headers of [{}, { ValidateMfa: 'false' }, { ValidateMfa: 'yes' }, { ValidateMfa: '' }]) {
    r = await get({ authorization: `Bearer ${MFA}`, ...headers });
    assert.equal(r.status, 200);
    assert.equal(compliant(r), null, JSON.stringify(headers));
    await r.arrayBuffer();
  }

  r = await get({ authorization: `Bearer ${PWD}`, ValidateMfa: 'true' });
  assert.equal(r.status, 401);
  assert.equal(compliant(r), null, 'a refusal carries none');
  assert.equal(JSON.parse(await r.text()).code, 900421);
}

test('ValidateMfa through Express: isMfaCompliant on the app\'s response (sync and async)', async () => {
  for (const extra of [{}, { async: true }]) {
    const app = express();
    app.use(mfagate.express({ gate: gate2026, now, ...extra }));
    app.get('/v1/customers', (req, res) => res.json({ reason: req.mfagate.reason, app: true }));
    const server = http.createServer(app);
    const base = await listen(server);
    try {
      await checkValidateMfa(base);
    } finally {
      await close(server);
    }
  }
});

test('ValidateMfa through Fastify: isMfaCompliant on the reply', async () => {
  const app = Fastify();
  await app.register(mfagate.fastify, { gate: gate2026, now });
  app.get('/v1/customers', async (request) => ({ reason: request.mfagate.reason, app: true }));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await checkValidateMfa(base);
  } finally {
    await app.close();
  }
});

test('ValidateMfa through the Web handler: withDecisionHeaders puts isMfaCompliant on the app\'s Response, also an immutable one', async () => {
  const upstream = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: true })));
  const upstreamBase = await listen(upstream);
  const handle = mfagate.handler({ gate: gate2026, now });
  const app = async (request) => {
    const d = mfagate.decisionOf(request);
    if (new URL(request.url).pathname === '/v1/proxied') {
      const proxied = await fetch(`${upstreamBase}/`);
      assert.throws(() => proxied.headers.set('x', 'y'), TypeError, 'a Response from fetch() has immutable headers');
      const out = mfagate.withDecisionHeaders(request, proxied);
      if (d.http.headers.length > 0) assert.notEqual(out, proxied, 'a copy with the headers');
      else assert.equal(out, proxied, 'nothing to add: the same Response');
      const body = await out.json();
      return Response.json({ reason: d.reason, app: body.upstream }, { headers: out.headers });
    }
    const mine = Response.json({ reason: d.reason, app: true });
    assert.equal(mfagate.withDecisionHeaders(request, mine), mine, 'a Response of the app is changed in place');
    return mine;
  };
  const server = webServer(handle, app);
  const base = await listen(server);
  try {
    await checkValidateMfa(base);
    await checkValidateMfa(base, '/v1/proxied');
  } finally {
    await close(server);
    await close(upstream);
  }
  // Without a decision (the handler never saw the request): the response as it is.
  const plain = new Response('x');
  assert.equal(mfagate.withDecisionHeaders(new Request('http://127.0.0.1/'), plain), plain);
});

test('ValidateMfa with a JwksGate: the header reaches the core through evaluate', async () => {
  const { server: js } = jwksServer({ keys: [h.JWK1] });
  const jwksUri = `${await listen(js)}/keys`;
  const app = express();
  app.use(mfagate.express({ gate: new mfagate.JwksGate(POLICY_2026, { jwksUri }), now }));
  app.get('/v1/customers', (req, res) => res.json({ reason: req.mfagate.reason, app: true }));
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    await checkValidateMfa(base);
  } finally {
    await close(server);
    await close(js);
  }
});
