'use strict';
// Runs the conformance vectors (tests/vectors/*.json) and the request checks
// (tests/requests/checks.json) unchanged, with the one JavaScript runner the
// WebAssembly build also uses (tests/js/vectors-runner.js), and prints
// "N passed, M failed".
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const api = require('../lib/index.js');

const ROOT = path.join(__dirname, '../../tests');
const DIR = path.resolve(process.env.MFAGATE_VECTORS_DIR ?? path.join(ROOT, 'vectors'));
const runner = import(path.join(ROOT, 'js/vectors-runner.js'));

test(`conformance vectors in ${DIR}`, async () => {
  const { runVectors } = await runner;
  const files = fs.readdirSync(DIR)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .sort()
    .map((name) => ({ name, text: fs.readFileSync(path.join(DIR, name), 'utf8') }));
  assert.ok(files.length > 0, `no vector files in ${DIR}`);
  const r = await runVectors(api, files);
  for (const l of r.lines) console.log(l);
  assert.deepEqual(r.failed, []);
  assert.ok(r.passed > 300, `only ${r.passed} vectors ran`);
});

test('the request checks: the core refuses the same requests with the same messages', async () => {
  const { runRequestChecks } = await runner;
  const gate = new api.Gate('partner-center', { keys: [] });
  const text = fs.readFileSync(path.join(ROOT, 'requests/checks.json'), 'utf8');
  for (const evaluate of [(r) => gate.evaluate(r), (r) => gate.evaluateAsync(r), (r) => JSON.parse(gate.evaluateJson(r))]) {
    const r = await runRequestChecks(api, text, evaluate);
    for (const l of r.lines) console.log(l);
    assert.deepEqual(r.failed, []);
    assert.ok(r.passed >= 20);
  }
});

test('the subset comparison can fail', async () => {
  const { matcherSelfTest } = await runner;
  assert.deepEqual(matcherSelfTest(fs.readFileSync(path.join(ROOT, 'matcher/cases.json'), 'utf8')), []);
});

test('the error classes: one constructor, real Error subclasses', async () => {
  const { errorContract } = await runner;
  assert.deepEqual(errorContract(api), []);
});
