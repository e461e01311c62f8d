'use strict';
// Runs the conformance vectors (tests/vectors/*.json, format mfagate-vectors/1)
// unchanged, as docs/bindings.md describes, and prints "N passed, M failed".
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Gate } = require('../lib/index.js');

const DIR = path.resolve(process.env.MFAGATE_VECTORS_DIR ?? path.join(__dirname, '../../tests/vectors'));

/** Where `actual` differs from the subset `expected`, or null. A missing key counts as null. */
function subsetMismatch(expected, actual, at) {
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(expected) && isObj(actual)) {
    for (const [k, ev] of Object.entries(expected)) {
      const m = subsetMismatch(ev, Object.hasOwn(actual, k) ? actual[k] : null, `${at}.${k}`);
      if (m) return m;
    }
    return null;
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    for (let i = 0; i < expected.length; i++) {
      const m = subsetMismatch(expected[i], actual[i], `${at}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (expected === actual || (!isObj(expected) && !Array.isArray(expected) && JSON.stringify(expected) === JSON.stringify(actual))) return null;
  return `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** Runs one case; returns null when it passes, else why it failed. */
function runCase(keys, c) {
  let gate;
  let error = null;
  try {
    gate = new Gate(c.policy, keys);
  } catch (e) {
    error = e;
  }
  if (c.expect_error) {
    if (!error) return 'the gate built, but an error was expected';
    return subsetMismatch(c.expect_error, { code: error.code ?? null, message: error.message }, 'error');
  }
  if (error) return `the gate did not build: [${error.code}] ${error.message}`;
  if (!c.expect) return 'the case has neither expect nor expect_error';
  return subsetMismatch(c.expect, gate.evaluate(c.request), 'decision');
}

const files = fs.existsSync(DIR)
  ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json').sort()
  : [];
let passed = 0;
const failed = [];

test(`conformance vectors in ${DIR}`, async (t) => {
  assert.ok(files.length > 0, `no vector files in ${DIR}`);
  for (const f of files) {
    const doc = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
    assert.equal(doc.format, 'mfagate-vectors/1', `${f}: format`);
    assert.ok(Array.isArray(doc.cases) && doc.cases.length > 0, `${f}: no cases`);
    const keys = JSON.stringify(doc.keys);
    for (const c of doc.cases) {
      await t.test(`${f} ${c.id}`, () => {
        let why;
        try {
          why = runCase(keys, c);
        } catch (e) {
          why = `threw ${e?.name}: ${e?.message}`;
        }
        if (why) failed.push(`${c.id}: ${why}`);
        else passed += 1;
        assert.equal(why, null);
      });
    }
  }
});

test('the subset comparison can fail', () => {
  assert.equal(subsetMismatch({ a: 1 }, { a: 1, b: 2 }, 'd'), null);
  assert.equal(subsetMismatch({ a: null }, {}, 'd'), null);
  assert.notEqual(subsetMismatch({ a: 1 }, {}, 'd'), null);
  assert.notEqual(subsetMismatch([1], [1, 2], 'd'), null);
  assert.notEqual(subsetMismatch({ a: { b: [1, 2] } }, { a: { b: [1, 3] } }, 'd'), null);
  assert.notEqual(subsetMismatch({ a: {} }, { a: 'x' }, 'd'), null);
});

after(() => {
  for (const f of failed) console.log(`FAILED ${f}`);
  console.log(`${passed} passed, ${failed.length} failed`);
});
