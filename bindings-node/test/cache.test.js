'use strict';
// The verified-token cache (TokenCache): a cached gate decides exactly as an
// uncached one, on every vector (cold and warm), at the second a cached
// token expires, after a key is removed, and never turns a refusal into an allow.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const api = require('../lib/index.js');
const h = require('./helpers.js');

const { Gate, TokenCache, UsageError } = api;
const DIR = path.join(__dirname, '../../tests/vectors');
const runner = import(path.join(__dirname, '../../tests/js/vectors-runner.js'));
const JWKS = { keys: [h.JWK1] };
const bearer = (t) => `Bearer ${t}`;

function vectorFiles() {
  return fs.readdirSync(DIR)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .sort()
    .map((name) => ({ name, text: fs.readFileSync(path.join(DIR, name), 'utf8') }));
}

test('every vector decides the same through a cached gate, cold and warm', async () => {
  const cache = new TokenCache();
  let compared = 0;
  for (const { name, text } of vectorFiles()) {
    const f = JSON.parse(text);
    const keys = JSON.stringify(f.keys);
    for (const c of f.cases) {
      if (c.expect_error) continue;
      const want = new Gate(c.policy, keys).evaluateJson(c.request);
      const cached = new Gate(c.policy, keys, { cache });
      assert.equal(cached.evaluateJson(c.request), want, `${name} ${c.id}: cold`);
      assert.equal(cached.evaluateJson(c.request), want, `${name} ${c.id}: warm`);
      assert.deepEqual(cached.evaluate(c.request), new Gate(c.policy, keys).evaluate(c.request), `${name} ${c.id}: object`);
      assert.deepEqual(await cached.evaluateAsync(c.request), cached.evaluate(c.request), `${name} ${c.id}: async`);
      compared++;
    }
  }
  assert.ok(compared > 300, `${compared}`);
  assert.ok(cache.stats().hits > 150, JSON.stringify(cache.stats()));
  // And the shared runner, twice per case through one cache: every vector passes.
  const { runVectors } = await runner;
  const shared = new TokenCache();
  class CachedGate extends Gate {
    constructor(policy, jwks) {
      super(policy, jwks, { cache: shared });
    }
    evaluate(request) {
      const cold = super.evaluate(request);
      const warm = super.evaluate(request);
      assert.deepEqual(warm, cold);
      return warm;
    }
  }
  const r = await runVectors({ ...api, Gate: CachedGate }, vectorFiles());
  assert.deepEqual(r.failed, []);
  assert.ok(shared.stats().hits > 150);
});

test('a token expiring while cached is refused at the exact second', () => {
  const exp = h.NOW + 600;
  const auth = bearer(h.signRS256(h.claims({ exp })));
  const cache = new TokenCache();
  const cached = new Gate('partner-center', JWKS, { cache });
  const plain = new Gate('partner-center', JWKS);
  const at = (g, now) => g.evaluateJson({ path: '/v1/customers', authorization: auth, now });
  assert.equal(JSON.parse(at(cached, h.NOW)).outcome, 'allow');
  assert.equal(cache.stats().entries, 1);
  let first = null;
  for (let now = exp - 5; now < exp + 600; now++) {
    const a = at(cached, now);
    assert.equal(a, at(plain, now), `at ${now}`);
    if (first === null && JSON.parse(a).outcome !== 'allow') first = [now, JSON.parse(a).reason];
  }
  assert.ok(first, 'the token expires');
  assert.equal(first[1], 'token_expired');
  assert.equal(JSON.parse(at(plain, first[0] - 1)).outcome, 'allow');
  assert.ok(cache.stats().hits > 0);
});

test('a key removed from the set invalidates its entries', () => {
  const req = { path: '/v1/customers', authorization: bearer(h.signRS256(h.claims())), now: h.NOW };
  const cache = new TokenCache();
  const before = new Gate('partner-center', JWKS, { cache });
  assert.equal(before.evaluate(req).outcome, 'allow');
  assert.equal(before.evaluate(req).outcome, 'allow');
  assert.equal(cache.stats().hits, 1);
  // Key rotation (withKeys keeps the cache): the removed key's tokens are refused.
  const after = before.withKeys({ keys: [h.JWK2] });
  assert.equal(after.cache, cache);
  assert.equal(after.evaluate(req).reason, 'key_not_found');
  // A set with the same key again is another set: verified again, not assumed.
  const again = after.withKeys(JWKS);
  const misses = cache.stats().misses;
  assert.equal(again.evaluate(req).outcome, 'allow');
  assert.equal(cache.stats().misses, misses + 1);
});

test('the cache never turns a refusal into an allow', () => {
  const cache = new TokenCache();
  const gate = new Gate('partner-center', JWKS, { cache });
  const pwd = bearer(h.signRS256(h.claims({ amr: ['pwd'] })));
  for (let i = 0; i < 3; i++) {
    assert.equal(gate.evaluate({ path: '/v1/customers', authorization: pwd, now: h.NOW }).reason, 'mfa_required');
  }
  // Signed with another key under the set's kid: never cached as verified.
  const forged = bearer(h.signRS256(h.claims(), { key: h.RSA2, kid: 'rsa-1' }));
  for (let i = 0; i < 3; i++) {
    assert.equal(gate.evaluate({ path: '/v1/customers', authorization: forged, now: h.NOW }).reason, 'signature_invalid');
  }
  // Expired, then presented again: still refused, from the cache or not.
  const old = bearer(h.signRS256(h.claims({}, h.NOW - 7200)));
  for (let i = 0; i < 2; i++) {
    assert.equal(gate.evaluate({ path: '/v1/customers', authorization: old, now: h.NOW }).reason, 'token_expired');
  }
  // Allowed at first, the same token on a stricter route is refused from its cached claims.
  const ok = bearer(h.signRS256(h.claims()));
  assert.equal(gate.evaluate({ path: '/v1/customers', authorization: ok, now: h.NOW }).outcome, 'allow');
  const hits = cache.stats().hits;
  assert.equal(gate.evaluate({ path: '/v1/customers', authorization: ok, now: h.NOW, validate_mfa: true }).outcome, 'allow');
  assert.equal(cache.stats().hits, hits + 1);
});

test('bad options are UsageError request_invalid; a cache option must be a TokenCache', () => {
  for (const bad of [{ maxEntries: 0 }, { maxEntries: -1 }, { maxEntries: 1.5 }, { maxEntries: '10' }, { maxBytes: 1000 },
    { maxBytes: Infinity }, { maxEntries: NaN }, { max_entries: true }, { maxentries: 5 }]) {
    assert.throws(() => new TokenCache(bad), (e) => e instanceof UsageError && e instanceof Error && e.code === 'request_invalid'
      && /cache option/.test(e.message) && e.hint.length > 0, JSON.stringify(bad));
  }
  assert.throws(() => new TokenCache('big'), (e) => e instanceof UsageError && e.code === 'request_invalid');
  const c = new TokenCache({ maxEntries: 10, maxBytes: 1 << 20 });
  assert.deepEqual([c.maxEntries, c.maxBytes], [10, 1 << 20]);
  const d = new TokenCache();
  assert.deepEqual([d.maxEntries, d.maxBytes], [10_000, 16 << 20]);
  assert.deepEqual(d.stats(), { hits: 0, misses: 0, entries: 0, bytes: 0 });
  assert.throws(() => new Gate('partner-center', JWKS, { cache: { maxEntries: 5 } }), TypeError);
  assert.throws(() => new Gate('partner-center', JWKS, { cahce: c }), TypeError);
  const g = new Gate('partner-center', JWKS, { cache: c });
  assert.equal(g.evaluate({ path: '/v1/customers', authorization: bearer(h.signRS256(h.claims())), now: h.NOW }).outcome, 'allow');
  assert.equal(c.stats().entries, 1);
  c.clear();
  assert.equal(c.stats().entries, 0);
  assert.equal(new Gate('partner-center', JWKS).cache, null);
});
