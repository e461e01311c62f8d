// The inspector page in headless Debian Chromium: pick a sample, type a
// token, click, read the result, switch language, keep a screenshot.
// `node --test examples/inspector/test.mjs` (after bash bindings-wasm/build.sh)
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { serve, inspectorMounts } from './serve.mjs';
import { launch } from '../../bindings-wasm/tests/chromium.mjs';
import { jwt, makeClaims } from '../../bindings-wasm/tests/tokens.mjs';
import * as node from '../../bindings-wasm/pkg/node.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const artifacts = join(here, '..', '..', 'tests', 'artifacts');
mkdirSync(artifacts, { recursive: true });

const server = await serve({ mounts: inspectorMounts });
const { ctx, close } = await launch();
test.after(async () => { await close(); await server.close(); });
const page = await ctx.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
await page.goto(`${server.url}/`);
await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

const rows = () => page.$$eval('#rules tbody tr', (trs) => trs.map((tr) => ({
  rule: tr.dataset.rule,
  path: tr.querySelector('.path').textContent,
  outcome: tr.querySelector('.outcome').textContent,
  status: Number(tr.querySelector('.status').textContent),
  reason: tr.querySelector('.reason-code').textContent,
  message: tr.querySelector('.reason').firstChild.textContent,
})));
const inspected = async (n) => page.waitForSelector(`body[data-inspected="${n}"]`);

test('picking a sample shows kind, MFA evidence, roles and every rule', async () => {
  await page.selectOption('#lang', 'en');
  await page.selectOption('#policy', 'partner-center');
  await page.selectOption('#sample', { label: 'App+User token, password only (API refuses: MFA required)' });
  await inspected(1);
  assert.equal(await page.textContent('#kind'), 'app_user');
  assert.match(await page.textContent('#mfa'), /amr without "mfa": \[pwd\]/);
  const r = await rows();
  const api = r.find((x) => x.rule === 'api');
  assert.deepEqual([api.outcome, api.reason, api.status], ['step_up', 'mfa_required', 401]);
  // The table is exactly what the core says (cross-checked with the Node build).
  const samples = await (await fetch(`${server.url}/samples.json`)).json();
  const s = samples[0];
  const want = node.inspect(s.token, 'partner-center', s.now).inspection.rules;
  assert.deepEqual(r.map((x) => [x.rule, x.path, x.outcome, x.status, x.reason, x.message]),
    want.map((w) => [w.rule, w.path, w.decision.outcome, w.decision.http.status, w.decision.reason, w.decision.message.en]));
  assert.ok(r.length >= 5, 'routes and the default');
  assert.equal(r.at(-1).rule, 'default');
});

test('typing a token and clicking Inspect; the reason in French and Portuguese', async () => {
  const claims = makeClaims(1700000000).delegatedPwd;
  const token = jwt(claims);
  await page.fill('#token', '');
  await page.type('#token', token, { delay: 0 });
  await page.click('#inspect');
  await inspected(2);
  assert.equal(await page.textContent('#kind'), 'delegated_admin');
  const want = node.inspect(token, 'partner-center').inspection.rules.find((w) => w.rule === 'api').decision;
  assert.equal(want.reason, 'delegated_admin_mfa_required');
  let api = (await rows()).find((x) => x.rule === 'api');
  assert.equal(api.reason, 'delegated_admin_mfa_required');
  assert.equal(api.message, want.message.en);
  await page.selectOption('#lang', 'fr');
  api = (await rows()).find((x) => x.rule === 'api');
  assert.equal(api.message, want.message.fr);
  assert.notEqual(want.message.fr, want.message.en);
  assert.equal(await page.textContent('#inspect'), 'Inspecter');
  await page.selectOption('#lang', 'pt-BR');
  api = (await rows()).find((x) => x.rule === 'api');
  assert.equal(api.message, want.message['pt-BR']);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'wasm-inspector.png'), fullPage: true });
});

test('another policy changes the table', async () => {
  await page.selectOption('#lang', 'en');
  await page.selectOption('#sample', { label: 'ID token of a Global Administrator, password only' });
  await inspected(3);
  const before = await rows();
  await page.selectOption('#policy', 'partner-center-2025');
  await inspected(4);
  const after = await rows();
  assert.equal(await page.textContent('#kind'), 'id_token');
  assert.notDeepEqual(after, before);
  const samples = await (await fetch(`${server.url}/samples.json`)).json();
  const s = samples.find((x) => x.label.startsWith('ID token of a Global Administrator, password only'));
  const want = node.inspect(s.token, 'partner-center-2025', s.now).inspection.rules;
  assert.deepEqual(after.map((x) => [x.rule, x.reason]), want.map((w) => [w.rule, w.decision.reason]));
});

test('a token that cannot be read is explained, not thrown', async () => {
  await page.fill('#token', 'not-a-token');
  await page.click('#inspect');
  await inspected(5);
  assert.equal(await page.isVisible('#refusal'), true);
  assert.match(await page.textContent('#refusal'), /token_malformed/);
  assert.deepEqual(pageErrors, []);
});
