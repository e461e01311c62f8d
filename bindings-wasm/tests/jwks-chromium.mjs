// JwksCache in headless Chromium (web build), against endpoints on the page's
// own origin (127.0.0.1): the browser's fetch gives a manual redirect as an
// opaque answer without a status, reads bodies as streams, and aborts with
// an AbortController. `node --test tests/jwks-chromium.mjs` after a build.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../examples/inspector/serve.mjs';
import { launch } from './chromium.mjs';
import { jwt, jwks, keys, makeClaims, TENANT } from './tokens.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const OTHER = '0b1c2d3e-4444-4555-8666-977788899900';
const hits = {};
let flips = 0;
const server = await serve({
  mounts: [['/pkg', join(here, '..', 'pkg')], ['/tests', here]],
  extra: (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (!path.startsWith('/idp/') && !path.startsWith(`/${TENANT}/`)) return false;
    hits[path] = (hits[path] ?? 0) + 1;
    const json = (v) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    const rsa = { keys: jwks.keys.slice(0, 2) };
    if (path === '/idp/keys') json(rsa);
    else if (path === '/idp/redirect') res.writeHead(302, { location: '/idp/moved' }).end();
    else if (path === '/idp/moved') json({ keys: [...rsa.keys, { ...jwks.keys[0], kid: 'rsa-moved' }] });
    else if (path === '/idp/flip') { if (flips++ === 0) json(rsa); else res.writeHead(302, { location: '/idp/moved' }).end(); }
    else if (path === '/idp/slow') { /* never answers */ }
    else if (path === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
      json({ issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`, jwks_uri: `${server.url}/${TENANT}/discovery/v2.0/keys`, id_token_signing_alg_values_supported: ['RS256'] });
    } else if (path === `/${TENANT}/discovery/v2.0/keys`) json(rsa);
    else res.writeHead(404).end();
    return true;
  },
});
const { ctx, close } = await launch();
test.after(async () => { await close(); await server.close(); });
const page = await ctx.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
await page.goto(`${server.url}/tests/browser/jwks.html`);
await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });

const now = Math.floor(Date.now() / 1000);
const tokenOf = (tid, extra = {}) => `Bearer ${jwt({ ...makeClaims(now).appUserMfa, tid, iss: `https://sts.windows.net/${tid}/` }, extra)}`;

/** Runs `f(mfagate, arg)` in the page. */
const inPage = (f, arg) => page.evaluate(async ([src, a]) => (0, eval)(`(${src})`)(window.mfagate, a), [f.toString(), arg]);

test('a redirect is an opaque answer in the browser: a failed fetch, never followed; the last good keys stay', async () => {
  const r = await inPage(async (m, arg) => {
    const errors = [];
    const onError = (e) => errors.push({ name: e.name, code: e.code, message: e.message, isError: e instanceof Error, isJwksError: e instanceof m.JwksError });
    const before = new m.JwksGate('partner-center', new m.JwksCache(location.origin + '/idp/redirect', { onError }));
    const first = await before.evaluate({ path: '/v1/customers', authorization: arg.token });
    const flip = new m.JwksCache(location.origin + '/idp/flip', { ttlSeconds: 0.001, minRefreshSeconds: 0, onError });
    const gate = new m.JwksGate('partner-center', flip);
    const a = await gate.evaluate({ path: '/v1/customers', authorization: arg.token });
    await new Promise((r) => setTimeout(r, 20));
    const b = await gate.evaluate({ path: '/v1/customers', authorization: arg.token });
    const moved = await gate.evaluate({ path: '/v1/customers', authorization: arg.moved });
    return { first: [first.reason, first.http.status], a: a.reason, b: b.reason, moved: moved.reason, errors, version: flip.version };
  },
  { token: tokenOf(TENANT), moved: tokenOf(TENANT, { kid: 'rsa-moved', key: keys.rsa1 }) });
  assert.deepEqual(r.first, ['keys_unavailable', 503]);
  assert.equal(r.a, 'mfa_satisfied');
  assert.equal(r.b, 'mfa_satisfied', 'the last good keys stay in use');
  assert.equal(r.moved, 'key_not_found', 'the redirect target was not used');
  assert.equal(r.version, 1);
  assert.ok(r.errors.length >= 2, JSON.stringify(r.errors));
  for (const e of r.errors) {
    assert.deepEqual([e.name, e.code, e.isError, e.isJwksError], ['JwksError', 'jwks_fetch_failed', true, true]);
    assert.match(e.message, /redirect \(redirects are not followed\)/);
  }
  assert.equal(hits['/idp/moved'], undefined, 'the browser never followed the redirect');
  assert.deepEqual(pageErrors, []);
});

test('discovery in the browser: a tenant\'s configuration, its keys, RS256 by WebCrypto; another tenant is issuer_invalid', async () => {
  const r = await inPage(async (m, arg) => {
    const cache = new m.JwksCache(`${location.origin}/${arg.tenant}/v2.0`); // an authority
    const gate = new m.JwksGate('partner-center', cache);
    const mine = await gate.evaluate({ path: '/v1/customers', authorization: arg.mine });
    const other = await gate.evaluate({ path: '/v1/customers', authorization: arg.other });
    return { mine: mine.reason, detail: mine.detail, other: [other.outcome, other.reason], issuer: cache.issuer, jwksUrl: cache.jwksUrl, fetches: cache.stats.fetches };
  },
  { tenant: TENANT, mine: tokenOf(TENANT), other: tokenOf(OTHER) });
  assert.equal(r.mine, 'mfa_satisfied', r.detail);
  assert.deepEqual(r.other, ['deny', 'issuer_invalid']);
  assert.equal(r.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
  assert.equal(r.jwksUrl, `${server.url}/${TENANT}/discovery/v2.0/keys`);
  assert.equal(r.fetches, 1);
});

test('the timeout aborts the browser\'s fetch', async () => {
  const r = await inPage(async (m) => {
    const cache = new m.JwksCache(location.origin + '/idp/slow', { timeoutSeconds: 0.2 });
    const t0 = performance.now();
    try { await cache.get(); return { ok: true }; } catch (e) { return { code: e.code, message: e.message, ms: performance.now() - t0 }; }
  });
  assert.equal(r.code, 'jwks_fetch_failed');
  assert.match(r.message, /no answer within 0\.2 s/);
  assert.ok(r.ms < 2000, `${r.ms} ms`);
});
