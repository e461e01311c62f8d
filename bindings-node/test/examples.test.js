'use strict';
// The examples of docs/node.md: the code blocks are the example files, and
// the examples run against a local JWKS endpoint.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const h = require('./helpers.js');
const { listen, close, jwksServer } = require('./servers.js');

const ROOT = path.resolve(__dirname, '../..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs/node.md'), 'utf8');

function blockAfter(marker) {
  const at = DOC.indexOf(marker);
  assert.ok(at >= 0, `docs/node.md has no ${marker}`);
  const m = /```js\n([\s\S]*?)```/.exec(DOC.slice(at));
  return m[1];
}

async function runExample(t, file, env = {}) {
  const rel = `bindings-node/examples/${file}`;
  assert.equal(blockAfter(`<!-- example: ${rel} -->`), fs.readFileSync(path.join(ROOT, rel), 'utf8'), `docs/node.md shows ${rel} as it is`);
  const jwks = jwksServer({ keys: [h.JWK1] });
  const jwksUri = `${await listen(jwks.server)}/keys`;
  t.after(() => close(jwks.server));
  const child = spawn(process.execPath, [path.join(ROOT, rel)], { env: { ...process.env, PORT: '0', JWKS_URI: jwksUri, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  const base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
  });
  return { base, jwks };
}

const fresh = (extra) => h.signRS256(h.claims(extra, Math.floor(Date.now() / 1000) - 60));

test('the Express example runs', async (t) => {
  const { base, jwks } = await runExample(t, 'express.js');
  let r = await fetch(`${base}/v1/customers`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${fresh({ amr: ['pwd'] })}` } });
  assert.equal(r.status, 401);
  assert.equal(r.statusText, 'Unauthorized - MFA required');
  r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${fresh()}` } });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { user: 'admin@contoso.example', mfa: 'amr' });
  assert.equal(jwks.state.hits, 1);
});

test('the Fastify example runs', async (t) => {
  const ADMIN = 'a1a1a1a1-0000-4000-8000-000000000001';
  const { base } = await runExample(t, 'fastify.js', { CLIENT_ID: h.APP, PARTNER_TENANT: h.TENANT, ADMIN_AGENTS_GROUP: ADMIN });
  let r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${fresh()}` } });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { reason: 'mfa_satisfied' });
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/.auth/login/aad?return_to=/commerce/customers');
  // A signed-in agent's ID token (aud: the app's client ID).
  const session = (extra) => fresh({ aud: h.APP, appid: undefined, scp: undefined, groups: [ADMIN], ...extra });
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual', headers: { cookie: `id_token=${session({ amr: ['pwd'] })}` } });
  assert.equal(r.status, 302);
  assert.match(r.headers.get('location'), /^\/\.auth\/login\/aad\?prompt=login&amr_values=mfa&return_to=/);
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual', headers: { cookie: `id_token=${session()}` } });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), `Customers of ${h.TENANT}`);
  // Two session cookies: refused, never one picked.
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual', headers: { cookie: `id_token=${session()}; id_token=${session({ amr: ['pwd'] })}` } });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).reason, 'credential_ambiguous');
  // A member of no agent group: 403 without an MFA prompt.
  r = await fetch(`${base}/commerce/customers`, { redirect: 'manual', headers: { cookie: `id_token=${session({ amr: ['pwd'], groups: undefined })}` } });
  assert.equal(r.status, 403);
});
