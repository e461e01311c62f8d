// Runs the conformance vectors in headless Chromium against the web build.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../examples/inspector/serve.mjs';
import { launch } from './chromium.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const dir = resolve(process.env.MFAGATE_VECTORS || join(here, '..', '..', 'tests', 'vectors'));
const names = readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'index.json').sort();
const server = await serve({
  mounts: [['/pkg', join(here, '..', 'pkg')], ['/tests', here], ['/shared', join(here, '..', '..', 'tests', 'js')], ['/vectors', dir]],
  extra: (req, res) => {
    if (req.url !== '/vectors-list.json') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(names));
    return true;
  },
});
const { ctx, close } = await launch();
let code = 1;
try {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/tests/browser/vectors.html`);
  await page.waitForFunction(() => window.__vectors !== undefined, null, { timeout: 120_000 });
  const r = await page.evaluate(() => window.__vectors);
  const ua = await page.evaluate(() => navigator.userAgent);
  console.log(`vectors (chromium web build, ${ua.match(/Chrome\/[\d.]+/)?.[0]}, ${dir}):`);
  for (const l of r.lines) console.log(l);
  for (const e of errors) console.log(`page error: ${e}`);
  code = r.failed.length === 0 && r.passed > 0 && errors.length === 0 ? 0 : 1;
} finally {
  await close();
  await server.close();
}
process.exit(code);
