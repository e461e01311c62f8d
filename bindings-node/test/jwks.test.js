'use strict';
// The JWKS cache against a local endpoint: TTL, unknown kid, failures, bounds.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { JwksGate, JwksError } = require('../lib/index.js');
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

const isFetchFailed = (e) => e instanceof JwksError && e.code === 'jwks_fetch_failed' && e.docUrl.endsWith('#jwks_fetch_failed');

test('fetches once, then serves from the cache until the TTL', async (t) => {
  const ep = await endpoint(t);
  const g = new JwksGate('partner-center', { jwksUri: ep.url, ttl: 150, cooldown: 0 });
  assert.equal(g.hasKeys, false);
  for (let i = 0; i < 5; i++) assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
  assert.equal(ep.state.hits, 1);
  await sleep(200);
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow'); // stale: refreshed in the background
  await sleep(50);
  assert.equal(ep.state.hits, 2);
});

test('an unknown kid refetches at once, at most once per cooldown', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, cooldown: 300 }).ready();
  assert.equal(ep.state.hits, 1);
  await sleep(320);
  ep.state.jwks = { keys: [h.JWK1, h.JWK2] };
  assert.equal((await g.evaluate(req(TOK2))).outcome, 'allow');
  assert.equal(ep.state.hits, 2);
  const unknown = h.signRS256(h.claims(), { kid: 'nobody' });
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal(ep.state.hits, 2, 'within the cooldown no refetch');
  await sleep(320);
  assert.equal((await g.evaluate(req(unknown))).reason, 'key_not_found');
  assert.equal(ep.state.hits, 3);
});

test('one fetch in flight at a time', async (t) => {
  const ep = await endpoint(t);
  ep.state.mode = 'slow';
  ep.state.delay = 100;
  const g = new JwksGate('partner-center', { jwksUri: ep.url, cooldown: 0 });
  const ds = await Promise.all([...Array.from({ length: 20 }, () => g.evaluate(req(TOK1))), g.refresh(), g.refresh(), g.ready()]);
  assert.ok(ds.slice(0, 20).every((d) => d.outcome === 'allow'));
  assert.equal(ep.state.hits, 1);
  assert.equal(g.fetchCount, 1);
});

test('garbage, errors, a refused JWK Set, and oversize documents keep the last good keys', async (t) => {
  const ep = await endpoint(t);
  const errors = [];
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, cooldown: 0, maxBytes: 64 * 1024, maxKeys: 3, onError: (e) => errors.push(e) }).ready();
  const cases = [
    ['garbage', (s) => (s.mode = 'garbage'), /did not answer JSON/],
    ['503', (s) => ((s.mode = 'status'), (s.status = 503)), /answered 503/],
    ['404', (s) => ((s.mode = 'status'), (s.status = 404)), /answered 404/],
    ['not a JWK Set', (s) => ((s.mode = 'ok'), (s.jwks = { nope: 1 })), /did not answer a JWK Set/],
    ['refused by the core', (s) => ((s.mode = 'ok'), (s.jwks = { keys: [{ kty: 'oct', kid: 'x', k: 'c2hvcnQ' }] })), /was refused/],
    ['too many keys', (s) => ((s.mode = 'ok'), (s.jwks = { keys: [h.JWK1, h.JWK2, h.OCT, { ...h.JWK1, kid: 'x' }] })), /maxKeys/],
    ['too large', (s) => (s.mode = 'huge'), /maxBytes/],
  ];
  for (const [name, set, msg] of cases) {
    set(ep.state);
    await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && msg.test(e.message), name);
    assert.ok(isFetchFailed(g.lastError), name);
    assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow', `${name}: last good keys kept`);
  }
  assert.equal(errors.length, cases.length);
  ep.state.mode = 'ok';
  ep.state.jwks = { keys: [h.JWK2] };
  await g.refresh();
  assert.equal(g.lastError, null);
  assert.equal((await g.evaluate(req(TOK1))).reason, 'key_not_found');
});

test('a slow endpoint times out and keeps the keys', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, cooldown: 0, timeout: 100 }).ready();
  ep.state.mode = 'slow';
  ep.state.delay = 1000;
  const t0 = Date.now();
  await assert.rejects(g.refresh(), (e) => isFetchFailed(e) && /no answer within 100 ms/.test(e.message));
  assert.ok(Date.now() - t0 < 900, 'the timeout bounds the fetch');
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
});

test('an endpoint that is down: no keys means key_not_found, and ready() rejects', async (t) => {
  const ep = await endpoint(t);
  const url = ep.url;
  await close(ep.server);
  const g = new JwksGate('partner-center', { jwksUri: url, cooldown: 10_000 });
  await assert.rejects(g.ready(), (e) => isFetchFailed(e) && /cannot fetch/.test(e.message));
  const d = await g.evaluate(req(TOK1));
  assert.equal(d.reason, 'key_not_found');
  assert.equal(d.http.status, 401);
  assert.equal(g.fetchCount, 1, 'the cooldown spaces retries after a failure');
  assert.equal((await g.evaluate({ path: '/v1/x', now: h.NOW })).reason, 'no_credential');
});

test('an endpoint that goes down after a success keeps serving the last keys', async (t) => {
  const ep = await endpoint(t);
  const g = await new JwksGate('partner-center', { jwksUri: ep.url, cooldown: 0, ttl: 0 }).ready();
  await close(ep.server);
  assert.equal((await g.evaluate(req(TOK1))).outcome, 'allow');
  await sleep(30);
  assert.ok(isFetchFailed(g.lastError));
  assert.equal((await g.evaluateAsync(req(TOK1))).outcome, 'allow');
});

test('options are checked', () => {
  assert.throws(() => new JwksGate('partner-center', {}), TypeError);
  assert.throws(() => new JwksGate('partner-center', { jwksUri: 'http://x', ttl: -1 }), TypeError);
  assert.throws(() => new JwksGate('nope', { jwksUri: 'http://x' }), (e) => e.code === 'policy_unknown_builtin');
});
