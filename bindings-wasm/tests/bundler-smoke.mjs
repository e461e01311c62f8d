// The bundler build, loaded the way a bundler with WebAssembly ESM
// integration would: node --experimental-wasm-modules tests/bundler-smoke.mjs
import assert from 'node:assert/strict';
import * as m from '../pkg/bundler.js';
import { jwt, jwks, claims, NOW } from './tokens.mjs';

const g = new m.Gate('partner-center', jwks);
const d = await g.evaluate({ path: '/v1/customers', authorization: `Bearer ${jwt(claims.appUserMfa)}`, now: NOW });
assert.equal(d.reason, 'mfa_satisfied');
assert.throws(() => new m.Gate('nope', null), (e) => e instanceof m.PolicyError && e.code === 'policy_unknown_builtin');
assert.equal(m.inspect(jwt(claims.appOnly), 'partner-center').inspection.kind, 'app_only');
console.log('bundler build: 3 passed, 0 failed');
