'use strict';
// The JWKS cache against a local endpoint: TTL, unknown kid, failures, bounds,
// URL rules, redirects, onError. Durations are seconds (docs/node.md).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { JwksGate, JwksError, UsageError } = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close, jwksServer } = require('./servers.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const req = (tok) => ({ path: '/v1/customers', authorization: `Bearer ${tok}`, now: h.NOW });
const TOK1 = h.signRS256(h.claims());
const TOK2 = h.signRS256(h.claims(), { key: h.RSA2, kid: 'rsa-2' });

async function endpoint(t, jwks = { keys: [h.JWK1] }) {
  const s = jwksServer(jwks);
  const base = await listen(s.server);
  t.after(() => close(s.server));
  return { ...s, url: `${base}/.well-known/jwks.json` };
}

/** A URL on 127.0.0.1 where nothing listens. */
async function downUrl(t) {
  const ep = await endpoint(t);
  await close(ep.server);
  return ep.url;
}

const isFetchFailed = (e) => e instanceof JwksError && e.code === 'jwks_fetch_failed' && e.docUrl.endsWith('#jwks_fetch_failed');

/** A manual clock in ms, for the `now` option. */
function clock(start = 1_000_000_000) {
  const c = { t: start, now: () => c.t, advance: (seconds) => (c.t += seconds * 1000) };
  return c;
}

test('fetches once, then serves from the cache until ttlSeconds', async (t) => {
  const ep = await endpoint(t);
  const g = new JwksGate('partner-center', { jwksUri: ep.url, ttlSeconds: 0.15, minRefreshSeconds: 0 });
  assert.equal(g.hasKeys, false);
  for (let i = 0; i < 5; i++) assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
  assert.equal(ep.state.hits, 1);
  await sleep(200);
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow'); // stale: refreshed in the background
  await sleep(50);
  assert.equal(ep.state.hits, 2);
});

test('an unknown kid refetches at once, at most once per minRefreshSeconds', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0.3 }).ready();
  assert.equal(ep.state.hits, 1);
  await sleep(320);
  ep.state.jwks = { keys: [h.JWK1, h.JWK2] };
  assert.equal((await g.evaluate(req(TOK2))).outcome, 'allow');
  assert.equal(ep.state.hits, 2);
  const unknown = h.signRS256(h.claims(), { kid: 'nobody' });
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal(ep.state.hits, 2, 'within minRefreshSeconds no refetch');
  await sleep(320);
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal(ep.state.hits, 3);
});

test('the defaults: ttlSeconds 3600, minRefreshSeconds 60', async (t) => {
  const ep = await endpoint(t);
  const c = clock();
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, now: c.now }).ready();
  const unknown = h.signRS256(h.claims(), { kid: 'nobody' });
  c.advance(59);
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal(ep.state.hits, 1, 'no refetch for an unknown kid before 60 s');
  c.advance(1);
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal(ep.state.hits, 2, 'one refetch for an unknown kid at 60 s');
  c.advance(3599);
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
  await sleep(30);
  assert.equal(ep.state.hits, 2, 'fresh for 3600 s after the last good fetch');
  c.advance(1);
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
  await sleep(30);
  assert.equal(ep.state.hits, 3, 'refetched at 3600 s');
});

test('the defaults: maxBytes 262144, maxKeys 64 (usable keys)', async (t) => {
  const ep = await endpoint(t);
  const g = new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0 });
  const overhead = JSON.stringify({ keys: [h.JWK1], pad: '' }).length;
  ep.state.jwks = { keys: [h.JWK1], pad: 'x'.repeat(262144 - overhead) };
  await g.refresh();
  ep.state.jwks = { keys: [h.JWK1], pad: 'x'.repeat(262144 - overhead + 1) };
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /larger than 262144 bytes/.test(e.message));
  const many = (n) => Array.from({ length: n }, (_, i) => ({ ...h.JWK1, kid: `k${i}` }));
  ep.state.jwks = { keys: [...many(64), { kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: 'AA' }] };
  assert.equal((await g.refresh()).keyIds.length, 64, 'a skipped key does not count');
  ep.state.jwks = { keys: many(65) };
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /65 usable keys, more than the limit of 64/.test(e.message));
});

test('the default timeoutSeconds is 5', async (t) => {
  const ep = await endpoint(t);
  ep.state.mode = 'slow';
  ep.state.delay = 8000;
  const g = new JwksGate('partner-center', { jwksUri: ep.url });
  const t0 = Date.now();
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /no answer within 5 s/.test(e.message));
  const took = Date.now() - t0;
  assert.ok(took >= 4900 && took < 7000, `took ${took} ms`);
});

test('one fetch in flight at a time', async (t) => {
  const ep = await endpoint(t);
  ep.state.mode = 'slow';
  ep.state.delay = 100;
  const g = new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0 });
  const ds = await Promise.all([...Array.from({ length: 20 }, () => g.evaluate(req(TOK1))), g.refresh(), g.refresh(), g.ready()]);
  assert.ok(ds.slice(0, 20).every((d) => d.outcome === 'allow'));
  assert.equal(ep.state.hits, 1);
  assert.equal(g.fetchCount, 1);
});

test('garbage, errors, redirects, a refused or empty JWK Set, and oversize documents keep the last good keys; onError sees each', async (t) => {
  const ep = await endpoint(t);
  const errors = [];
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0, maxBytes: 64 * 1024, maxKeys: 3, onError: (e) => errors.push(e) }).ready();
  const cases = [
    ['garbage', (s) => (s.mode = 'garbage'), /did not answer a JWK Set: the JWK Set is not valid JSON/],
    ['500', (s) => ((s.mode = 'status'), (s.status = 500)), /answered 500/],
    ['404', (s) => ((s.mode = 'status'), (s.status = 404)), /answered 404/],
    ['302', (s) => (s.mode = 'redirect'), /answered 302 \(redirects are not followed\)/],
    ['not a JWK Set', (s) => ((s.mode = 'ok'), (s.jwks = { nope: 1 })), /did not answer a JWK Set/],
    ['only keys the core skips', (s) => ((s.mode = 'ok'), (s.jwks = { keys: [{ kty: 'oct', kid: 'x', k: 'c2hvcnQ' }] })), /no usable key/],
    ['no keys', (s) => ((s.mode = 'ok'), (s.jwks = { keys: [] })), /no usable key/],
    ['no usable key', (s) => ((s.mode = 'ok'), (s.jwks = { keys: [{ kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: 'AA' }] })), /no usable key/],
    ['too many keys', (s) => ((s.mode = 'ok'), (s.jwks = { keys: [h.JWK1, h.JWK2, h.OCT, { ...h.JWK1, kid: 'x' }] })), /4 usable keys, more than the limit of 3/],
    ['too large', (s) => (s.mode = 'huge'), /larger than 65536 bytes/],
  ];
  for (const [name, set, msg] of cases) {
    set(ep.state);
    await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && msg.test(e.message), name);
    assert.ok(isFetchFailed(g.lastError), name);
    assert.equal(errors.at(-1), g.lastError, `${name}: onError got the error`);
    assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow', `${name}: last good keys kept`);
  }
  assert.equal(errors.length, cases.length);
  assert.ok(errors.every(isFetchFailed));
  assert.ok(!ep.state.paths.includes('/moved'), 'the redirect was not followed');
  ep.state.mode = 'ok';
  ep.state.jwks = { keys: [h.JWK2] };
  await g.refresh();
  assert.equal(g.lastError, null);
  assert.equal((await g.evaluate(req(TOK1))).reason, 'key_not_found');
});

test('a slow endpoint times out and keeps the keys', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0, timeoutSeconds: 0.1 }).ready();
  ep.state.mode = 'slow';
  ep.state.delay = 1000;
  const t0 = Date.now();
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /no answer within 0.1 s/.test(e.message));
  assert.ok(Date.now() - t0 < 900, 'the timeout bounds the fetch');
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
});

test('an endpoint that is down: no keys means keys_unavailable (503, never "sign in again"), and ready() rejects', async (t) => {
  const errors = [];
  const g = new JwksGate('partner-center', { jwksUri: await downUrl(t), minRefreshSeconds: 10, onError: (e) => errors.push(e) });
  await assert.rejects(g.ready(), (e) => isFetchFailed(e) && /cannot fetch/.test(e.message));
  const d = await g.evaluate(req(TOK1));
  assert.equal(d.reason, 'keys_unavailable');
  assert.equal(d.http.status, 503);
  assert.match(String(new Map(d.http.headers).get('Retry-After')), /^(9|10)$/);
  assert.match(d.message.en, /you do not need to sign in again/);
  assert.match(d.detail, /cannot fetch/);
  assert.equal(g.fetchCount, 1, 'minRefreshSeconds spaces retries after a failure');
  assert.equal(errors.length, 1);
  assert.ok(isFetchFailed(errors[0]));
  assert.equal((await g.evaluate({ path: '/v1/x', now: h.NOW })).reason, 'no_credential');
});

test('before the first good set: 50 requests against a down endpoint are one fetch, then one per minRefreshSeconds', async (t) => {
  const c = clock();
  const errors = [];
  const g = new JwksGate('partner-center', { jwksUri: await downUrl(t), now: c.now, onError: (e) => errors.push(e) });
  for (let i = 0; i < 25; i++) await g.evaluate(req(TOK1));
  await Promise.all(Array.from({ length: 25 }, () => g.evaluate(req(TOK1))));
  assert.equal(g.fetchCount, 1);
  assert.equal(errors.length, 1);
  c.advance(59);
  await g.evaluate(req(TOK1));
  assert.equal(g.fetchCount, 1);
  c.advance(1);
  await Promise.all(Array.from({ length: 10 }, () => g.evaluate(req(TOK1))));
  assert.equal(g.fetchCount, 2);
  assert.equal(errors.length, 2);
  assert.ok(errors.every(isFetchFailed));
});

test('an endpoint that goes down after a success keeps serving the last keys', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0, ttlSeconds: 0.001 }).ready();
  await close(ep.server);
  await sleep(5);
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
  await sleep(30);
  assert.ok(isFetchFailed(g.lastError));
  assert.equal((await g.evaluateAsync(req(TOK1))).outcome, 'allow');
});

test('the URL: https, or http only on a loopback host', () => {
  for (const ok of ['https://login.microsoftonline.com/common/discovery/keys', 'http://127.0.0.1:8080/keys', 'http://[::1]:8080/keys', 'http://localhost/keys', new URL('https://example.com/k')]) {
    assert.doesNotThrow(() => new JwksGate('partner-center', { jwksUri: ok }), String(ok));
  }
  for (const bad of ['http://example.com/keys', 'http://127.0.0.2/keys', 'http://localhost.example.com/keys', 'http://10.0.0.1/keys', 'ftp://127.0.0.1/keys', 'file:///etc/keys', 'keys.json', '']) {
    assert.throws(
      () => new JwksGate('partner-center', { jwksUri: bad }),
      (e) => e instanceof UsageError && e.code === 'jwks_url_invalid' && e.docUrl.endsWith('#jwks_url_invalid'),
      bad,
    );
  }
});

test('options are checked; the old millisecond names are refused with the new name', () => {
  assert.throws(() => new JwksGate('partner-center', {}), TypeError);
  const u = 'https://example.com/keys';
  for (const [old, replacement] of [['ttl', 'ttlSeconds'], ['cooldown', 'minRefreshSeconds'], ['timeout', 'timeoutSeconds']]) {
    assert.throws(
      () => new JwksGate('partner-center', { jwksUri: u, [old]: 1000 }),
      (e) => e instanceof TypeError && e.message.includes(`\`${old}\``) && e.message.includes(replacement),
      old,
    );
  }
  for (const bad of [{ ttlSeconds: 0 }, { ttlSeconds: -1 }, { minRefreshSeconds: -1 }, { timeoutSeconds: 0 }, { maxBytes: 0 }, { maxKeys: 1.5 }, { ttlSeconds: '60' }, { ttlSeconds: Infinity }]) {
    assert.throws(() => new JwksGate('partner-center', { jwksUri: u, ...bad }), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => new JwksGate('partner-center', { jwksUri: u, minRefreshSecond: 5 }), (e) => e instanceof TypeError && /minRefreshSecond/.test(e.message));
  assert.throws(() => new JwksGate('partner-center', { jwksUri: u, onError: 'log' }), TypeError);
  assert.throws(() => new JwksGate('nope', { jwksUri: u }), (e) => e.code === 'policy_unknown_builtin');
});

test('refresh() is rate-limited by the core too: within minRefreshSeconds it shares the current keys, or rejects with lastError', async (t) => {
  const ep = await endpoint(t);
  const c = clock();
  const errors = [];
  const g = new JwksGate('partner-center', { jwksUri: ep.url, now: c.now, minRefreshSeconds: 10, onError: (e) => errors.push(e) });
  const first = await g.refresh();
  assert.equal(ep.state.hits, 1);
  c.advance(9);
  assert.equal(await g.refresh(), first, 'no fetch within minRefreshSeconds: the current gate');
  assert.equal(ep.state.hits, 1);
  c.advance(1);
  assert.notEqual(await g.refresh(), first, 'a fetch once minRefreshSeconds has passed');
  assert.equal(ep.state.hits, 2);
  // Without keys: the last error, not a new fetch and not a new report.
  const down = new JwksGate('partner-center', { jwksUri: await downUrl(t), now: c.now, minRefreshSeconds: 10, onError: (e) => errors.push(e) });
  const failure = await down.refresh().catch((e) => e);
  assert.ok(isFetchFailed(failure));
  c.advance(5);
  await assert.rejects(down.refresh(), (e) => e === failure);
  await assert.rejects(down.ready(), (e) => e === failure);
  assert.equal(down.fetchCount, 1);
  assert.deepEqual(errors, [failure]);
});

test('a fetch function that ignores the signal still ends at timeoutSeconds', { timeout: 10_000 }, async () => {
  let calls = 0;
  const hanging = () => {
    calls += 1;
    return new Promise(() => {});
  };
  const g = new JwksGate('partner-center', { jwksUri: 'https://keys.example/jwks', fetch: hanging, timeoutSeconds: 0.2, minRefreshSeconds: 0 });
  const t0 = Date.now();
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /no answer within 0.2 s/.test(e.message));
  assert.ok(Date.now() - t0 < 2000);
  assert.equal((await g.evaluate(req(TOK1))).reason, 'keys_unavailable');
  assert.equal(calls, 2, 'the next request could start a new fetch: none was left in flight');
});

test('a fetch function that follows a redirect anyway: the answer is refused', async (t) => {
  const ep = await endpoint(t);
  ep.state.mode = 'redirect';
  const following = (url, init) => fetch(url, { ...init, redirect: 'follow' });
  const g = new JwksGate('partner-center', { jwksUri: ep.url, fetch: following });
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /was redirected \(redirects are not followed\)/.test(e.message));
  assert.deepEqual(ep.state.paths, ['/.well-known/jwks.json', '/moved']);
  assert.equal(g.hasKeys, false);
});

test('the default clock is monotonic: a wall clock set back does not stop the TTL refetch', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, ttlSeconds: 0.05, minRefreshSeconds: 0 }).ready();
  const realNow = Date.now;
  const back = realNow() - 3_600_000;
  Date.now = () => back;
  try {
    await sleep(80);
    assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
    await sleep(50);
  } finally {
    Date.now = realNow;
  }
  assert.equal(ep.state.hits, 2);
});

test('gates share the refresher\'s key set: one Gate per key set version, no copy', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, minRefreshSeconds: 0 }).ready();
  const first = g.gate;
  assert.equal(g.gate, first, 'the same Gate while the key set is the same');
  ep.state.jwks = { keys: [h.JWK2] };
  assert.equal((await g.evaluate(req(TOK2))).outcome, 'allow');
  assert.notEqual(g.gate, first);
  assert.deepEqual(g.gate.keyIds, ['rsa-2']);
  assert.equal(first.evaluate(req(TOK1)).outcome, 'allow', 'a gate taken earlier keeps its keys');
});

test('the native layer: the engine\'s gate over a NativeKeyFeed\'s keys is one gate per key set version', async (t) => {
  const native = require('../lib/native.js');
  const ep = await endpoint(t);
  const feed = new native.NativeKeyFeed(ep.url, { minRefreshSeconds: 0 });
  const engine = new native.NativeEngine('partner-center', feed);
  assert.equal(engine.gate(0).isSame(engine.gate(0)), false, 'before the first set: a fresh unavailable set each time');
  const drive = async (step, now) => {
    assert.equal(step.wait, true);
    const res = await fetch(step.fetch.url);
    return feed.fetched(step.fetch.id, now, res.status, Buffer.from(await res.arrayBuffer()));
  };
  assert.equal(await drive(feed.poll(1), 1), null);
  assert.equal(feed.version, 1);
  const g1 = engine.gate(2);
  assert.equal(g1.isSame(engine.gate(3)), true);
  assert.equal(engine.afterKeyNotFound(0, 4).wait, false, 'newer keys than version 0: decide again');
  assert.equal(await drive(engine.afterKeyNotFound(1, 4), 4), null);
  assert.equal(feed.version, 2);
  assert.equal(g1.isSame(engine.gate(5)), false, 'a new version is a new gate');
  assert.equal(engine.gate(5).isSame(engine.gate(6)), true);
  assert.equal(feed.poll(6), null, 'fresh: nothing to fetch');
});
