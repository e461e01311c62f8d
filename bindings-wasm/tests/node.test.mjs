// Unit tests of the nodejs build: conversions, errors, WebCrypto paths, key
// caching, the JWKS cache. Run with `node --test tests/node.test.mjs`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import * as m from '../pkg/node.mjs';
import { jwt, jwks, claims, keys, NOW } from './tokens.mjs';

const { Gate, MfagateError, PolicyError, JwksError, UsageError } = m;
const bearer = (t) => `Bearer ${t}`;
const api = (authorization, extra = {}) => ({ path: '/v1/customers', authorization, now: NOW, ...extra });
const withAlg = (a) => ({ builtin: 'partner-center', overrides: { token: { algorithms: [a] } } });

test('require() and import give the same classes', () => {
  const cjs = createRequire(import.meta.url)('../pkg/node.cjs');
  assert.equal(cjs.Gate, Gate);
  assert.equal(cjs.PolicyError, PolicyError);
  assert.deepEqual(m.builtinPolicies(), ['partner-center', 'partner-center-2019', 'partner-center-2020', 'partner-center-2025', 'partner-center-2026']);
});

test('one unusable key never rejects the set: it is skipped and listed', () => {
  const g = new Gate('partner-center', { keys: [{ kty: 'oct', kid: 's', k: 'c2hvcnQ' }] });
  assert.deepEqual(g.kids, []);
  assert.match(g.skipped[0], /^s: /);
});

test('errors are real Error subclasses with the core code', () => {
  const cases = [
    [() => new Gate('partner-center-1999', null), PolicyError, 'policy_unknown_builtin'],
    [() => new Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['none'] } } }, null), PolicyError, 'policy_invalid'],
    [() => new Gate('{"builtin": ', null), PolicyError, 'policy_syntax'],
    [() => new Gate('partner-center', '{"keys": 3}'), JwksError, 'jwks_invalid'],
  ];
  for (const [f, cls, code] of cases) {
    assert.throws(f, (e) => {
      assert.ok(e instanceof cls, `${code}: ${e}`);
      assert.ok(e instanceof MfagateError && e instanceof Error);
      assert.equal(e.code, code);
      assert.equal(e.name, cls.name);
      assert.equal(typeof e.message, 'string');
      assert.ok(e.message.length > 0);
      assert.equal(typeof e.hint, 'string');
      assert.ok(e.line === null || Number.isInteger(e.line));
      assert.match(e.doc_url, new RegExp(`#${code}$`));
      assert.ok(typeof e.stack === 'string');
      return true;
    });
  }
});

test('a request that is not usable rejects with UsageError request_invalid', async () => {
  const g = new Gate('partner-center', jwks);
  for (const bad of [null, 'GET /', {}, { path: 3 }, { path: '/', now: 1.5 }, { path: '/', authorisation: 'Bearer x' }, { path: '/', mfa_registered: 'no' }, { path: '/', validate_mfa: 'true' }, { path: '/', validate_mfa: 1 }]) {
    await assert.rejects(g.evaluate(bad), (e) => e instanceof UsageError && e.code === 'request_invalid', JSON.stringify(bad));
    assert.throws(() => g.evaluateClaims('{}', bad), (e) => e instanceof UsageError && e.code === 'request_invalid');
  }
  // Claims that cannot be read are a refusal (a decision), not an exception.
  const d = g.evaluateClaims('{"amr": "mfa"}', { path: '/', now: NOW });
  assert.deepEqual([d.outcome, d.reason], ['deny', 'claim_invalid']);
});

test('decisions are plain objects of the core JSON form', async () => {
  const g = new Gate('partner-center', jwks);
  const d = await g.evaluate({ path: '/v1/customers', now: NOW });
  assert.equal(Object.getPrototypeOf(d), Object.prototype);
  assert.deepEqual(Object.keys(d), ['outcome', 'reason', 'token_kind', 'kind_evidence', 'rule', 'roles', 'mfa', 'exception', 'message', 'http', 'redirect', 'detail', 'subject']);
  assert.equal(d.outcome, 'deny');
  assert.equal(d.reason, 'no_credential');
  assert.equal(d.token_kind, null);
  assert.deepEqual(d.http.headers, [['WWW-Authenticate', 'Bearer']]);
  assert.deepEqual(Object.keys(d.message), ['en', 'fr', 'pt-BR']);
  assert.notEqual(d.message.fr, d.message.en);
});

for (const [alg, kid] of [['RS256', 'rsa-1'], ['PS256', 'rsa-2'], ['ES256', 'ec-1'], ['HS256', 'hs-1']]) {
  test(`${alg}: a good signature allows, a bad one is signature_invalid`, async () => {
    const g = new Gate(withAlg(alg), jwks);
    const good = await g.evaluate(api(bearer(jwt(claims.appUserMfa, { alg, kid }))));
    assert.equal(good.reason, 'mfa_satisfied', good.detail);
    assert.equal(good.outcome, 'allow');
    const pwd = await g.evaluate(api(bearer(jwt(claims.appUserPwd, { alg, kid }))));
    assert.equal(pwd.reason, 'mfa_required');
    assert.equal(pwd.http.status, 401);
    // Signed by another key under the same kid.
    const other = {
      RS256: keys.rsa2,
      PS256: keys.rsa1,
      ES256: (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      HS256: Buffer.alloc(32, 7),
    }[alg];
    const bad = await g.evaluate(api(bearer(jwt(claims.appUserMfa, { alg, kid, key: other }))));
    assert.equal(bad.reason, 'signature_invalid');
    assert.equal(bad.outcome, 'deny');
    // A signature of the wrong length, and an empty one.
    const t = jwt(claims.appUserMfa, { alg, kid });
    const cut = await g.evaluate(api(bearer(t.slice(0, -8))));
    assert.equal(cut.outcome, 'deny');
    assert.ok(['signature_invalid', 'token_malformed'].includes(cut.reason), cut.reason);
    const none = await g.evaluate(api(bearer(t.slice(0, t.lastIndexOf('.') + 1))));
    assert.notEqual(none.outcome, 'allow');
  });
}

test('a policy pinning HS256 and RS256 decides both; HS256-only decides in one pass', async () => {
  const both = new Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['HS256', 'RS256'] } } }, jwks);
  const hsOnly = new Gate(withAlg('HS256'), jwks);
  for (const g of [both, hsOnly]) {
    assert.equal((await g.evaluate(api(bearer(jwt(claims.appUserMfa, { alg: 'HS256', kid: 'hs-1' }))))).reason, 'mfa_satisfied');
    assert.equal((await g.evaluate(api(bearer(jwt(claims.appUserPwd, { alg: 'HS256', kid: 'hs-1', key: Buffer.alloc(32, 1) }))))).reason, 'signature_invalid');
  }
  assert.equal((await both.evaluate(api(bearer(jwt(claims.appUserMfa))))).reason, 'mfa_satisfied');
  assert.equal((await hsOnly.evaluate(api(bearer(jwt(claims.appUserMfa))))).reason, 'algorithm_not_allowed');
});

test('validate_mfa reaches the core: an allowed API call under the 2026 rules says isMfaCompliant', async () => {
  const g = new Gate('partner-center-2026', jwks);
  const compliant = async (t, extra) => {
    const d = await g.evaluate(api(bearer(jwt(t)), extra));
    assert.equal(d.outcome, 'allow', d.detail);
    return new Map(d.http.headers).get('isMfaCompliant') ?? null;
  };
  assert.equal(await compliant(claims.appUserMfa, { validate_mfa: true }), 'true');
  assert.equal(await compliant(claims.appOnly, { validate_mfa: true }), 'false');
  for (const unset of [{}, { validate_mfa: false }, { validate_mfa: null }, { validate_mfa: undefined }]) {
    assert.equal(await compliant(claims.appUserMfa, unset), null, JSON.stringify(unset));
  }
  // The same on claims already verified, and nothing under the 2020 rules.
  const d = g.evaluateClaims(claims.appUserMfa, { path: '/v1/customers', now: NOW, validate_mfa: true });
  assert.deepEqual(d.http.headers, [['isMfaCompliant', 'true']]);
  const old = await new Gate('partner-center', jwks).evaluate(api(bearer(jwt(claims.appUserMfa)), { validate_mfa: true }));
  assert.deepEqual([old.outcome, old.http.headers], ['allow', []]);
});

// WebCrypto capture, key import counts and no WebCrypto: tests/webcrypto.test.mjs
// (the module must be loaded after its set-up there).

test('evaluateClaims decides on verified claims, synchronously', () => {
  const g = new Gate('partner-center', null);
  const d = g.evaluateClaims(JSON.stringify(claims.appUserPwd), { path: '/v1/customers', now: NOW });
  assert.equal(d.reason, 'mfa_required');
  const d2 = g.evaluateClaims(claims.appUserMfa, { path: '/v1/customers', now: NOW });
  assert.equal(d2.reason, 'mfa_satisfied');
  assert.deepEqual(d2.mfa.amr, ['pwd', 'mfa']);
  const d3 = g.evaluateClaims(claims.appUserMfa, { path: '/v1/customers', now: NOW + 10000 });
  assert.equal(d3.reason, 'token_expired');
});

test('now defaults to the host clock', async () => {
  const g = new Gate('partner-center', jwks);
  // The test token expired long before today's date.
  const d = await g.evaluate({ path: '/v1/customers', authorization: bearer(jwt(claims.appUserMfa)) });
  assert.equal(d.reason, 'token_expired');
  const now = Number(/now \((\d+)\)/.exec(d.detail)?.[1]);
  assert.ok(Math.abs(now - Date.now() / 1000) < 5, d.detail);
});

test('gate properties', () => {
  const g = new Gate('partner-center-2025', { keys: [...jwks.keys, { kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: 'AA' }] });
  assert.equal(g.policyName, 'partner-center-2025');
  assert.equal(g.keyCount, 4);
  assert.deepEqual(g.kids, ['rsa-1', 'rsa-2', 'ec-1', 'hs-1']);
  assert.equal(g.skipped.length, 1);
  assert.deepEqual(m.parseJwks(jwks).kids, ['rsa-1', 'rsa-2', 'ec-1', 'hs-1']);
  assert.throws(() => m.parseJwks('nope'), JwksError);
});

// --- JwksCache on a local HTTP server -------------------------------------

/** A JWKS endpoint: answers `status` with `body` (after `delayMs`); /moved always serves the good set. */
async function jwksServer() {
  const s = { body: JSON.stringify(jwks), status: 200, hits: 0, delayMs: 0, headers: {}, paths: [] };
  const srv = createServer((req, res) => {
    s.hits++;
    s.paths.push(req.url);
    if (req.url === '/moved') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      return;
    }
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(s.status, { 'content-type': 'application/json', ...s.headers });
      res.end(s.body);
    }, s.delayMs);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${srv.address().port}/jwks`;
  s.close = () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); });
  return s;
}

/** A URL on 127.0.0.1 where nothing listens. */
async function downUrl() {
  const s = await jwksServer();
  await s.close();
  return s.url;
}

const isFetchFailed = (e) => e instanceof JwksError && e instanceof Error && e.code === 'jwks_fetch_failed';

test('JwksCache: TTL, unknown-kid refresh at most once per interval, keeps last good keys', async () => {
  const s = await jwksServer();
  let clock = 1_000_000;
  try {
    const errors = [];
    const cache = new m.JwksCache(s.url, { ttlSeconds: 600, minRefreshSeconds: 60, now: () => clock, onError: (e) => errors.push(e) });
    const gate = new m.JwksGate('partner-center', cache);
    const t1 = bearer(jwt(claims.appUserMfa));
    assert.equal((await gate.evaluate(api(t1))).reason, 'mfa_satisfied');
    assert.equal((await gate.evaluate(api(t1))).reason, 'mfa_satisfied');
    assert.equal(s.hits, 1, 'cached while fresh');
    // An unknown kid refetches once; a second unknown kid within the interval does not.
    const t9 = bearer(jwt(claims.appUserMfa, { kid: 'rsa-9', key: keys.rsa1 }));
    clock += 61_000;
    assert.equal((await gate.evaluate(api(t9))).reason, 'key_not_found');
    assert.equal(s.hits, 2);
    assert.equal((await gate.evaluate(api(t9))).reason, 'key_not_found');
    assert.equal(s.hits, 2, 'rate-limited');
    // Rotation: the new kid appears at the endpoint and is found after the interval.
    s.body = JSON.stringify({ keys: [...jwks.keys, { ...jwks.keys[0], kid: 'rsa-9' }] });
    clock += 61_000;
    assert.equal((await gate.evaluate(api(t9))).reason, 'mfa_satisfied');
    assert.equal(s.hits, 3);
    // Every good set counts (the core's Refresher::version), also one that
    // came back unchanged for the first unknown kid.
    assert.equal(cache.version, 3);
    assert.equal(errors.length, 0);
    // Garbage, an error status, a redirect, no usable key, too many keys and a
    // huge body keep the last good keys, and each is reported to onError.
    const bad = [
      [() => { s.body = 'not json'; }, /JWK Set|JSON/],
      [() => { s.body = '{"keys":[{"kty":"RSA"}]}'; }, /./],
      [() => { s.body = '{"keys":[]}'; }, /no usable key/],
      [() => { s.body = JSON.stringify({ keys: [{ kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: 'AA' }] }); }, /no usable key/],
      [() => { s.status = 500; s.body = ''; }, /answered 500/],
      [() => { s.status = 302; s.headers = { location: '/moved' }; }, /answered 302 \(redirects are not followed\)/],
      [() => { s.status = 200; s.headers = {}; s.body = JSON.stringify({ keys: Array.from({ length: 100 }, (_, i) => ({ ...jwks.keys[0], kid: `k${i}` })) }); }, /has 100 usable keys, more than the limit of 64/],
      [() => { s.body = JSON.stringify({ keys: jwks.keys, pad: 'x'.repeat(300_000) }); }, /larger than 262144 bytes/],
    ];
    for (const [set, why] of bad) {
      set();
      clock += 601_000; // stale: get() refetches
      const before = s.hits;
      assert.equal((await gate.evaluate(api(t9))).reason, 'mfa_satisfied');
      assert.equal(s.hits, before + 1);
      assert.equal(cache.version, 3);
      assert.ok(cache.stats.lastError, 'the failure is recorded');
      const e = errors.at(-1);
      assert.ok(isFetchFailed(e), String(e));
      assert.match(e.message, why);
      // A failed refresh is not retried on every request.
      await gate.evaluate(api(t9));
      assert.equal(s.hits, before + 1);
    }
    assert.equal(errors.length, bad.length);
    assert.ok(!s.paths.includes('/moved'), 'the redirect was not followed');
  } finally {
    await s.close();
  }
});

test('JwksCache: timeout, and jwks_fetch_failed while no good set was ever fetched', async () => {
  const s = await jwksServer();
  try {
    s.delayMs = 2000;
    const cache = new m.JwksCache(s.url, { timeoutSeconds: 0.1, minRefreshSeconds: 0 });
    const t0 = Date.now();
    await assert.rejects(cache.get(), (e) => isFetchFailed(e) && /no answer within 0.1 s/.test(e.message));
    assert.ok(Date.now() - t0 < 1500, 'the timeout cut the fetch');
    s.delayMs = 0;
    s.body = 'garbage';
    await assert.rejects(cache.get(), (e) => e.code === 'jwks_fetch_failed');
    s.body = JSON.stringify(jwks);
    assert.equal(JSON.parse(await cache.get()).keys.length, 4);
  } finally {
    await s.close();
  }
});

test('JwksCache: before the first good set, 50 requests against a down endpoint are one fetch', async () => {
  let clock = 5_000_000;
  const errors = [];
  let fetches = 0;
  const url = await downUrl();
  const cache = new m.JwksCache(url, { now: () => clock, onError: (e) => errors.push(e), fetch: (...a) => { fetches++; return fetch(...a); } });
  const gate = new m.JwksGate('partner-center', cache);
  const t = bearer(jwt(claims.appUserMfa));
  // A decision, not an exception: the server has no keys (503), the user has nothing to fix.
  const unavailable = (d) => d.reason === 'keys_unavailable' && d.http.status === 503 && /cannot fetch/.test(d.detail);
  for (let i = 0; i < 25; i++) assert.ok(unavailable(await gate.evaluate(api(t))));
  const all = await Promise.all(Array.from({ length: 25 }, () => gate.evaluate(api(t))));
  assert.ok(all.every(unavailable));
  assert.equal(new Map(all[0].http.headers).get('Retry-After'), '60');
  assert.equal(fetches, 1);
  assert.equal(cache.stats.fetches, 1);
  assert.equal(errors.length, 1);
  assert.ok(isFetchFailed(errors[0]));
  assert.match(errors[0].message, /cannot fetch/);
  // the default minRefreshSeconds (60) spaces the retries
  clock += 59_000;
  await assert.rejects(cache.get(), isFetchFailed);
  assert.equal(fetches, 1);
  clock += 1_000;
  await Promise.allSettled(Array.from({ length: 10 }, () => cache.get()));
  assert.equal(fetches, 2);
  assert.equal(errors.length, 2);
});

test('JwksCache: the defaults ttlSeconds 3600 and minRefreshSeconds 60', async () => {
  const s = await jwksServer();
  let clock = 1_000_000;
  try {
    const cache = new m.JwksCache(s.url, { now: () => clock });
    await cache.get();
    clock += 3_599_000;
    await cache.get();
    assert.equal(s.hits, 1, 'fresh for 3600 s');
    clock += 1_000;
    await cache.get();
    assert.equal(s.hits, 2, 'refetched at 3600 s');
    clock += 59_000;
    assert.equal(await cache.refreshForUnknownKid(), false);
    assert.equal(s.hits, 2, 'no refetch for an unknown kid before 60 s');
    clock += 1_000;
    await cache.refreshForUnknownKid();
    assert.equal(s.hits, 3, 'one at 60 s');
  } finally {
    await s.close();
  }
});

test('JwksCache: the default timeoutSeconds is 5', async () => {
  const s = await jwksServer();
  try {
    s.delayMs = 8000;
    const cache = new m.JwksCache(s.url);
    const t0 = Date.now();
    await assert.rejects(cache.get(), (e) => isFetchFailed(e) && /no answer within 5 s/.test(e.message));
    const took = Date.now() - t0;
    assert.ok(took >= 4900 && took < 7000, `took ${took} ms`);
  } finally {
    await s.close();
  }
});

test('JwksCache: the URL is https, or http only on a loopback host', () => {
  for (const ok of ['https://login.microsoftonline.com/common/discovery/keys', 'http://127.0.0.1:8080/keys', 'http://[::1]:8080/keys', 'http://localhost/keys', new URL('https://example.com/k')]) {
    assert.doesNotThrow(() => new m.JwksCache(ok), String(ok));
  }
  for (const bad of ['http://example.com/keys', 'http://127.0.0.2/keys', 'http://localhost.example.com/keys', 'http://10.0.0.1/keys', 'ftp://127.0.0.1/keys', 'file:///etc/keys', 'keys.json', '']) {
    assert.throws(() => new m.JwksCache(bad), (e) => e instanceof UsageError && e instanceof Error && e.code === 'jwks_url_invalid', bad);
  }
});

test('JwksCache: options are checked; the old timeoutMs is refused with its replacement', () => {
  const u = 'https://example.com/keys';
  assert.throws(() => new m.JwksCache(u, { timeoutMs: 3000 }), (e) => e instanceof TypeError && /`timeoutMs`/.test(e.message) && /timeoutSeconds/.test(e.message));
  for (const [old, replacement] of [['ttl', 'ttlSeconds'], ['cooldown', 'minRefreshSeconds'], ['timeout', 'timeoutSeconds']]) {
    assert.throws(() => new m.JwksCache(u, { [old]: 1000 }), (e) => e instanceof TypeError && e.message.includes(`\`${old}\``) && e.message.includes(replacement), old);
  }
  for (const bad of [{ ttlSeconds: 0 }, { minRefreshSeconds: -1 }, { timeoutSeconds: 0 }, { maxBytes: 0 }, { maxKeys: 1.5 }, { ttlSeconds: '60' }, { onError: 'log' }, { minRefreshSecond: 5 }]) {
    assert.throws(() => new m.JwksCache(u, bad), TypeError, JSON.stringify(bad));
  }
});

test('the package resolves by name: import and require in Node, the types and the wasm subpath', async () => {
  const { mkdirSync, symlinkSync, rmSync, writeFileSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const dir = fileURLToPath(new URL('./artifacts/resolve/', import.meta.url));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}node_modules`, { recursive: true });
  symlinkSync(fileURLToPath(new URL('../pkg', import.meta.url)), `${dir}node_modules/mfagate-wasm`, 'dir');
  writeFileSync(`${dir}a.mjs`, `import { Gate, PolicyError } from 'mfagate-wasm';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('mfagate-wasm');
if (cjs.Gate !== Gate || cjs.PolicyError !== PolicyError) throw new Error('two instances');
const d = await new Gate('partner-center', null).evaluate({ path: '/v1/x', now: 1 });
console.log(d.reason, import.meta.resolve('mfagate-wasm/mfagate_wasm_bg.wasm').endsWith('/pkg/glue/mfagate_wasm_bg.wasm'));`);
  const out = execFileSync(process.execPath, [`${dir}a.mjs`], { cwd: dir, encoding: 'utf8' }).trim();
  assert.equal(out, 'no_credential true');
});
