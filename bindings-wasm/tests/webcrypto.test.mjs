// WebCrypto is captured once, when the module is initialised: code that runs
// later in the same isolate cannot replace what verifies signatures
// (`crypto.subtle.verify`, `crypto.subtle`, `globalThis.crypto`).
// The module is loaded after the counting wrappers below are installed, so
// they are what it captures.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jwt, jwks, claims, keys, NOW } from './tokens.mjs';

const realCrypto = globalThis.crypto;
const realSubtle = realCrypto.subtle;
const proto = Object.getPrototypeOf(realSubtle);
const count = { importKey: 0, verify: 0 };
const wrapped = {};
for (const name of ['importKey', 'verify']) {
  const original = proto[name];
  wrapped[name] = function (...a) { count[name]++; return original.apply(this, a); };
  realSubtle[name] = wrapped[name];
}
const m = await import('../pkg/node.mjs');

const bearer = (t) => `Bearer ${t}`;
const api = (authorization) => ({ path: '/v1/customers', authorization, now: NOW });
const withAlg = (a) => ({ builtin: 'partner-center', overrides: { token: { algorithms: [a] } } });
const good = (alg = 'RS256', kid = 'rsa-1') => bearer(jwt(claims.appUserMfa, { alg, kid }));
/** Signed by another key under the same kid: the signature does not verify. */
const forged = (alg = 'RS256', kid = 'rsa-1') => bearer(jwt(claims.appUserMfa, { alg, kid, key: { RS256: keys.rsa2, PS256: keys.rsa1, ES256: keys.rsa1 }[alg] ?? keys.rsa2 }));
const yes = async () => true;

/** Runs `f` with a global replaced, then puts it back. */
async function replaced(install, restore, f) {
  install();
  try {
    await f();
  } finally {
    restore();
  }
}

/** Forged tokens are refused and good ones allowed, on a gate whose key is imported already and on a fresh one. */
async function stillVerifies(what, warm) {
  for (const [alg, kid] of [['RS256', 'rsa-1'], ['PS256', 'rsa-2']]) {
    for (const g of [warm[alg], new m.Gate(withAlg(alg), jwks)]) {
      const bad = await g.evaluate(api(forged(alg, kid)));
      assert.deepEqual([bad.outcome, bad.reason], ['deny', 'signature_invalid'], `${what}, ${alg}: ${bad.detail}`);
      const ok = await g.evaluate(api(good(alg, kid)));
      assert.deepEqual([ok.outcome, ok.reason], ['allow', 'mfa_satisfied'], `${what}, ${alg}: ${ok.detail}`);
    }
  }
}

async function warmGates() {
  const warm = { RS256: new m.Gate(withAlg('RS256'), jwks), PS256: new m.Gate(withAlg('PS256'), jwks) };
  for (const [alg, kid] of [['RS256', 'rsa-1'], ['PS256', 'rsa-2']]) {
    assert.equal((await warm[alg].evaluate(api(good(alg, kid)))).reason, 'mfa_satisfied');
  }
  return warm;
}

test('replacing crypto.subtle.verify after initialisation changes nothing', async () => {
  const warm = await warmGates();
  await replaced(
    () => { realSubtle.verify = yes; },
    () => { realSubtle.verify = wrapped.verify; },
    () => stillVerifies('crypto.subtle.verify replaced', warm),
  );
  const protoVerify = Object.getOwnPropertyDescriptor(proto, 'verify');
  await replaced(
    () => {
      delete realSubtle.verify;
      Object.defineProperty(proto, 'verify', { value: yes, configurable: true, writable: true });
    },
    () => {
      Object.defineProperty(proto, 'verify', protoVerify);
      realSubtle.verify = wrapped.verify;
    },
    () => stillVerifies('SubtleCrypto.prototype.verify replaced', warm),
  );
});

test('replacing globalThis.crypto or crypto.subtle after initialisation changes nothing', async () => {
  const warm = await warmGates();
  const fake = { subtle: { importKey: (...a) => realSubtle.importKey(...a), verify: yes } };
  const desc = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  await replaced(
    () => Object.defineProperty(globalThis, 'crypto', { value: fake, configurable: true }),
    () => Object.defineProperty(globalThis, 'crypto', desc),
    () => stillVerifies('globalThis.crypto replaced', warm),
  );
  await replaced(
    () => Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true }),
    () => Object.defineProperty(globalThis, 'crypto', desc),
    () => stillVerifies('globalThis.crypto removed', warm),
  );
  const subtleDesc = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(realCrypto), 'subtle');
  await replaced(
    () => Object.defineProperty(Object.getPrototypeOf(realCrypto), 'subtle', { get: () => fake.subtle, configurable: true }),
    () => Object.defineProperty(Object.getPrototypeOf(realCrypto), 'subtle', subtleDesc),
    () => stillVerifies('crypto.subtle replaced', warm),
  );
});

test('each WebCrypto key is imported once per gate and algorithm, also under concurrency', async () => {
  const before = { ...count };
  const g = new m.Gate(withAlg('RS256'), jwks);
  const t = good();
  const ds = await Promise.all(Array.from({ length: 20 }, () => g.evaluate(api(t))));
  assert.ok(ds.every((d) => d.reason === 'mfa_satisfied'));
  for (let i = 0; i < 5; i++) assert.equal((await g.evaluate(api(t))).reason, 'mfa_satisfied');
  assert.equal(count.importKey - before.importKey, 1);
  assert.equal(count.verify - before.verify, 25, 'every decision verified with the captured verify');
  await g.evaluate(api(bearer(jwt(claims.appUserMfa, { kid: 'rsa-2' }))));
  assert.equal(count.importKey - before.importKey, 2);
  // HS256 never touches WebCrypto.
  const h = new m.Gate(withAlg('HS256'), jwks);
  await h.evaluate(api(bearer(jwt(claims.appUserMfa, { alg: 'HS256', kid: 'hs-1' }))));
  assert.equal(count.importKey - before.importKey, 2);
});

test('without WebCrypto at initialisation an RS256 evaluation is refused with verification_unavailable', () => {
  // A fresh process: the module is initialised while globalThis.crypto is missing.
  const pkg = fileURLToPath(new URL('../pkg/node.mjs', import.meta.url));
  const tokens = fileURLToPath(new URL('./tokens.mjs', import.meta.url));
  const script = `
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    const m = await import(${JSON.stringify(pkg)});
    const { jwt, jwks, claims, NOW } = await import(${JSON.stringify(tokens)});
    Object.defineProperty(globalThis, 'crypto', { value: (await import('node:crypto')).webcrypto, configurable: true });
    const g = new m.Gate('partner-center', jwks);
    const api = (a) => ({ path: '/v1/customers', authorization: a ? 'Bearer ' + a : null, now: NOW });
    const rs = await g.evaluate(api(jwt(claims.appUserMfa)));
    const hs = await new m.Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } }, jwks)
      .evaluate(api(jwt(claims.appUserMfa, { alg: 'HS256', kid: 'hs-1' })));
    const none = await g.evaluate(api(null));
    console.log(JSON.stringify([[rs.outcome, rs.reason, rs.http.status], hs.reason, none.reason]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
  // WebCrypto appearing later is not used either; HS256 and decisions that need no signature still work.
  assert.deepEqual(JSON.parse(out), [['deny', 'verification_unavailable', 500], 'mfa_satisfied', 'no_credential']);
});
