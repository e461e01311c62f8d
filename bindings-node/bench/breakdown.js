'use strict';
// Where a decision's time goes: the bare N-API call, the native call with
// the request as an object (read key by key) and as its fields (what
// Gate.evaluate passes), without a credential, with an HS256 token and with
// a TokenCache hit, the JavaScript reading of the packed decision, and the
// whole Gate.evaluate. Rounds interleave every row (a shared machine's load
// moves between rows otherwise); best of ROUNDS (default 5) × 200k calls.
// Usage: node bench/breakdown.js
const native = require('../lib/native.js');
const { Gate, TokenCache } = require('../lib/index.js');
const { read } = require('../lib/decision.js');
const h = require('../test/helpers.js');

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const now = Math.floor(Date.now() / 1000);
const spec = { builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } };
const ng = new native.NativeGate(spec, { keys: [h.OCT] });
const gate = new Gate(spec, { keys: [h.OCT] });
const auth = `Bearer ${h.signHS256(h.claims({}, now - 60))}`;
const request = { path: '/v1/customers', authorization: auth, now };
const bare = { path: '/v1/customers', now };
const packed = ng.evaluatePacked(request);
if (read(packed).outcome !== 'allow') throw new Error('the token does not pass');
const cached = new Gate(spec, { keys: [h.OCT] }, { cache: new TokenCache() });
const nativeCached = new native.NativeGate(spec, { keys: [h.OCT] }).withCache(new native.NativeTokenCache({}));
nativeCached.evaluatePacked(request);
const rsAuth = `Bearer ${h.signRS256(h.claims({}, now - 60))}`;
const rsRequest = { path: '/v1/customers', authorization: rsAuth, now };
const rsCached = new Gate('partner-center', { keys: [h.JWK1] }, { cache: new TokenCache() });
if (rsCached.evaluate(rsRequest).outcome !== 'allow') throw new Error('the RS256 token does not pass');
const handles = new Map([ng, nativeCached].map((n) => [n, n.handle?.()]));
const fields = (n, r) => native.evaluateFields(handles.get(n), undefined, r.path, undefined, r.authorization, undefined, r.now, undefined, undefined);

const rows = [
  ['N-API function call (floor)', () => native.errorsDoc()],
  ['N-API class getter', () => ng.policyName],
  ['native, no credential, object', () => ng.evaluatePacked(bare)],
  ['native, no credential, fields', () => fields(ng, bare)],
  ['native, HS256 token, object', () => ng.evaluatePacked(request)],
  ['native, HS256 token, fields', () => fields(ng, request)],
  ['native, HS256 TokenCache hit, object', () => nativeCached.evaluatePacked(request)],
  ['native, HS256 TokenCache hit, fields', () => fields(nativeCached, request)],
  ['read(packed) in JavaScript', () => read(packed)],
  ['Gate.evaluate, no credential', () => gate.evaluate(bare)],
  ['Gate.evaluate, HS256 token (all of it)', () => gate.evaluate(request)],
  ['Gate.evaluate, HS256 token, TokenCache hit', () => cached.evaluate(request)],
  ['Gate.evaluate, RS256 token, TokenCache hit', () => rsCached.evaluate(rsRequest)],
].filter(([, fn]) => {
  try {
    fn();
    return true;
  } catch {
    return false; // an addon built before evaluateFields existed
  }
});

const N = 200000;
const best = rows.map(() => Infinity);
for (const [, fn] of rows) for (let i = 0; i < 20000; i++) fn();
for (let k = 0; k < ROUNDS; k++) {
  rows.forEach(([, fn], r) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    best[r] = Math.min(best[r], Number(process.hrtime.bigint() - t) / N / 1000);
  });
}
rows.forEach(([name], r) => console.log(`${name.padEnd(46)} ${best[r].toFixed(2)} µs`));
console.log(`packed decision: ${packed.length} UTF-16 units`);
