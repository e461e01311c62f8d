'use strict';
// Where an HS256 decision's time goes: the bare N-API call, the native call
// without and with a token, the JavaScript reading of the packed decision,
// and the whole Gate.evaluate, without and with a TokenCache hit. Best of 3
// runs of 300k calls each.
// Usage: node bench/breakdown.js
const native = require('../lib/native.js');
const { Gate, TokenCache } = require('../lib/index.js');
const { read } = require('../lib/decision.js');
const h = require('../test/helpers.js');

const now = Math.floor(Date.now() / 1000);
const spec = { builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } };
const ng = new native.NativeGate(spec, { keys: [h.OCT] });
const gate = new Gate(spec, { keys: [h.OCT] });
const auth = `Bearer ${h.signHS256(h.claims({}, now - 60))}`;
const request = { path: '/v1/customers', authorization: auth, now };
const packed = ng.evaluatePacked(request);
if (read(packed).outcome !== 'allow') throw new Error('the token does not pass');
const cache = new TokenCache();
const cached = new Gate(spec, { keys: [h.OCT] }, { cache });
const nativeCached = new native.NativeGate(spec, { keys: [h.OCT] }).withCache(new native.NativeTokenCache({}));
nativeCached.evaluatePacked(request);
const rsAuth = `Bearer ${h.signRS256(h.claims({}, now - 60))}`;
const rsRequest = { path: '/v1/customers', authorization: rsAuth, now };
const rsCached = new Gate('partner-center', { keys: [h.JWK1] }, { cache: new TokenCache() });
if (rsCached.evaluate(rsRequest).outcome !== 'allow') throw new Error('the RS256 token does not pass');

function bench(name, fn) {
  for (let i = 0; i < 20000; i++) fn();
  const N = 300000;
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / N / 1000);
  }
  console.log(`${name.padEnd(52)} ${best.toFixed(2)} µs`);
}

bench('N-API getter (call floor)', () => ng.policyName);
bench('native evaluatePacked, no credential', () => ng.evaluatePacked({ path: '/v1/customers', now }));
bench('native evaluatePacked, HS256 token', () => ng.evaluatePacked(request));
bench('native evaluatePacked, HS256 token, TokenCache hit', () => nativeCached.evaluatePacked(request));
bench('read(packed) in JavaScript', () => read(packed));
bench('Gate.evaluate, HS256 token (all of it)', () => gate.evaluate(request));
bench('Gate.evaluate, HS256 token, TokenCache hit', () => cached.evaluate(request));
bench('Gate.evaluate, RS256 token, TokenCache hit', () => rsCached.evaluate(rsRequest));
console.log(`packed decision: ${packed.length} UTF-16 units`);
