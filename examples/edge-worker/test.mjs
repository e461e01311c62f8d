// The edge gate in workerd on 127.0.0.1, with a local origin, tested with
// real HTTP requests: `node --test examples/edge-worker/test.mjs`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startWorkerd } from '../../bindings-wasm/tests/workerd.mjs';
import { jwt, jwks, makeClaims, keys } from '../../bindings-wasm/tests/tokens.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

// The origin: echoes what reached it; serves the JWK Set.
// `jwksMode`: 'ok', 'error' (500) or 'redirect' (302 to /moved/jwks.json, which
// serves the set plus a key 'rsa-moved': a cache that followed would find it).
const origin = { hits: [], jwksHits: 0, movedHits: 0, jwksMode: 'ok', jwks: { keys: jwks.keys.slice(0, 3) } };
const srv = createServer((req, res) => {
  if (req.url === '/.well-known/jwks.json') {
    origin.jwksHits++;
    if (origin.jwksMode === 'error') res.writeHead(500).end('down for maintenance');
    else if (origin.jwksMode === 'redirect') res.writeHead(302, { location: '/moved/jwks.json' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(origin.jwks));
    return;
  }
  if (req.url === '/moved/jwks.json') {
    origin.movedHits++;
    const moved = { keys: [...origin.jwks.keys, { ...jwks.keys[0], kid: 'rsa-moved' }] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(moved));
    return;
  }
  origin.hits.push(req.url);
  const seen = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-mfagate-')));
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ origin: true, method: req.method, path: req.url, seen }));
});
await new Promise((r) => srv.listen(0, '127.0.0.1', r));

// The shipped config, with the origin's port and the gate's socket changed.
mkdirSync(join(here, '.test'), { recursive: true });
const cfg = readFileSync(join(here, 'config.capnp'), 'utf8')
  .replace('address = "127.0.0.1:8080"', `address = "127.0.0.1:${srv.address().port}"`)
  .replaceAll('embed "', 'embed "../');
writeFileSync(join(here, '.test', 'config.capnp'), cfg);
// The same gate under the 2026 rules (what Partner Center enforces today).
const POLICY_2020 = '\\"builtin\\": \\"partner-center\\"';
assert.ok(cfg.includes(POLICY_2020), 'the shipped config names the built-in policy');
writeFileSync(join(here, '.test', 'config-2026.capnp'), cfg.replace(POLICY_2020, '\\"builtin\\": \\"partner-center-2026\\"'));
const [wd, wd2026] = await Promise.all([startWorkerd(join(here, '.test', 'config.capnp')), startWorkerd(join(here, '.test', 'config-2026.capnp'))]);
test.after(async () => {
  if (process.env.MFAGATE_DEBUG) console.log(wd.output(), wd2026.output());
  await Promise.all([wd.stop(), wd2026.stop()]);
  srv.closeAllConnections?.();
  srv.close();
});

const now = () => Math.floor(Date.now() / 1000);
const get = (path, headers = {}) => fetch(`${wd.url}${path}`, { headers, redirect: 'manual' });
const hitsBefore = () => origin.hits.length;

test('no credential on the API: 401 Bearer from the gate, origin untouched', async () => {
  const n = hitsBefore();
  const r = await get('/v1/customers');
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await r.json()).reason, 'no_credential');
  assert.equal(origin.hits.length, n);
});

test('App+User token with MFA: forwarded, with what the gate found', async () => {
  const t = jwt(makeClaims(now()).appUserMfa);
  const r = await get('/v1/customers?x=1', { authorization: `Bearer ${t}`, 'x-mfagate-reason': 'forged' });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.origin, true);
  assert.equal(body.path, '/v1/customers?x=1');
  assert.equal(body.seen['x-mfagate-reason'], 'mfa_satisfied');
  assert.equal(body.seen['x-mfagate-token-kind'], 'app_user');
  assert.equal(body.seen['x-mfagate-user'], 'ana@contoso.example');
});

test('App+User token without MFA: Partner Center\'s 401 "Unauthorized - MFA required"', async () => {
  const n = hitsBefore();
  const r = await get('/v1/customers', { authorization: `Bearer ${jwt(makeClaims(now()).appUserPwd)}` });
  assert.equal(r.status, 401);
  assert.equal(r.statusText, 'Unauthorized - MFA required');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal((await r.json()).reason, 'mfa_required');
  assert.equal(origin.hits.length, n);
});

test('a page with a session ID token without MFA: 302 to sign-in with MFA', async () => {
  const t = jwt(makeClaims(now()).idTokenPwd);
  const r = await get('/dashboard/billing', { cookie: `theme=dark; mfagate_id_token=${t}` });
  assert.equal(r.status, 302);
  const loc = r.headers.get('location');
  assert.ok(loc.startsWith('/.auth/login/aad?'), loc);
  assert.match(loc, /mfa|amr|acr|claims/i);
});

test('a page without a session: 302 to sign-in with return_to', async () => {
  const r = await get('/commerce/customers');
  assert.equal(r.status, 302);
  assert.match(r.headers.get('location'), /return_to=\/commerce\/customers/);
});

test('a role the route does not admit: 403', async () => {
  const r = await get('/commerce/customers', { cookie: `mfagate_id_token=${jwt(makeClaims(now()).idTokenMfa)}` });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).reason, 'role_not_permitted');
});

test('an unprotected page with a password-only session: forwarded', async () => {
  const r = await get('/dashboard/overview', { cookie: `mfagate_id_token=${jwt(makeClaims(now()).idTokenPwd)}` });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).seen['x-mfagate-reason'], 'mfa_not_required');
});

test('a forged signature: 401 invalid_token', async () => {
  const t = jwt(makeClaims(now()).appUserMfa, { kid: 'rsa-1', key: keys.rsa2 });
  const r = await get('/v1/customers', { authorization: `Bearer ${t}` });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).reason, 'signature_invalid');
  assert.match(r.headers.get('www-authenticate'), /invalid_token/);
});

test('key rotation: an unknown kid refreshes the JWKS (rate-limited), then passes', async () => {
  const t = jwt(makeClaims(now()).appUserMfa, { kid: 'rsa-new', key: keys.rsa2 });
  await new Promise((r) => setTimeout(r, 1100)); // past JWKS_MIN_REFRESH_SECONDS since the first fetch
  const before = origin.jwksHits;
  let r = await get('/v1/customers', { authorization: `Bearer ${t}` });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).reason, 'key_not_found');
  assert.equal(origin.jwksHits, before + 1, 'one refresh for the unknown kid');
  r = await get('/v1/customers', { authorization: `Bearer ${t}` });
  assert.equal(r.status, 401);
  assert.equal(origin.jwksHits, before + 1, 'no second refresh within the interval');
  origin.jwks = { keys: [...origin.jwks.keys, { ...jwks.keys[1], kid: 'rsa-new' }] };
  await new Promise((r2) => setTimeout(r2, 1100));
  r = await get('/v1/customers', { authorization: `Bearer ${t}` });
  assert.equal(r.status, 200, JSON.stringify(await r.clone().json()));
  assert.equal(origin.jwksHits, before + 2);
});

/** Waits until workerd's output matches `re` (console.error lines are printed asynchronously). */
async function logged(re) {
  const deadline = Date.now() + 5000;
  while (!re.test(wd.output())) {
    if (Date.now() > deadline) assert.fail(`workerd never logged ${re}:\n${wd.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a failed JWKS fetch (500, a redirect) is reported to onError and the last good keys stay', async () => {
  const good = () => get('/v1/customers', { authorization: `Bearer ${jwt(makeClaims(now()).appUserMfa)}` });
  const moved = jwt(makeClaims(now()).appUserMfa, { kid: 'rsa-moved', key: keys.rsa1 });
  try {
    for (const [mode, why] of [['error', /answered 500/], ['redirect', /answered 302 \(redirects are not followed\)/]]) {
      origin.jwksMode = mode;
      await new Promise((r) => setTimeout(r, 1100)); // past JWKS_MIN_REFRESH_SECONDS
      const before = origin.jwksHits;
      const r = await get('/v1/customers', { authorization: `Bearer ${moved}` });
      assert.equal(r.status, 401, mode);
      assert.equal((await r.json()).reason, 'key_not_found', `${mode}: the redirect target was not used`);
      assert.equal(origin.jwksHits, before + 1, mode);
      await logged(new RegExp(`"mfagate_error":"jwks_fetch_failed","message":"[^"]*${why.source}`));
      assert.equal((await good()).status, 200, `${mode}: the last good keys stay in use`);
    }
    assert.equal(origin.movedHits, 0, 'the redirect was never followed');
  } finally {
    origin.jwksMode = 'ok';
  }
});

test('an Authorization header and a session cookie together: 400 credential_ambiguous, origin untouched', async () => {
  const n = hitsBefore();
  const c = makeClaims(now());
  for (const path of ['/v1/customers', '/dashboard/overview']) {
    const r = await get(path, { authorization: `Bearer ${jwt(c.appUserMfa)}`, cookie: `theme=dark; mfagate_id_token=${jwt(c.idTokenMfa)}` });
    assert.equal(r.status, 400, path);
    assert.equal((await r.json()).reason, 'credential_ambiguous', path);
  }
  assert.equal(origin.hits.length, n);
  // Other cookies beside an Authorization header are no session: forwarded.
  const r = await get('/v1/customers', { authorization: `Bearer ${jwt(c.appUserMfa)}`, cookie: 'theme=dark; other_id_token=x' });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).seen['x-mfagate-reason'], 'mfa_satisfied');
});

test('two session cookies: refused as credential_ambiguous, origin untouched', async () => {
  // Frameworks disagree on which one counts (Starlette, Django and SimpleCookie
  // take the last; others the first), so neither may be the one decided on.
  const n = hitsBefore();
  const c = makeClaims(now());
  const r = await get('/dashboard/overview', { cookie: `mfagate_id_token=${jwt(c.idTokenPwd)}; theme=dark; mfagate_id_token=${jwt(c.idTokenMfa)}` });
  const body = await r.json();
  assert.equal(origin.hits.length, n, `forwarded: ${JSON.stringify(body)}`);
  assert.equal(body.reason, 'credential_ambiguous');
  assert.equal(r.status, 400);
});

test('ValidateMfa: true under the 2026 rules: the origin\'s answer carries isMfaCompliant from the decision', async () => {
  const c = makeClaims(now());
  const call = (token, extra = {}) => fetch(`${wd2026.url}/v1/customers`, { headers: { authorization: `Bearer ${jwt(token)}`, ...extra }, redirect: 'manual' });
  for (const [token, header, want] of [
    [c.appUserMfa, 'true', 'true'],
    [c.appUserMfa, 'TRUE', 'true'],
    [c.appUserMfa, 'True', 'true'],
    [c.appOnly, 'true', 'false'],
  ]) {
    const n = hitsBefore();
    const r = await call(token, { ValidateMfa: header });
    assert.equal(r.status, 200, header);
    assert.equal(r.headers.get('ismfacompliant'), want, `${header}: ${[...r.headers]}`);
    const body = await r.json();
    assert.equal(body.origin, true, 'the origin\'s own answer');
    assert.equal(origin.hits.length, n + 1);
  }
  // Not asked (no header, or a value other than true): no isMfaCompliant.
  for (const extra of [{}, { ValidateMfa: 'false' }, { ValidateMfa: 'yes' }, { ValidateMfa: '1' }]) {
    const r = await call(c.appUserMfa, extra);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('ismfacompliant'), null, JSON.stringify(extra));
    await r.body?.cancel();
  }
  // A refusal is the gate's own answer (Partner Center's 900421), never forwarded.
  const n = hitsBefore();
  const refused = await call(c.appUserPwd, { ValidateMfa: 'true' });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('ismfacompliant'), null);
  assert.equal((await refused.json()).reason, 'mfa_required');
  assert.equal(origin.hits.length, n);
  // The 2020 rules know no ValidateMfa: allowed, nothing added.
  const old = await get('/v1/customers', { authorization: `Bearer ${jwt(c.appUserMfa)}`, ValidateMfa: 'true' });
  assert.equal(old.status, 200);
  assert.equal(old.headers.get('ismfacompliant'), null);
  await old.body?.cancel();
});
