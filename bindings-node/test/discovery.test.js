'use strict';
// JwksGate sources beyond a JWK Set URL (an OpenID configuration, an
// authority) against a local Entra-shaped sign-in host, and signing keys
// with an `issuer` member: what the core decides with what the refresher
// fetched.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { JwksGate, UsageError } = require('../lib/index.js');
const h = require('./helpers.js');
const { listen, close, jwksServer, openidServer } = require('./servers.js');

const OTHER = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const req = (tok) => ({ path: '/v1/customers', authorization: `Bearer ${tok}`, now: h.NOW });
/** App+User tokens with MFA: of the partner tenant (v1), of another tenant (v1 and v2 issuers). */
const OURS = h.signRS256(h.claims());
const OURS_V2 = h.signRS256(h.claims({ iss: `https://login.microsoftonline.com/${h.TENANT}/v2.0`, ver: '2.0' }));
const THEIRS = h.signRS256(h.claims({ tid: OTHER, iss: `https://sts.windows.net/${OTHER}/` }));
const THEIRS_V2 = h.signRS256(h.claims({ tid: OTHER, iss: `https://login.microsoftonline.com/${OTHER}/v2.0`, ver: '2.0' }));

async function host(t, jwks = { keys: [h.JWK1] }) {
  const s = openidServer(jwks, h.TENANT);
  const base = await s.listen();
  t.after(() => close(s.server));
  return { ...s, base };
}

const decide = async (g, tok) => {
  const d = await g.evaluate(req(tok));
  return d.outcome === 'allow' ? 'allow' : d.reason;
};

test('an authority (…/common/v2.0): its v2 configuration, then its jwks_uri; any tenant passes the {tenantid} issuer', async (t) => {
  const s = await host(t);
  const g = new JwksGate('partner-center', { jwksUri: `${s.base}/common/v2.0` });
  assert.equal(g.jwksUrl, null, 'not known before the configuration is fetched');
  assert.equal(await decide(g, OURS), 'allow');
  assert.deepEqual(s.state.paths, ['/common/v2.0/.well-known/openid-configuration', '/common/discovery/v2.0/keys']);
  assert.equal(g.fetchCount, 1, 'a configuration and its key set are one fetch');
  assert.equal(g.jwksUrl, `${s.base}/common/discovery/v2.0/keys`);
  assert.equal(g.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
  for (const tok of [OURS_V2, THEIRS, THEIRS_V2]) assert.equal(await decide(g, tok), 'allow');
  assert.equal(s.state.paths.length, 2, 'the keys are cached');
});

test('a v1 configuration URL (…/common/.well-known/openid-configuration): the sts.windows.net {tenantid} issuer', async (t) => {
  const s = await host(t);
  const g = await new JwksGate('partner-center', { jwksUri: `${s.base}/common/.well-known/openid-configuration` }).ready();
  assert.deepEqual(s.state.paths, ['/common/.well-known/openid-configuration', '/common/discovery/keys']);
  assert.equal(g.issuer, 'https://sts.windows.net/{tenantid}/');
  for (const tok of [OURS, OURS_V2, THEIRS, THEIRS_V2]) assert.equal(await decide(g, tok), 'allow');
});

test('a tenant\'s own configuration: another tenant\'s token is issuer_invalid', async (t) => {
  const s = await host(t);
  for (const jwksUri of [`${s.base}/${h.TENANT}/v2.0`, `${s.base}/${h.TENANT}/.well-known/openid-configuration`]) {
    const g = await new JwksGate('partner-center', { jwksUri }).ready();
    assert.equal(await decide(g, OURS), 'allow', jwksUri);
    assert.equal(await decide(g, OURS_V2), 'allow', jwksUri);
    for (const tok of [THEIRS, THEIRS_V2]) {
      const d = await g.evaluate(req(tok));
      assert.equal(d.reason, 'issuer_invalid', jwksUri);
      assert.equal(d.http.status, 401);
      assert.match(d.detail, /not the issuer of the OpenID configuration/);
    }
  }
  // The same keys from their JWK Set URL carry no issuer: both tenants pass.
  const plain = await new JwksGate('partner-center', { jwksUri: `${s.base}/${h.TENANT}/discovery/v2.0/keys` }).ready();
  assert.equal(plain.issuer, null);
  assert.equal(await decide(plain, THEIRS), 'allow');
});

test('keys with an issuer member: {tenantid} signs for any tenant, a tenant-bound key only for its tenant', async (t) => {
  const multi = { ...h.JWK1, issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' };
  const bound = { ...h.JWK2, issuer: `https://login.microsoftonline.com/${h.TENANT}/v2.0` };
  const js = jwksServer({ keys: [multi, bound] });
  const base = await listen(js.server);
  t.after(() => close(js.server));
  const s = await host(t, { keys: [multi, bound] });
  const signedBy2 = (extra) => h.signRS256(h.claims(extra), { key: h.RSA2, kid: 'rsa-2' });
  for (const jwksUri of [`${base}/keys`, `${s.base}/common/v2.0`]) {
    const g = new JwksGate('partner-center', { jwksUri });
    for (const tok of [OURS, OURS_V2, THEIRS, THEIRS_V2]) assert.equal(await decide(g, tok), 'allow', jwksUri);
    assert.equal(await decide(g, signedBy2()), 'allow', `${jwksUri}: a v1 token of the key's tenant`);
    assert.equal(await decide(g, signedBy2({ iss: `https://login.microsoftonline.com/${h.TENANT}/v2.0`, ver: '2.0' })), 'allow', jwksUri);
    for (const extra of [{ tid: OTHER, iss: `https://sts.windows.net/${OTHER}/` }, { tid: OTHER, iss: `https://login.microsoftonline.com/${OTHER}/v2.0`, ver: '2.0' }]) {
      const d = await g.evaluate(req(signedBy2(extra)));
      assert.equal(d.reason, 'key_issuer_mismatch', jwksUri);
      assert.match(d.detail, /key "rsa-2" may sign only for issuer/);
    }
  }
});

test('discovery failures: a redirect, a document that is not a configuration, a jwks_uri that is not https; the last good keys stay', async (t) => {
  const s = await host(t);
  const errors = [];
  const g = await new JwksGate('partner-center', { jwksUri: `${s.base}/common/v2.0`, minRefreshSeconds: 0, onError: (e) => errors.push(e) }).ready();
  const at = '/common/v2.0/.well-known/openid-configuration';
  const cases = [
    [302, /answered 302 \(redirects are not followed\)/],
    [503, /answered 503/],
    [{ jwks_uri: `${s.base}/common/discovery/v2.0/keys` }, /is not an OpenID configuration \(it lacks jwks_uri or issuer\)/],
    [{ issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0', jwks_uri: 'http://keys.example/keys' }, /names a jwks_uri mfagate will not fetch/],
  ];
  for (const [answer, msg] of cases) {
    s.state.config[at] = answer;
    const before = s.state.paths.length;
    await assert.rejects(g.refresh(), (e) => e.code === 'jwks_fetch_failed' && msg.test(e.message), String(msg));
    assert.deepEqual(s.state.paths.slice(before), [at], 'no key set fetched after a failed configuration');
    assert.equal(errors.at(-1), g.lastError);
    assert.equal(await decide(g, THEIRS), 'allow', 'last good keys kept');
  }
  assert.ok(!s.state.paths.includes('/moved'));
  assert.equal(errors.length, cases.length);
  // The configuration may move the key set: the next good attempt follows it.
  s.state.config[at] = { issuer: `https://login.microsoftonline.com/${h.TENANT}/v2.0`, jwks_uri: `${s.base}/${h.TENANT}/discovery/v2.0/keys` };
  await g.refresh();
  assert.equal(g.jwksUrl, `${s.base}/${h.TENANT}/discovery/v2.0/keys`);
  assert.equal(g.lastError, null);
  assert.equal(await decide(g, THEIRS), 'issuer_invalid');
});

test('an unknown kid refetches the configuration and its key set, as one fetch', async (t) => {
  const s = await host(t);
  const g = await new JwksGate('partner-center', { jwksUri: `${s.base}/common/v2.0`, minRefreshSeconds: 0 }).ready();
  s.state.jwks = { keys: [h.JWK1, h.JWK2] };
  const tok2 = h.signRS256(h.claims(), { key: h.RSA2, kid: 'rsa-2' });
  assert.equal(await decide(g, tok2), 'allow');
  assert.equal(g.fetchCount, 2);
  assert.deepEqual(s.state.paths.slice(2), ['/common/v2.0/.well-known/openid-configuration', '/common/discovery/v2.0/keys']);
});

test('sources: Entra authorities and configuration URLs are accepted, and the URL rules hold for each', () => {
  for (const ok of [
    'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
    'https://login.microsoftonline.com/common',
    'https://login.microsoftonline.us/' + h.TENANT + '/v2.0/.well-known/openid-configuration',
    'http://127.0.0.1:8080/' + h.TENANT + '/v2.0',
  ]) {
    assert.doesNotThrow(() => new JwksGate('partner-center', { jwksUri: ok }), ok);
  }
  for (const bad of ['http://login.microsoftonline.com/common/v2.0', 'http://example.com/x/.well-known/openid-configuration', 'https://u:p@login.microsoftonline.com/common']) {
    assert.throws(() => new JwksGate('partner-center', { jwksUri: bad }), (e) => e instanceof UsageError && e.code === 'jwks_url_invalid', bad);
  }
});
