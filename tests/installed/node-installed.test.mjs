// The release tarballs of mfagate and mfagate-wasm, as npm installed them in a
// fresh project (tests/installed/test.sh copies this file, the vector runner and
// the data there, outside the checkout, and runs `node --test` in it):
// the conformance vectors through each package, the docs' Express and
// Fastify examples as written, the loader's error without the addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { runVectors, runRequestChecks, matcherSelfTest, errorContract } from './vectors-runner.js';

const HERE = process.cwd();
const DATA = join(HERE, 'data');
const require = createRequire(join(HERE, 'package.json'));
const tokens = JSON.parse(readFileSync(join(HERE, 'tokens.json'), 'utf8'));
const files = () => readdirSync(join(DATA, 'vectors'))
  .filter((n) => n.endsWith('.json') && n !== 'index.json').sort()
  .map((name) => ({ name, text: readFileSync(join(DATA, 'vectors', name), 'utf8') }));

async function vectors(api, label) {
  const r = await runVectors(api, files());
  console.log(`${label}: ${r.passed} vectors passed, ${r.failed.length} failed`);
  assert.deepEqual(r.failed, []);
  assert.ok(r.passed > 300, `only ${r.passed} vectors ran`);
  assert.deepEqual(matcherSelfTest(readFileSync(join(DATA, 'matcher/cases.json'), 'utf8')), []);
  assert.deepEqual(errorContract(api), []);
  const gate = new api.Gate('partner-center', { keys: [] });
  const checks = await runRequestChecks(api, readFileSync(join(DATA, 'requests/checks.json'), 'utf8'), (q) => gate.evaluate(q));
  assert.deepEqual(checks.failed, []);
}

test('mfagate: installed from the tarballs, the addon from mfagate-linux-x64-gnu', () => {
  const main = realpathSync(require.resolve('mfagate'));
  assert.ok(main.startsWith(join(HERE, 'node_modules', 'mfagate') + '/'), main);
  const pkg = require('mfagate/package.json');
  assert.equal(pkg.devDependencies, undefined);
  assert.deepEqual(Object.keys(pkg.optionalDependencies).sort(), ['mfagate-darwin-arm64', 'mfagate-darwin-x64', 'mfagate-linux-arm64-gnu',
    'mfagate-linux-x64-gnu', 'mfagate-linux-x64-musl', 'mfagate-win32-x64-msvc']);
  require('mfagate');
  const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
  assert.deepEqual(loaded.map((f) => f.slice(HERE.length)), ['/node_modules/mfagate-linux-x64-gnu/mfagate.linux-x64-gnu.node']);
});

test('mfagate: the conformance vectors', () => vectors(require('mfagate'), 'mfagate'));

test('mfagate-wasm: the conformance vectors (import and require: one instance)', async () => {
  const esm = await import(join(HERE, 'node_modules/mfagate-wasm/node.mjs'));
  const viaName = await import('mfagate-wasm');
  assert.equal(viaName.Gate, esm.Gate);
  assert.equal(require('mfagate-wasm').Gate, esm.Gate);
  await vectors(esm, 'mfagate-wasm');
});

// ---- the docs' examples, as written, against a local JWKS endpoint
function jwksServer() {
  const body = readFileSync(join(DATA, 'jwks.json'));
  const state = { hits: 0 };
  const server = createServer((req, res) => { state.hits++; res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, state, url: `http://127.0.0.1:${server.address().port}/keys` })));
}

async function runExample(t, file, env = {}) {
  const jwks = await jwksServer();
  t.after(() => jwks.server.close());
  const child = spawn(process.execPath, [join(HERE, 'examples', file)], { cwd: HERE, env: { ...process.env, PORT: '0', JWKS_URI: jwks.url, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  const base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => { out += b; const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out); if (m) resolve(m[1]); });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
  });
  return { base, jwks };
}

test('the Express example of docs/node.md runs from the installed package', async (t) => {
  const { base, jwks } = await runExample(t, 'express.js');
  let r = await fetch(`${base}/v1/customers`);
  assert.equal(r.status, 401);
  r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${tokens.api_pwd}` } });
  assert.equal(r.status, 401);
  assert.equal(r.statusText, 'Unauthorized - MFA required');
  r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${tokens.api_mfa}` } });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { user: 'alice@contoso.example', mfa: 'amr' });
  assert.equal(jwks.state.hits, 1);
});

test('the Fastify example of docs/node.md runs from the installed package', async (t) => {
  const { base } = await runExample(t, 'fastify.js', { CLIENT_ID: tokens.client_id, PARTNER_TENANT: tokens.tenant, ADMIN_AGENTS_GROUP: tokens.agents });
  let r = await fetch(`${base}/commerce/customers`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual', headers: { cookie: `id_token=${tokens.id_pwd}` } });
  assert.equal(r.status, 302);
  assert.match(r.headers.get('location'), /^\/\.auth\/login\/aad\?prompt=login&amr_values=mfa&return_to=/);
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual', headers: { cookie: `id_token=${tokens.id_mfa}` } });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), `Customers of ${tokens.tenant}`);
  r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${tokens.api_mfa}` } });
  assert.equal(r.status, 200);
});

test('without its addon, the loader names the platform and the packages it looked for', () => {
  const run = (code) => {
    try {
      execFileSync(process.execPath, ['-e', code], { cwd: process.env.MFAGATE_NO_ADDON, encoding: 'utf8', stdio: 'pipe' });
      return 'the package loaded without its addon';
    } catch (e) {
      return e.stderr;
    }
  };
  let err = run("require('mfagate')");
  assert.match(err, /no native addon could be loaded for this platform, linux-x64-gnu \(process\.platform linux, process\.arch x64, libc glibc\)/);
  assert.match(err, /the package mfagate-linux-x64-gnu: not installed/);
  assert.match(err, /npm install mfagate-linux-x64-gnu/);
  err = run("Object.defineProperty(process, 'platform', { value: 'freebsd' }); require('mfagate')");
  assert.match(err, /for this platform, freebsd-x64 \(process\.platform freebsd, process\.arch x64\)/);
  assert.match(err, /linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, darwin-x64, darwin-arm64, win32-x64-msvc; freebsd-x64 is not one of them/);
  assert.match(err, /mfagate-wasm/);
});
