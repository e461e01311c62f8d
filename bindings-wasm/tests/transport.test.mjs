// Every decision js/gate.js reads from the packed string (src/pack.rs) is
// exactly the core's JSON, keys in order: over the conformance vectors, with
// and without a TokenCache, and on claims; and odd requests still reach the
// core (which words what is wrong), whichever path they take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from '../pkg/node.mjs';
import { jwks, jwt, makeClaims } from './tokens.mjs';

const vectors = fileURLToPath(new URL('../../tests/vectors/', import.meta.url));

test('every vector decision reads back as the core JSON', async () => {
  let n = 0;
  const cache = new api.TokenCache();
  for (const name of readdirSync(vectors).filter((f) => f.endsWith('.json') && f !== 'index.json').sort()) {
    const f = JSON.parse(readFileSync(join(vectors, name), 'utf8'));
    const keys = JSON.stringify(f.keys);
    for (const c of f.cases) {
      if (c.expect === undefined || c.expect === null) continue;
      for (const options of [undefined, { cache }]) {
        const gate = new api.Gate(c.policy, keys, options);
        try {
          // Twice: the second reads the string table the first filled (and a cache hit).
          for (let k = 0; k < 2; k++) {
            const d = await gate.evaluate(c.request);
            const core = gate.__decisionJson(c.request, d.reason !== 'signature_invalid');
            assert.equal(JSON.stringify(d), core, `${name}#${c.id}`);
            n++;
          }
        } finally {
          gate.free();
        }
      }
    }
  }
  assert.ok(n > 1000, `${n} decisions`);
});

test('claims decisions read back as the core JSON', () => {
  const now = 1700000000;
  const gate = new api.Gate('partner-center', jwks);
  for (const [kind, claims] of Object.entries(makeClaims(now))) {
    for (const req of [{ path: '/v1/customers', now }, { path: '/v1/customers', method: 'POST', now, validate_mfa: true }]) {
      const a = gate.evaluateClaims(JSON.stringify(claims), req);
      const b = gate.evaluateClaims(claims, req);
      assert.deepEqual(a, b, kind);
      assert.equal(a.outcome === 'allow' || a.outcome === 'deny' || a.outcome === 'step_up', true, kind);
    }
  }
});

test('non-ASCII, long and odd values cross intact', async () => {
  const now = 1700000000;
  const gate = new api.Gate('partner-center', jwks);
  const token = jwt(makeClaims(now).appUserMfa);
  for (const req of [
    { path: '/v1/é/ü/日本/😀', authorization: `Bearer ${token}`, now },
    { path: `/v1/customers/${'x'.repeat(70000)}`, authorization: `Bearer ${token}`, now },
    { path: '/v1/customers', authorization: `Bearer ${token}`, now, host: 'ä.example', method: 'gEt', mfa_registered: false, validate_mfa: true },
    { path: '/v1/customers', authorization: null, token: undefined, now },
    { path: '/v1/customers', token: `${token}\u{1F600}`, now },
  ]) {
    const d = await gate.evaluate(req);
    assert.equal(JSON.stringify(d), gate.__decisionJson(req, true), JSON.stringify(req).slice(0, 80));
  }
});

test('requests of other shapes get the core own refusal on either path', async () => {
  const gate = new api.Gate('partner-center', jwks);
  const cases = [
    [{ path: '/', mfaRegistered: true }, /unknown request key "mfaRegistered"/],
    [{ path: 1 }, /request.path must be a string, not a number/],
    [{ path: '/', now: '1' }, /request.now must be an integer/],
    [{ path: '/', now: 1.5 }, /whole Unix seconds/],
    [{ path: '/', now: 1700000000000 }, /milliseconds/],
    [{ path: '/', validate_mfa: 'true' }, /must be a boolean/],
    [{ now: 1 }, /request.path is required/],
    [['/'], /must be an object, not an array/],
    [null, /must be an object, not null/],
    [{ get path() { throw new Error('no'); } }, /could not be read: no/],
  ];
  for (const [req, re] of cases) {
    await assert.rejects(gate.evaluate(req), (e) => e instanceof api.UsageError && re.test(e.message), String(re));
    assert.throws(() => gate.evaluateClaims('{}', req), (e) => e instanceof api.UsageError && re.test(e.message), String(re));
  }
  assert.throws(() => gate.evaluateClaims(10n, { path: '/', now: 1 }), (e) => e instanceof api.UsageError && /claims cannot be turned into JSON/.test(e.message));
});
