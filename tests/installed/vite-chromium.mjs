// Serves the Vite project in this folder (dev, dev with the package
// pre-bundled, build + preview) and opens its page in headless Chromium as an
// agent with MFA (expects "allowed") and one without (expects the redirect
// to the MFA sign-in). Run by tests/installed/vite.sh.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const tokens = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const vite = join(process.cwd(), 'node_modules', '.bin', 'vite');
const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });

async function serve(args) {
  const port = await freePort();
  const child = spawn(vite, [...args, '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  const url = `http://127.0.0.1:${port}/`;
  for (const deadline = Date.now() + 30000; ;) {
    try { if ((await fetch(url)).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`vite ${args.join(' ')} did not serve:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => child.kill(), output: () => out };
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function visit(url, idToken, expect) {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  page.setDefaultNavigationTimeout(30000);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript((t) => sessionStorage.setItem('id_token', t), idToken);
  await page.goto(url);
  try {
    if (expect === 'allowed') await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'allowed', null, { timeout: 15000 });
    else await page.waitForURL(/\/\.auth\/login\/aad\?prompt=login&amr_values=mfa&return_to=/, { timeout: 15000 });
    return { ok: true, errors };
  } catch {
    return { ok: false, errors, status: await page.locator('#status').textContent().catch(() => '?') };
  } finally {
    await page.close();
  }
}

let failed = 0;
let passed = 0;
async function scenario(name, args, { expectWorks = true } = {}) {
  const s = await serve(args);
  try {
    for (const [token, expect] of [[tokens.id_mfa, 'allowed'], [tokens.id_pwd, 'the MFA sign-in']]) {
      if (!expectWorks && expect !== 'allowed') continue;
      const r = await visit(s.url, token, expect);
      const good = r.ok === expectWorks;
      if (good) passed++; else failed++;
      console.log(`   ${good ? 'ok  ' : 'FAIL'} ${name}: ${expectWorks ? `an agent ${expect === 'allowed' ? 'with MFA is allowed' : 'without MFA is sent to the MFA sign-in'}` : `fails without optimizeDeps.exclude (${r.errors[0] ?? r.status})`}`);
      if (!good) console.log(`        status ${r.status}; errors: ${r.errors.join(' | ')}\n${s.output()}`);
    }
  } finally {
    s.stop();
  }
}

try {
  await scenario('vite dev (vite.config.js of docs/wasm.md)', []);
  await scenario('vite dev without optimizeDeps.exclude (pre-bundled)', ['--config', 'vite.bare.config.js', '--force']);
  execFileSync(vite, ['build', '--logLevel', 'warn'], { stdio: 'inherit' });
  await scenario('vite build + vite preview', ['preview']);
} finally {
  await browser.close();
}
console.log(`vite: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
