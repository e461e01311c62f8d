// Replays vector files through a JavaScript module (the Node addon or the
// WebAssembly build for Node) with the one JavaScript runner
// (tests/js/vectors-runner.js), and prints a FAIL line per difference and
// "N passed, M failed".
//   node run_js.mjs node|wasm DIR
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runVectors } from '../js/vectors-runner.js';

const [which, dir] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const api = which === 'node'
  ? require('../../bindings-node/lib/index.js')
  : which === 'wasm'
    ? await import('../../bindings-wasm/pkg/node.mjs')
    : null;
if (!api || !dir) {
  console.error('usage: node run_js.mjs node|wasm DIR');
  process.exit(2);
}
const files = readdirSync(dir)
  .filter((n) => n.endsWith('.json') && n !== 'index.json')
  .sort()
  .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
const r = await runVectors(api, files);
for (const f of r.failed) console.log(`FAIL ${f.id}: ${f.why}`);
console.log(`${r.passed} passed, ${r.failed.length} failed`);
process.exit(r.failed.length > 0 ? 1 : 0);
