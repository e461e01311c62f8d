// JwksCache against local Entra-shaped endpoints on 127.0.0.1: the source as
// an OpenID configuration URL or an authority (discovery), keys with an
// `issuer` member, and the fetch rules the core's Refresher sets (one fetch in
// flight, the size limit while reading). Tokens are RS256, verified by
// WebCrypto. Run with `node --test tests/discovery.test.mjs`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as m from '../pkg/node.mjs';
import { jwt, jwks, keys, makeClaims, TENANT, NOW } from './tokens.mjs';

const OTHER = '0b1c2d3e-4444-4555-8666-977788899900';
const V2 = (t) => `https://login.microsoftonline.com/${t}/v2.0`;
const V1 = (t) => `https://sts.windows.net/${t}/`;
const base = makeClaims(NOW).appUserMfa;

/** An App+User token with MFA of tenant `tid`, in Entra's v1 or v2 shape, RS256. */
function token(tid, { v2 = false, kid = 'rsa-1', key } = {}) {
  const c = { ...base, tid, iss: v2 ? V2(tid) : V1(tid), ver: v2 ? '2.0' : '1.0' };
  return `Bearer ${jwt(c, { kid, key })}`;
}
const api = (authorization) => ({ path: '/v1/customers', authorization, now: NOW });
const rsa = jwks.keys.slice(0, 2);

/** Entra's endpoints, on 127.0.0.1: `/{tenant}/v2.0/.well-known/openid-configuration`
 * (v2), `/{tenant}/.well-known/openid-configuration` (v1), their key sets, and
 * whatever `routes` adds. Records every path asked for. */
async function entra(routes = {}) {
  const s = { paths: [], routes, keys: { keys: rsa } };
  const srv = createServer((req, res) => {
    s.paths.push(req.url);
    const json = (v, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    const route = s.routes[req.url];
    if (route) return route(req, res, json);
    let hit;
    if ((hit = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(req.url))) {
      const t = hit[1];
      return json({
        token_endpoint: `${s.url}/${t}/oauth2/v2.0/token`,
        jwks_uri: `${s.url}/${t}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        issuer: V2(t === 'common' || t === 'organizations' ? '{tenantid}' : t),
        authorization_endpoint: `${s.url}/${t}/oauth2/v2.0/authorize`,
        tenant_region_scope: null,
        cloud_instance_name: 'microsoftonline.com',
      });
    }
    if ((hit = /^\/([^/]+)\/\.well-known\/openid-configuration$/.exec(req.url))) {
      const t = hit[1];
      return json({
        token_endpoint: `${s.url}/${t}/oauth2/token`,
        jwks_uri: `${s.url}/${t}/discovery/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
        issuer: V1(t === 'common' ? '{tenantid}' : t),
        authorization_endpoint: `${s.url}/${t}/oauth2/authorize`,
        cloud_instance_name: 'microsoftonline.com',
      });
    }
    if (/\/discovery\/(v2\.0\/)?keys$/.test(req.url)) return json(s.keys);
    res.writeHead(404).end('not found');
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${srv.address().port}`;
  s.close = () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); });
  return s;
}

async function decide(gate, authorization) {
  const d = await gate.evaluate(api(authorization));
  return [d.outcome, d.reason];
}
const ALLOW = ['allow', 'mfa_satisfied'];

test('an authority (…/common/v2.0): the configuration, then its jwks_uri; {tenantid}: tokens of any tenant pass', async () => {
  const s = await entra();
  try {
    const cache = new m.JwksCache(`${s.url}/common/v2.0`);
    assert.equal(cache.jwksUrl, null, 'not known before the configuration');
    const gate = new m.JwksGate('partner-center', cache);
    assert.deepEqual(await decide(gate, token(TENANT)), ALLOW);
    assert.deepEqual(await decide(gate, token(TENANT, { v2: true })), ALLOW);
    assert.deepEqual(await decide(gate, token(OTHER, { v2: true })), ALLOW);
    assert.deepEqual(await decide(gate, token(OTHER)), ALLOW);
    assert.deepEqual(s.paths, ['/common/v2.0/.well-known/openid-configuration', '/common/discovery/v2.0/keys']);
    assert.equal(cache.jwksUrl, `${s.url}/common/discovery/v2.0/keys`);
    assert.equal(cache.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
    assert.equal(cache.stats.fetches, 1, 'a configuration and its key set are one attempt');
    assert.deepEqual(JSON.parse(await cache.get()), s.keys);
  } finally {
    await s.close();
  }
});

test('a v1 configuration URL (sts.windows.net/{tenantid}/): tokens of any tenant pass', async () => {
  const s = await entra();
  try {
    const cache = new m.JwksCache(`${s.url}/common/.well-known/openid-configuration`);
    const gate = new m.JwksGate('partner-center', cache);
    assert.deepEqual(await decide(gate, token(TENANT)), ALLOW);
    assert.deepEqual(await decide(gate, token(OTHER)), ALLOW);
    assert.deepEqual(s.paths, ['/common/.well-known/openid-configuration', '/common/discovery/keys']);
    assert.equal(cache.issuer, 'https://sts.windows.net/{tenantid}/');
  } finally {
    await s.close();
  }
});

test('a tenant\'s own configuration: another tenant\'s token is refused with issuer_invalid', async () => {
  const s = await entra();
  try {
    for (const source of [`${s.url}/${TENANT}/v2.0`, `${s.url}/${TENANT}/.well-known/openid-configuration`]) {
      const gate = new m.JwksGate('partner-center', new m.JwksCache(source));
      assert.deepEqual(await decide(gate, token(TENANT)), ALLOW, source);
      assert.deepEqual(await decide(gate, token(TENANT, { v2: true })), ALLOW, source);
      const d = await gate.evaluate(api(token(OTHER, { v2: true })));
      assert.deepEqual([d.outcome, d.reason, d.http.status], ['deny', 'issuer_invalid', 401], source);
      assert.match(d.detail, /OpenID configuration/);
      assert.equal((await gate.evaluate(api(token(OTHER)))).reason, 'issuer_invalid', source);
    }
    // The same keys from their JWK Set URL carry no issuer: the other tenant's token passes.
    const plain = new m.JwksGate('partner-center', new m.JwksCache(`${s.url}/${TENANT}/discovery/v2.0/keys`));
    assert.deepEqual(await decide(plain, token(OTHER, { v2: true })), ALLOW);
  } finally {
    await s.close();
  }
});

test('keys with an issuer member: a {tenantid} key signs for any tenant, a tenant-bound key refuses another tenant (key_issuer_mismatch)', async () => {
  const s = await entra();
  s.keys = {
    keys: [
      { ...jwks.keys[0], kid: 'multi', issuer: V2('{tenantid}') },
      { ...jwks.keys[1], kid: 'bound', issuer: V2(TENANT) },
    ],
  };
  try {
    for (const source of [`${s.url}/common/discovery/v2.0/keys`, `${s.url}/common/v2.0`]) {
      const gate = new m.JwksGate('partner-center', new m.JwksCache(source));
      const multi = (tid, v2) => token(tid, { v2, kid: 'multi', key: keys.rsa1 });
      const bound = (tid, v2) => token(tid, { v2, kid: 'bound', key: keys.rsa2 });
      for (const v2 of [false, true]) {
        assert.deepEqual(await decide(gate, multi(TENANT, v2)), ALLOW, source);
        assert.deepEqual(await decide(gate, multi(OTHER, v2)), ALLOW, source);
        assert.deepEqual(await decide(gate, bound(TENANT, v2)), ALLOW, source);
        const d = await gate.evaluate(api(bound(OTHER, v2)));
        assert.deepEqual([d.outcome, d.reason], ['deny', 'key_issuer_mismatch'], `${source} v2=${v2}`);
        assert.match(d.detail, /may sign only for issuer/);
      }
      // A forged signature under the bound key is still a forgery first.
      assert.equal((await gate.evaluate(api(token(TENANT, { kid: 'bound', key: keys.rsa1 })))).reason, 'signature_invalid');
    }
  } finally {
    await s.close();
  }
});

test('a configuration that cannot be used is a failed fetch: keys_unavailable, onError, no key set fetched', async () => {
  const s = await entra({
    '/nokeys/v2.0/.well-known/openid-configuration': (req, res, json) => json({ issuer: V2('{tenantid}') }),
    '/elsewhere/v2.0/.well-known/openid-configuration': (req, res, json) => json({ issuer: V2('{tenantid}'), jwks_uri: 'http://example.com/keys' }),
    '/moved/v2.0/.well-known/openid-configuration': (req, res) => res.writeHead(301, { location: '/common/v2.0/.well-known/openid-configuration' }).end(),
    '/down/v2.0/.well-known/openid-configuration': (req, res) => res.writeHead(503).end('busy'),
    '/keysdown/v2.0/.well-known/openid-configuration': (req, res, json) => json({ issuer: V2('{tenantid}'), jwks_uri: `${s.url}/keysdown/keys` }),
    '/keysdown/keys': (req, res) => res.writeHead(500).end(),
  });
  try {
    for (const [tenant, why] of [
      ['nokeys', /is not an OpenID configuration \(it lacks jwks_uri or issuer\)/],
      ['elsewhere', /names a jwks_uri mfagate will not fetch/],
      ['moved', /answered 301 \(redirects are not followed\)/],
      ['down', /answered 503/],
      ['keysdown', /keysdown\/keys answered 500/],
    ]) {
      const errors = [];
      const before = s.paths.length;
      const cache = new m.JwksCache(`${s.url}/${tenant}/v2.0`, { onError: (e) => errors.push(e) });
      const d = await new m.JwksGate('partner-center', cache).evaluate(api(token(TENANT)));
      assert.deepEqual([d.reason, d.http.status], ['keys_unavailable', 503], tenant);
      assert.equal(errors.length, 1, tenant);
      assert.ok(errors[0] instanceof m.JwksError && errors[0].code === 'jwks_fetch_failed', tenant);
      assert.match(errors[0].message, why);
      assert.match(d.detail, why);
      const asked = s.paths.slice(before);
      assert.equal(asked[0], `/${tenant}/v2.0/.well-known/openid-configuration`);
      assert.equal(asked.length, tenant === 'keysdown' ? 2 : 1, `${tenant}: ${asked}`);
      await assert.rejects(cache.get(), (e) => e instanceof m.JwksError && e.code === 'jwks_fetch_failed' && why.test(e.message));
      assert.equal(s.paths.length, before + asked.length, `${tenant}: no second attempt within minRefreshSeconds`);
    }
  } finally {
    await s.close();
  }
});

test('the TTL refetches the configuration too; a failure then keeps the keys and the issuer', async () => {
  let clock = 1_000_000;
  const s = await entra();
  try {
    const errors = [];
    const cache = new m.JwksCache(`${s.url}/${TENANT}/v2.0`, { now: () => clock, onError: (e) => errors.push(e) });
    const gate = new m.JwksGate('partner-center', cache);
    assert.deepEqual(await decide(gate, token(TENANT)), ALLOW);
    clock += 3_600_000;
    s.routes[`/${TENANT}/v2.0/.well-known/openid-configuration`] = (req, res) => res.writeHead(500).end();
    assert.deepEqual(await decide(gate, token(TENANT)), ALLOW);
    assert.equal(errors.length, 1);
    assert.equal((await gate.evaluate(api(token(OTHER)))).reason, 'issuer_invalid');
    assert.equal(s.paths.filter((p) => p.endsWith('openid-configuration')).length, 2);
    assert.equal(cache.stats.fetches, 2);
    assert.equal(cache.stats.failures, 1);
  } finally {
    await s.close();
  }
});

test('one fetch in flight: callers without keys wait for it, callers with keys go on with them', async () => {
  let clock = 1_000_000;
  let release;
  const s = await entra({
    '/slow/keys': (req, res, json) => { const answer = () => json({ keys: rsa }); if (release === undefined) answer(); else release.push(answer); },
  });
  try {
    const cache = new m.JwksCache(`${s.url}/slow/keys`, { now: () => clock });
    release = [];
    const waiting = Array.from({ length: 5 }, () => cache.get());
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.paths.length, 1);
    let settled = 0;
    for (const p of waiting) p.then(() => settled++);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, 0, 'no keys yet: they wait');
    release.splice(0).forEach((f) => f());
    const texts = await Promise.all(waiting);
    assert.ok(texts.every((t) => JSON.parse(t).keys.length === 2));
    // Stale: the caller that starts the refetch waits for it; the others go on with the keys they have.
    clock += 3_600_000;
    const first = cache.get();
    let firstDone = false;
    first.then(() => { firstDone = true; });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.paths.length, 2);
    const others = await Promise.all(Array.from({ length: 5 }, () => cache.get()));
    assert.ok(others.every((t) => JSON.parse(t).keys.length === 2));
    assert.equal(firstDone, false, 'the others did not wait for the fetch');
    assert.equal(s.paths.length, 2, 'still one fetch');
    release.splice(0).forEach((f) => f());
    await first;
    assert.equal(cache.version, 2);
  } finally {
    await s.close();
  }
});

test('decisions that start together after new keys arrived all decide (none meets a gate another one freed)', async () => {
  let clock = 1_000_000;
  const s = await entra();
  try {
    const cache = new m.JwksCache(`${s.url}/common/discovery/v2.0/keys`, { now: () => clock });
    const gate = new m.JwksGate('partner-center', cache);
    assert.deepEqual(await decide(gate, token(TENANT)), ALLOW);
    for (let round = 0; round < 3; round++) {
      clock += 3_600_000;
      await cache.get(); // new keys, fetched outside the gate
      const all = await Promise.all(Array.from({ length: 8 }, () => decide(gate, token(round % 2 ? OTHER : TENANT))));
      assert.deepEqual(all, Array(8).fill(ALLOW), `round ${round}`);
    }
    assert.equal(cache.version, 4);
  } finally {
    await s.close();
  }
});

test('the size limit applies while reading: a declared Content-Length over maxBytes fails at once, a long body stops being read', async () => {
  const s = await entra({
    // Declares 1 MB, sends 10 bytes and never finishes: only the header tells.
    '/declared/keys': (req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000000' }); res.write('{"keys": ['); },
    // No length; 64 KB chunks, forever, unless the reader stops.
    '/endless/keys': (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(65536, 0x20);
      const more = () => { if (!res.destroyed && res.write(chunk)) setImmediate(more); else if (!res.destroyed) res.once('drain', more); };
      s.endless = res;
      more();
    },
  });
  try {
    for (const path of ['/declared/keys', '/endless/keys']) {
      const errors = [];
      const t0 = Date.now();
      const cache = new m.JwksCache(`${s.url}${path}`, { maxBytes: 100_000, timeoutSeconds: 4, onError: (e) => errors.push(e) });
      await assert.rejects(cache.get(), (e) => e.code === 'jwks_fetch_failed' && /larger than 100000 bytes/.test(e.message), path);
      assert.ok(Date.now() - t0 < 2000, `${path}: not cut by the timeout`);
      assert.equal(errors.length, 1);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(s.endless.destroyed || s.endless.writableEnded || s.endless.closed, 'the endless body was abandoned');
  } finally {
    await s.close();
  }
});

test('JwksCache sources: JWK Set URLs, configuration URLs and authorities; credentials in the URL are refused', () => {
  for (const ok of [
    'https://login.microsoftonline.com/common/discovery/v2.0/keys',
    'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
    'https://login.microsoftonline.com/common',
    'https://login.microsoftonline.us/x/v2.0/.well-known/openid-configuration',
    'http://127.0.0.1:1/common/v2.0',
  ]) {
    const c = new m.JwksCache(ok);
    assert.equal(c.issuer, null, ok);
  }
  assert.equal(new m.JwksCache('https://example.com/keys').jwksUrl, 'https://example.com/keys');
  for (const bad of ['https://u:p@example.com/keys', 'http://example.com/common/v2.0', 'https:///keys']) {
    assert.throws(() => new m.JwksCache(bad), (e) => e instanceof m.UsageError && e.code === 'jwks_url_invalid', bad);
  }
  // Options out of range are the core's rule, thrown as the TypeError every bad option is.
  assert.throws(() => new m.JwksCache('https://example.com/keys', { ttlSeconds: 0 }), (e) => e instanceof TypeError && e.cause?.code === 'request_invalid');
  assert.throws(() => new m.JwksGate('partner-center', { get: async () => '{"keys": []}' }), TypeError);
});
