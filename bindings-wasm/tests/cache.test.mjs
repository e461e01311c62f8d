// The verified-token cache (TokenCache) in the nodejs build: a cached gate
// decides exactly as an uncached one, on every vector (cold and warm), at
// the second a cached token expires, after a key is removed, and never
// turns a refusal into an allow. Run with `node --test tests/cache.test.mjs`.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as m from '../pkg/node.mjs';
import { jwt, jwks, claims, keys, NOW } from './tokens.mjs';
import { vectorFiles } from './vectors-node.mjs';
import { runVectors } from '../../tests/js/vectors-runner.js';

const { Gate, TokenCache, UsageError, MfagateError } = m;
const bearer = (t) => `Bearer ${t}`;
const api = (authorization, extra = {}) => ({ path: '/v1/customers', authorization, now: NOW, ...extra });
const RS = { keys: [jwks.keys[0]] };

test('every vector decides the same through a cached gate, cold and warm', async () => {
  const cache = new TokenCache();
  let compared = 0;
  for (const { name, text } of vectorFiles()) {
    const f = JSON.parse(text);
    const keysText = JSON.stringify(f.keys);
    for (const c of f.cases) {
      if (c.expect_error) continue;
      const plain = new Gate(c.policy, keysText);
      const cached = new Gate(c.policy, keysText, { cache });
      const want = await plain.evaluate(c.request);
      assert.deepEqual(await cached.evaluate(c.request), want, `${name} ${c.id}: cold`);
      assert.deepEqual(await cached.evaluate(c.request), want, `${name} ${c.id}: warm`);
      plain.free();
      cached.free();
      compared++;
    }
  }
  assert.ok(compared > 300, `${compared}`);
  assert.ok(cache.stats().hits > 150, JSON.stringify(cache.stats()));
  // The shared runner, each case decided twice through one cache: all pass.
  const shared = new TokenCache();
  class CachedGate {
    #g;
    constructor(policy, keysText) {
      this.#g = new Gate(policy, keysText, { cache: shared });
    }
    async evaluate(request) {
      const cold = await this.#g.evaluate(request);
      const warm = await this.#g.evaluate(request);
      assert.deepEqual(warm, cold);
      return warm;
    }
    free() {
      this.#g.free();
    }
  }
  const r = await runVectors({ ...m, Gate: CachedGate }, vectorFiles());
  assert.deepEqual(r.failed, []);
  assert.ok(shared.stats().hits > 150);
});

test('a token expiring while cached is refused at the exact second', async () => {
  const exp = NOW + 600;
  const auth = bearer(jwt({ ...claims.appUserMfa, exp }));
  const cache = new TokenCache();
  const cached = new Gate('partner-center', RS, { cache });
  const plain = new Gate('partner-center', RS);
  assert.equal(cached.hasCache, true);
  assert.equal((await cached.evaluate(api(auth))).outcome, 'allow');
  assert.equal(cache.stats().entries, 1);
  let first = null;
  for (let now = exp - 5; now < exp + 600; now++) {
    const a = await cached.evaluate(api(auth, { now }));
    assert.deepEqual(a, await plain.evaluate(api(auth, { now })), `at ${now}`);
    if (first === null && a.outcome !== 'allow') first = [now, a.reason];
  }
  assert.ok(first, 'the token expires');
  assert.equal(first[1], 'token_expired');
  assert.equal((await plain.evaluate(api(auth, { now: first[0] - 1 }))).outcome, 'allow');
  assert.ok(cache.stats().hits > 0);
});

test('a key removed from the set invalidates its entries', async () => {
  const auth = bearer(jwt(claims.appUserMfa));
  const cache = new TokenCache();
  const before = new Gate('partner-center', RS, { cache });
  assert.equal((await before.evaluate(api(auth))).outcome, 'allow');
  assert.equal((await before.evaluate(api(auth))).outcome, 'allow');
  assert.equal(cache.stats().hits, 1);
  const after = new Gate('partner-center', { keys: [jwks.keys[1]] }, { cache });
  assert.equal((await after.evaluate(api(auth))).reason, 'key_not_found');
  const again = new Gate('partner-center', RS, { cache });
  const misses = cache.stats().misses;
  assert.equal((await again.evaluate(api(auth))).outcome, 'allow');
  assert.equal(cache.stats().misses, misses + 1);
});

test('the cache never turns a refusal into an allow', async () => {
  const cache = new TokenCache();
  const gate = new Gate('partner-center', jwks, { cache });
  const pwd = bearer(jwt(claims.appUserPwd));
  for (let i = 0; i < 3; i++) assert.equal((await gate.evaluate(api(pwd))).reason, 'mfa_required');
  const forged = bearer(jwt(claims.appUserMfa, { kid: 'rsa-1', key: keys.rsa2 }));
  for (let i = 0; i < 3; i++) assert.equal((await gate.evaluate(api(forged))).reason, 'signature_invalid');
  const old = bearer(jwt(claims.expired));
  for (let i = 0; i < 2; i++) assert.equal((await gate.evaluate(api(old))).reason, 'token_expired');
  // HS256 and ES256 tokens too: cached once verified, refused when they should be.
  const hs = bearer(jwt(claims.appUserPwd, { alg: 'HS256', kid: 'hs-1' }));
  const both = new Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['HS256', 'ES256'] } } }, jwks, { cache });
  for (let i = 0; i < 2; i++) assert.equal((await both.evaluate(api(hs))).reason, 'mfa_required');
  const es = bearer(jwt(claims.appUserMfa, { alg: 'ES256', kid: 'ec-1' }));
  for (let i = 0; i < 2; i++) assert.equal((await both.evaluate(api(es))).outcome, 'allow');
});

test('bad options: UsageError request_invalid, real Error objects with .code', () => {
  for (const bad of [{ maxEntries: 0 }, { maxEntries: 1.5 }, { maxEntries: '10' }, { maxBytes: 1000 }, { maxBytes: Infinity },
    { maxentries: 3 }, 'big', 7]) {
    assert.throws(() => new TokenCache(bad), (e) => e instanceof UsageError && e instanceof MfagateError && e instanceof Error
      && e.code === 'request_invalid' && e.hint.length > 0, JSON.stringify(bad));
  }
  const c = new TokenCache({ maxEntries: 10, maxBytes: 1 << 20 });
  assert.deepEqual([c.maxEntries, c.maxBytes], [10, 1 << 20]);
  const d = new TokenCache();
  assert.deepEqual([d.maxEntries, d.maxBytes], [10_000, 16 << 20]);
  assert.deepEqual(d.stats(), { hits: 0, misses: 0, entries: 0, bytes: 0 });
  for (const opts of [{ cache: { maxEntries: 5 } }, { cache: 5 }, { cahce: c }, 'cache']) {
    assert.throws(() => new Gate('partner-center', RS, opts), (e) => e instanceof UsageError && e.code === 'request_invalid', JSON.stringify(opts));
  }
  // A cache is shared, not given up, when a gate takes it.
  const g1 = new Gate('partner-center', RS, { cache: c });
  const g2 = new Gate('partner-center', RS, { cache: c });
  assert.equal(g1.hasCache && g2.hasCache, true);
  assert.equal(new Gate('partner-center', RS).hasCache, false);
  assert.equal(new Gate('partner-center', RS, null).hasCache, false);
  c.clear();
  assert.equal(c.stats().entries, 0);
});
