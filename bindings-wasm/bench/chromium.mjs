// The benchmark page in headless Chromium: node bench/chromium.mjs [--json out.json]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../examples/inspector/serve.mjs';
import { launch } from '../tests/chromium.mjs';
import { table } from './bench.js';
import { benchData } from './data.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const data = JSON.stringify(benchData());
const server = await serve({
  mounts: [['/pkg', join(here, '..', 'pkg')], ['/bench', here], ['/jose', join(here, '..', 'node_modules', 'jose', 'dist', 'webapi')]],
  extra: (req, res) => {
    if (req.url !== '/bench-data.json') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(data);
    return true;
  },
});
const { ctx, close } = await launch();
let code = 1;
try {
  const page = await ctx.newPage();
  await page.goto(`${server.url}/bench/browser.html?scale=${process.env.BENCH_SCALE ?? 1}`);
  await page.waitForFunction(() => window.__bench !== undefined, null, { timeout: 300_000 });
  const b = await page.evaluate(() => window.__bench);
  if (!b.ok) throw new Error(b.error);
  const ver = b.ua.match(/Chrome\/[\d.]+/)?.[0];
  console.log(`headless chromium (${ver})`);
  console.log(table(b.result));
  const i = process.argv.indexOf('--json');
  if (i > 0) writeFileSync(process.argv[i + 1], JSON.stringify({ runtime: `headless ${ver}`, ...b.result }, null, 1));
  code = 0;
} finally {
  await close();
  await server.close();
}
process.exit(code);
