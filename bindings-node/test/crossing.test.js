'use strict';
// The two ways a request crosses to the core (lib/gate.js): as its fields
// (every key a request key, every value of the type the core reads there)
// or as the object. Both must give the core's decision and the core's
// refusal, word for word; evaluateJson always takes the object path, so it
// is the reference here.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Gate, TokenCache } = require('../lib/index.js');
const h = require('./helpers.js');

const JWKS = { keys: [h.JWK1] };
const auth = `Bearer ${h.signRS256(h.claims())}`;

function outcome(f) {
  try {
    return { decision: f() };
  } catch (e) {
    return { error: { name: e.constructor.name, code: e.code, message: e.message, hint: e.hint } };
  }
}

async function outcomeAsync(f) {
  try {
    return { decision: await f() };
  } catch (e) {
    return { error: { name: e.constructor.name, code: e.code, message: e.message, hint: e.hint } };
  }
}

const inherited = Object.assign(Object.create({ now: h.NOW }), { path: '/v1/customers', authorization: auth });
// An inherited credential is not the request's: the object path reads own
// keys only, and so must the fields path (else it would decide on a token
// the request does not carry).
const inheritedCredential = Object.assign(Object.create({ authorization: auth }), { path: '/v1/customers', now: h.NOW });
const withGetter = { get path() { return '/v1/customers'; }, now: h.NOW };
const requests = {
  'fields, every key': { method: 'POST', path: '/v1/customers', host: 'api.example', authorization: auth, token: null, now: h.NOW, mfa_registered: false, validate_mfa: true },
  'fields, null and undefined values': { method: undefined, path: '/v1/customers', host: null, authorization: auth, now: h.NOW, mfa_registered: null, validate_mfa: undefined },
  'no credential': { path: '/v1/customers', now: h.NOW },
  'non-ASCII path and host': { path: '/v1/clientes/çé/日本', host: 'bücher.example', authorization: auth, now: h.NOW },
  'a lone surrogate': { path: '/v1/\ud800x', authorization: `${auth}\udc00`, now: h.NOW },
  'an inherited key': inherited,
  'an inherited credential': inheritedCredential,
  'a getter': withGetter,
  'two credentials': { path: '/v1/customers', authorization: auth, token: 'x', now: h.NOW },
  'path missing': { now: h.NOW },
  'now in milliseconds': { path: '/v1', now: h.NOW * 1000 },
  'now and path both wrong, first key wins': { now: '1', path: 5 },
  'a wrong type among good ones': { path: '/v1', authorization: 5, now: h.NOW },
  'an unknown key': { path: '/v1', now: h.NOW, mfaRegistered: true },
  'an array value': { path: ['/v1'], now: h.NOW },
  'an array': ['/v1'],
  'null': null,
  'a string': '/v1',
  'a number': 5,
};

test('an inherited credential is not read: no_credential, as in WebAssembly and Python', () => {
  const g = new Gate('partner-center', JWKS);
  assert.equal(g.evaluate(inheritedCredential).reason, 'no_credential');
  assert.equal(JSON.parse(g.evaluateJson(inheritedCredential)).reason, 'no_credential');
});

for (const cache of [null, new TokenCache()]) {
  const g = new Gate('partner-center', JWKS, { cache });
  for (const [name, request] of Object.entries(requests)) {
    test(`${name}${cache ? ' (TokenCache)' : ''}: evaluate and evaluateAsync give what evaluateJson gives`, async () => {
      const want = outcome(() => JSON.parse(g.evaluateJson(request)));
      assert.deepEqual(outcome(() => g.evaluate(request)), want);
      assert.deepEqual(await outcomeAsync(() => g.evaluateAsync(request)), want);
    });
  }
}

test('a request without now is decided at the system clock on both paths', () => {
  const g = new Gate('partner-center', JWKS);
  const live = `Bearer ${h.signRS256(h.claims({}, Math.floor(Date.now() / 1000) - 60))}`;
  assert.equal(g.evaluate({ path: '/v1/customers', authorization: live }).outcome, 'allow');
  assert.equal(JSON.parse(g.evaluateJson({ path: '/v1/customers', authorization: live })).outcome, 'allow');
});
