'use strict';
// Issue 18, item 1 (binding side): each middleware passes the host its
// framework routes on, raw, so a host-scoped MFA route cannot be bypassed by a
// spelling of the host the framework still reads as the admin host, by a
// trusted X-Forwarded-Host, or by HTTP/2's :authority (no Host header).
// Real Express 4 and 5, Fastify (HTTP/1.1 and h2c HTTP/2 with node:http2 as
// the client) and Hono on @hono/node-server, real requests on 127.0.0.1.
const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const http2 = require('node:http2');
const express4 = require('express');
const express5 = require('express5');
const Fastify = require('fastify');
const { Hono } = require('hono');
const { createAdaptorServer } = require('@hono/node-server');
const mfagate = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close } = require('./servers.js');

const ADMIN = 'admin.contoso.example';
const POLICY = {
  builtin: 'partner-center',
  overrides: {
    token: { partner_tenants: [h.TENANT] },
    routes: { admin: { paths: ['/**'], hosts: [ADMIN], mfa: true } },
  },
};
const gate = new mfagate.Gate(POLICY, { keys: [h.JWK1] });
const now = () => h.NOW;
const MFA = `Bearer ${h.signRS256(h.claims())}`;
const PWD = `Bearer ${h.signRS256(h.claims({ amr: ['pwd'] }))}`;

/** DNS names compare without case and without the root's trailing dot. */
const sameName = (a, b) => typeof a === 'string' && a.toLowerCase().replace(/\.$/, '') === b;

// Host header spellings every router here reads as the admin host. The first
// three the core reads already; the junk-port ones need the core's reading of
// hosts under every router's rule (issue 18 item 1, core side).
const SPELLINGS = [ADMIN, `${ADMIN}:8443`, `ADMIN.Contoso.Example.`];
const JUNK_PORTS = [`${ADMIN}:x`, `${ADMIN}:443:443`, `${ADMIN}:443:`];

/** One HTTP/1.1 request with headers (Host included) exactly as given. */
function get(base, path, headers) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, headers, setHost: !('host' in headers) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP/2 request over a real h2c connection; `:authority` as given, no Host header. */
function get2(base, path, authority, headers = {}) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(base);
    session.on('error', reject);
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': authority, ...headers });
    let status = 0;
    const chunks = [];
    req.on('response', (hd) => {
      status = hd[':status'];
    });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', (e) => {
      session.destroy();
      reject(e);
    });
    req.end();
  });
}

/**
 * The property for one request the framework routes to the admin host: with
 * an MFA token the app answers and reports the admin host (so the framework
 * did read the admin host); without MFA the gate refuses (401 mfa_required).
 */
async function refusedOnAdmin(send, label) {
  const ok = await send(MFA);
  assert.equal(ok.status, 200, `${label}: MFA token: ${ok.body}`);
  const seen = JSON.parse(ok.body);
  assert.ok(sameName(seen.hostname, ADMIN), `${label}: the framework routed on ${JSON.stringify(seen.hostname)}, not the admin host`);
  assert.equal(seen.rule, 'admin', `${label}: decided under ${seen.rule}`);
  const no = await send(PWD);
  assert.equal(no.status, 401, `${label}: a token without MFA was let through (${no.body})`);
  assert.equal(JSON.parse(no.body).reason, 'mfa_required', label);
}

/** The control: another host is decided under the default rule (allowed without MFA). */
async function allowedElsewhere(send, label, hostname = 'www.contoso.example') {
  const r = await send(PWD);
  assert.equal(r.status, 200, `${label}: ${r.body}`);
  const seen = JSON.parse(r.body);
  assert.ok(sameName(seen.hostname, hostname), `${label}: ${seen.hostname}`);
  assert.equal(seen.rule, 'default', label);
}

for (const [name, express] of [
  ['Express 4', express4],
  ['Express 5', express5],
]) {
  describe(`${name}: the host req.hostname reads`, () => {
    function app(trustProxy) {
      const a = express();
      if (trustProxy !== undefined) a.set('trust proxy', trustProxy);
      a.use(mfagate.express({ gate, now }));
      a.use((req, res) => res.json({ hostname: req.hostname, rule: req.mfagate.rule }));
      return a;
    }
    async function withServer(trustProxy, fn) {
      const server = http.createServer(app(trustProxy));
      const base = await listen(server);
      try {
        await fn(base);
      } finally {
        await close(server);
      }
    }

    test('Host header spellings of the admin host', () =>
      withServer(undefined, async (base) => {
        for (const host of SPELLINGS) await refusedOnAdmin((auth) => get(base, '/settings', { host, authorization: auth }), host);
        await allowedElsewhere((auth) => get(base, '/settings', { host: 'www.contoso.example', authorization: auth }), 'www');
      }));

    test('Host header with a junk port (needs the core change)', () =>
      withServer(undefined, async (base) => {
        for (const host of JUNK_PORTS) await refusedOnAdmin((auth) => get(base, '/settings', { host, authorization: auth }), host);
      }));

    test('X-Forwarded-Host under trust proxy is the host', () =>
      withServer('loopback', async (base) => {
        const via = (xfh) => (auth) => get(base, '/settings', { host: `127.0.0.1`, 'x-forwarded-host': xfh, authorization: auth });
        await refusedOnAdmin(via(ADMIN), `X-Forwarded-Host: ${ADMIN}`);
        await refusedOnAdmin(via(`${ADMIN}:8443`), 'X-Forwarded-Host with a port');
        // the first comma-separated value, as req.hostname takes it
        await refusedOnAdmin(via(`${ADMIN}, www.contoso.example`), 'X-Forwarded-Host list');
        await allowedElsewhere(via('www.contoso.example'), 'X-Forwarded-Host: www');
      }));

    test('under trust proxy, a Host the app may route on (vhost reads Host) still counts', () =>
      withServer(true, async (base) => {
        const r = await get(base, '/settings', { host: ADMIN, 'x-forwarded-host': 'www.contoso.example', authorization: PWD });
        assert.equal(r.status, 401, r.body);
        assert.equal(JSON.parse(r.body).reason, 'mfa_required');
      }));

    test('without trust proxy, X-Forwarded-Host is not read', () =>
      withServer(undefined, async (base) => {
        await allowedElsewhere((auth) => get(base, '/settings', { host: 'www.contoso.example', 'x-forwarded-host': ADMIN, authorization: auth }), 'untrusted XFH');
      }));
  });
}

describe('Fastify: the host request.host and the router read', () => {
  async function withApp(options, fn) {
    const app = Fastify(options);
    await app.register(mfagate.fastify, { gate, now });
    // Host-constrained route: Fastify's router dispatches it on Host || :authority.
    app.get('/settings', { constraints: { host: ADMIN } }, async (request) => ({ hostname: request.hostname, rule: request.mfagate.rule, route: 'admin' }));
    app.get('/settings', async (request) => ({ hostname: request.hostname, rule: request.mfagate.rule }));
    app.get('/*', async (request) => ({ hostname: request.hostname, rule: request.mfagate.rule }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await fn(base);
    } finally {
      await app.close();
    }
  }

  test('HTTP/1.1 Host header spellings of the admin host', () =>
    withApp({}, async (base) => {
      for (const host of SPELLINGS) await refusedOnAdmin((auth) => get(base, '/settings', { host, authorization: auth }), host);
      await allowedElsewhere((auth) => get(base, '/settings', { host: 'www.contoso.example', authorization: auth }), 'www');
    }));

  test('HTTP/1.1 Host header with a junk port (needs the core change)', () =>
    withApp({}, async (base) => {
      for (const host of JUNK_PORTS) await refusedOnAdmin((auth) => get(base, '/settings', { host, authorization: auth }), host);
    }));

  test('HTTP/2 (h2c): :authority is the host, there is no Host header', () =>
    withApp({ http2: true }, async (base) => {
      const r = await get2(base, '/settings', ADMIN, { authorization: MFA });
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body).route, 'admin', 'Fastify routed to the host-constrained route');
      for (const authority of [ADMIN, `${ADMIN}:8443`]) {
        await refusedOnAdmin((auth) => get2(base, '/settings', authority, { authorization: auth }), `:authority ${authority}`);
        const no = await get2(base, '/other', authority, { authorization: PWD });
        assert.equal(no.status, 401, `:authority ${authority}, /other: ${no.body}`);
      }
      await allowedElsewhere((auth) => get2(base, '/settings', 'www.contoso.example', { authorization: auth }), 'h2 www');
    }));

  test('X-Forwarded-Host under trustProxy is the host', () =>
    withApp({ trustProxy: '127.0.0.1' }, async (base) => {
      const via = (xfh) => (auth) => get(base, '/other', { host: '127.0.0.1', 'x-forwarded-host': xfh, authorization: auth });
      await refusedOnAdmin(via(ADMIN), `X-Forwarded-Host: ${ADMIN}`);
      // request.host takes the last value
      await refusedOnAdmin(via(`www.contoso.example, ${ADMIN}`), 'X-Forwarded-Host list');
      await allowedElsewhere(via('www.contoso.example'), 'X-Forwarded-Host: www');
    }));

  test('under trustProxy, the Host the router dispatches on still counts', () =>
    withApp({ trustProxy: true }, async (base) => {
      const r = await get(base, '/settings', { host: ADMIN, 'x-forwarded-host': 'www.contoso.example', authorization: PWD });
      assert.equal(r.status, 401, r.body);
      assert.equal(JSON.parse(r.body).reason, 'mfa_required');
    }));

  test('without trustProxy, X-Forwarded-Host is not read', () =>
    withApp({}, async (base) => {
      await allowedElsewhere((auth) => get(base, '/other', { host: 'www.contoso.example', 'x-forwarded-host': ADMIN, authorization: auth }), 'untrusted XFH');
    }));
});

describe('Hono on @hono/node-server: the host of the request URL', () => {
  async function withApp(fn) {
    const handle = mfagate.handler({ gate, now });
    const app = new Hono();
    app.use(async (c, next) => {
      const refusal = await handle(c.req.raw);
      if (refusal) return refusal;
      await next();
    });
    app.all('*', (c) => c.json({ hostname: new URL(c.req.url).hostname, rule: mfagate.decisionOf(c.req.raw).rule }));
    const server = createAdaptorServer({ fetch: app.fetch });
    const base = await listen(server);
    try {
      await fn(base);
    } finally {
      await close(server);
    }
  }

  test('Host header spellings of the admin host', () =>
    withApp(async (base) => {
      for (const host of SPELLINGS) await refusedOnAdmin((auth) => get(base, '/settings', { host, authorization: auth }), host);
      await allowedElsewhere((auth) => get(base, '/settings', { host: 'www.contoso.example', authorization: auth }), 'www');
    }));

  test('an absolute-form target: the URL, not the Host header, is routed on', () =>
    withApp(async (base) => {
      await refusedOnAdmin((auth) => get(base, `http://${ADMIN}/settings`, { host: 'www.contoso.example', authorization: auth }), 'absolute-form');
    }));
});
