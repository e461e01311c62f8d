'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const m = require('../lib/index.js');
const h = require('./helpers.js');

const { Gate, MfagateError, PolicyError, JwksError, UsageError } = m;
const JWKS = { keys: [h.JWK1] };
const DECISION_KEYS = ['outcome', 'reason', 'token_kind', 'kind_evidence', 'rule', 'roles', 'mfa', 'exception', 'message', 'http', 'redirect', 'detail', 'subject'];
const bearer = (t) => `Bearer ${t}`;

test('a decision is a plain object of exactly the core JSON form', () => {
  const g = new Gate('partner-center', JWKS);
  const d = g.evaluate({ path: '/v1/customers', authorization: bearer(h.signRS256(h.claims({ amr: ['pwd'] }))), now: h.NOW });
  assert.equal(Object.getPrototypeOf(d), Object.prototype);
  assert.deepEqual(Object.keys(d), DECISION_KEYS);
  assert.equal(d.outcome, 'step_up');
  assert.equal(d.reason, 'mfa_required');
  assert.equal(d.token_kind, 'app_user');
  assert.deepEqual(d.mfa, { required: true, satisfied: false, evidence: null, amr: ['pwd'], auth_time: null, max_age: null });
  assert.deepEqual(d.http.headers, [['WWW-Authenticate', 'Bearer error="invalid_token"']]);
  assert.equal(d.http.status_text, 'Unauthorized - MFA required');
  assert.deepEqual(Object.keys(d.message), ['en', 'fr', 'pt-BR']);
  assert.deepEqual(Object.keys(d.subject), ['tenant', 'object_id', 'user', 'app_id', 'home_tenant']);
  assert.equal(d.subject.tenant, h.TENANT);
  assert.deepEqual(JSON.parse(d.http.body).reason, 'mfa_required');
});

test('every policy spec form and both JWK Set forms build a gate', () => {
  const specs = ['partner-center', 'partner-center-2025', { builtin: 'partner-center' }, { builtin: 'partner-center-2019', overrides: { token: { audiences: [h.AUDIENCE, 'api://x'] } } }];
  for (const spec of specs) {
    for (const jwks of [JWKS, JSON.stringify(JWKS)]) {
      const g = new Gate(spec, jwks);
      const d = g.evaluate({ path: '/v1/customers', authorization: bearer(h.signRS256(h.claims())), now: h.NOW });
      assert.equal(d.outcome, 'allow', JSON.stringify(spec));
      assert.deepEqual(g.keyIds, ['rsa-1']);
    }
  }
  const overridden = new Gate({ builtin: 'partner-center', overrides: { token: { audiences: ['api://other'] } } }, JWKS);
  assert.equal(overridden.evaluate({ path: '/v1/x', authorization: bearer(h.signRS256(h.claims())), now: h.NOW }).reason, 'audience_invalid');
  assert.equal(new Gate('partner-center', JWKS).policyName, 'partner-center-2020');
  assert.ok(m.BUILTIN_POLICIES.includes('partner-center-2025'));
});

test('evaluateAsync returns a Promise of the same decision', async () => {
  const g = new Gate('partner-center', JWKS);
  const reqs = [
    { path: '/v1/customers', authorization: bearer(h.signRS256(h.claims())), now: h.NOW },
    { path: '/v1/customers', authorization: bearer(h.signRS256(h.claims({ amr: ['pwd'] }))), now: h.NOW },
    { path: '/commerce/customers', now: h.NOW },
  ];
  for (const r of reqs) {
    const p = g.evaluateAsync(r);
    assert.ok(p instanceof Promise);
    assert.deepEqual(await p, g.evaluate(r));
  }
  const many = await Promise.all(Array.from({ length: 64 }, () => g.evaluateAsync(reqs[0])));
  assert.ok(many.every((d) => d.reason === 'mfa_satisfied'));
  await assert.rejects(g.evaluateAsync({ now: 1 }), (e) => e instanceof UsageError && e.code === 'request_invalid');
});

test('request defaults: GET, system clock, null credential', () => {
  const g = new Gate('partner-center', JWKS);
  const now = Math.floor(Date.now() / 1000);
  const fresh = h.signRS256(h.claims({}, now - 10));
  assert.equal(g.evaluate({ path: '/v1/customers', authorization: bearer(fresh) }).reason, 'mfa_satisfied');
  assert.equal(g.evaluate({ path: '/v1/customers', authorization: bearer(fresh), now: now + 86400 }).reason, 'token_expired');
  const none = g.evaluate({ path: '/v1/customers', host: null, authorization: null, token: undefined });
  assert.equal(none.reason, 'no_credential');
  assert.deepEqual(none.http.headers, [['WWW-Authenticate', 'Bearer']]);
});

test('pages redirect, and mfa_registered=false asks for registration first', () => {
  const policy = { builtin: 'partner-center', overrides: { token: { partner_tenants: [h.TENANT] }, roles: { app_roles: { admin_agent: ['AdminAgent'] } } } };
  const g = new Gate(policy, JWKS);
  const tok = h.signRS256(h.claims({ amr: ['pwd'], roles: ['AdminAgent'] }));
  const d = g.evaluate({ path: '/commerce/customers', token: tok, now: h.NOW, mfa_registered: false });
  assert.equal(d.outcome, 'step_up');
  assert.equal(d.http.status, 302);
  assert.equal(d.redirect.register_first, true);
  assert.deepEqual(d.http.headers, [['Location', d.redirect.location]]);
  const noRole = g.evaluate({ path: '/commerce/customers', token: h.signRS256(h.claims()), now: h.NOW });
  assert.equal(noRole.http.status, 403);
  assert.equal(noRole.reason, 'role_not_permitted');
});

test('HS256 needs a policy that pins it and an oct key', () => {
  const tok = h.signHS256(h.claims());
  const pinned = new Gate({ builtin: 'partner-center', overrides: { token: { algorithms: ['HS256'] } } }, { keys: [h.OCT] });
  assert.equal(pinned.evaluate({ path: '/v1/x', authorization: bearer(tok), now: h.NOW }).reason, 'mfa_satisfied');
  const forged = tok.slice(0, -2) + (tok.endsWith('AA') ? 'BB' : 'AA');
  assert.equal(pinned.evaluate({ path: '/v1/x', authorization: bearer(forged), now: h.NOW }).reason, 'signature_invalid');
  const rs = new Gate('partner-center', { keys: [h.JWK1, h.OCT] });
  assert.equal(rs.evaluate({ path: '/v1/x', authorization: bearer(tok), now: h.NOW }).reason, 'algorithm_not_allowed');
});

test('withKeys rotates keys and keeps the policy', () => {
  const g1 = new Gate({ builtin: 'partner-center-2025' }, JWKS);
  const tok2 = h.signRS256(h.claims(), { key: h.RSA2, kid: 'rsa-2' });
  assert.equal(g1.evaluate({ path: '/v1/x', authorization: bearer(tok2), now: h.NOW }).reason, 'key_not_found');
  const g2 = g1.withKeys({ keys: [h.JWK2] });
  assert.ok(g2 instanceof Gate);
  assert.equal(g2.policyName, 'partner-center-2025');
  assert.equal(g2.evaluate({ path: '/v1/x', authorization: bearer(tok2), now: h.NOW }).outcome, 'allow');
  assert.throws(() => g1.withKeys('nope'), JwksError);
});

function assertError(fn, Cls, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Cls, `${e?.name} is not ${Cls.name}`);
    assert.ok(e instanceof MfagateError && e instanceof Error);
    assert.equal(e.name, Cls.name);
    assert.equal(e.code, code);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
    assert.equal(typeof e.hint, 'string');
    assert.ok(e.line === null || Number.isInteger(e.line));
    assert.ok(e.docUrl.endsWith(`#${code}`), e.docUrl);
    assert.equal(e.doc_url, e.docUrl);
    return true;
  });
}

test('misuse throws Error subclasses with the core code', () => {
  assertError(() => new Gate('partner-center-1999', JWKS), PolicyError, 'policy_unknown_builtin');
  assertError(() => new Gate({ policy: { format: 1 } }, JWKS), PolicyError, 'policy_invalid');
  assertError(() => new Gate({ builtin: 'partner-center', extra: 1 }, JWKS), PolicyError, 'policy_invalid');
  assertError(() => new Gate({ builtin: 'partner-center', overrides: { token: { audiences: [] } } }, JWKS), PolicyError, 'policy_invalid');
  assertError(() => new Gate(42, JWKS), PolicyError, 'policy_invalid');
  assertError(() => new Gate('partner-center', '{not json'), JwksError, 'jwks_invalid');
  assertError(() => new Gate('partner-center', 7), JwksError, 'jwks_invalid');
  // One unusable key never rejects the set (RFC 7517 §5): it is skipped and listed.
  const skipping = new Gate('partner-center', { keys: [{ kty: 'oct', kid: 's', k: 'c2hvcnQ' }, h.JWK1] });
  assert.deepEqual(skipping.keyIds, ['rsa-1']);
  assert.match(skipping.skippedKeys[0], /^s: /);
  const g = new Gate('partner-center', JWKS);
  assertError(() => g.evaluate({ now: h.NOW }), UsageError, 'request_invalid');
  assertError(() => g.evaluate(null), UsageError, 'request_invalid');
  assertError(() => g.evaluate('/v1/x'), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', now: 1.5 }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', now: '1700000000' }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', authorization: 5 }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', mfa_registered: 'no' }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', mfaRegistered: false }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', validate_mfa: 'true' }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', validate_mfa: 1 }), UsageError, 'request_invalid');
  assertError(() => g.evaluate({ path: '/v1', validateMfa: true }), UsageError, 'request_invalid');
});

test('validate_mfa reaches the core: isMfaCompliant on an allowed API call under the 2026 rules', async () => {
  const g = new Gate('partner-center-2026', JWKS);
  const appOnly = h.signRS256(h.claims({ amr: undefined, scp: undefined, upn: undefined, sub: h.OID, appidacr: '1', roles: ['Partner.ReadWrite.All'] }));
  const r = (tok, validate_mfa) => ({ path: '/v1/customers', authorization: bearer(tok), now: h.NOW, validate_mfa });
  const headers = (d) => d.http.headers;
  const MFA = h.signRS256(h.claims());
  for (const evaluate of [(q) => g.evaluate(q), (q) => g.evaluateAsync(q), (q) => JSON.parse(g.evaluateJson(q))]) {
    const d = await evaluate(r(MFA, true));
    assert.equal(d.reason, 'mfa_satisfied');
    assert.deepEqual(headers(d), [['isMfaCompliant', 'true']]);
    const app = await evaluate(r(appOnly, true));
    assert.equal(app.token_kind, 'app_only');
    assert.equal(app.outcome, 'allow');
    assert.deepEqual(headers(app), [['isMfaCompliant', 'false']]);
    for (const v of [undefined, null, false]) assert.deepEqual(headers(await evaluate(r(MFA, v))), [], String(v));
  }
  // A refusal carries no isMfaCompliant; nor do the earlier editions.
  const refused = g.evaluate(r(h.signRS256(h.claims({ amr: ['pwd'] })), true));
  assert.equal(refused.outcome, 'step_up');
  assert.deepEqual(headers(refused), [['WWW-Authenticate', 'Bearer error="invalid_token"']]);
  assert.deepEqual(headers(new Gate('partner-center', JWKS).evaluate(r(MFA, true))), []);
});

test('a policy with a route conflict or a bad exception reason is a PolicyError', () => {
  const base = { builtin: 'partner-center', overrides: { routes: { dup: { paths: ['/v1/**'], mfa: true, kinds: ['app_user'] } } } };
  assertError(() => new Gate(base, JWKS), PolicyError, 'policy_route_conflict');
});

test('every decision equals the core JSON, key order included, sync and async (all vector requests)', async () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const dir = path.join(__dirname, '../../tests/vectors');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json');
  let n = 0;
  for (const f of files) {
    const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const c of doc.cases) {
      if (c.expect_error) continue;
      const g = new Gate(c.policy, doc.keys);
      const json = g.evaluateJson(c.request);
      const d = g.evaluate(c.request);
      assert.equal(JSON.stringify(d), json, c.id);
      assert.deepEqual(d, JSON.parse(json), c.id);
      assert.equal(JSON.stringify(await g.evaluateAsync(c.request)), json, c.id);
      n += 1;
    }
  }
  assert.ok(n >= 100, `only ${n} vector requests`);
  // strings that need escaping or are not ASCII survive the transport
  const g = new Gate('partner-center', JWKS);
  const odd = h.signRS256(h.claims({ upn: 'é"\\\u0000\u2028😀\ud7ff', oid: undefined, amr: ['pwd', 'x'.repeat(5000)] }));
  const r = { path: '/v1/%E2%82%AC', authorization: `Bearer ${odd}`, now: h.NOW };
  const d = g.evaluate(r);
  assert.equal(d.subject.user, 'é"\\\u0000\u2028😀\ud7ff');
  assert.equal(d.mfa.amr[1].length, 5000);
  assert.equal(JSON.stringify(d), g.evaluateJson(r));
  const big = { path: '/v1/x', authorization: `Bearer ${h.signRS256(h.claims({ auth_time: 2 ** 40 + 0.5 }))}`, now: h.NOW };
  assert.equal(JSON.stringify(g.evaluate(big)), g.evaluateJson(big));
});
