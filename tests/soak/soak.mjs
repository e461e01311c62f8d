// Leak and stability run of the Node addon (evaluate, then evaluateAsync)
// and of the WebAssembly build in Node (evaluate): 10^6 decisions each,
// cycling through every deciding case of api.json, tokens.json and
// dashboard-2026.json, with resident memory read before and after each
// phase and after each tenth of it (after a warm-up and a full GC); growth
// over the second half beyond BOUND_KB fails (a leak grows with the count;
// V8's heap and the WebAssembly memory size themselves first), and
// every decision is checked against the case's expected outcome.
// Prints one JSON line per phase. Run with --expose-gc.
//   node --expose-gc soak.mjs node|wasm [EVALUATIONS]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const FILES = ['api.json', 'tokens.json', 'dashboard-2026.json'];
const BOUND_KB = 4 * 1024;
const [which, count] = process.argv.slice(2);
const n = Number(count ?? 1_000_000);
const require = createRequire(import.meta.url);
const api = which === 'node' ? require('../../bindings-node/lib/index.js') : await import('../../bindings-wasm/pkg/node.mjs');
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

const work = [];
const gates = new Map();
for (const name of FILES) {
  const doc = JSON.parse(readFileSync(join(here, '..', 'vectors', name), 'utf8'));
  for (const c of doc.cases) {
    if (!c.expect?.outcome) continue;
    const key = JSON.stringify(c.policy) + name;
    if (!gates.has(key)) gates.set(key, new api.Gate(c.policy, JSON.stringify(doc.keys)));
    work.push([gates.get(key), c.request, c.expect.outcome]);
  }
}
if (work.length < 100) throw new Error(`only ${work.length} cases`);

const rssKb = () => Math.round(process.memoryUsage().rss / 1024);

async function run(total, mode, wrong) {
  const batch = 256;
  for (let i = 0; i < total; i += batch) {
    const round = [];
    for (let j = i; j < Math.min(total, i + batch); j++) {
      const [gate, request, outcome] = work[j % work.length];
      round.push(Promise.resolve(mode === 'evaluateAsync' ? gate.evaluateAsync(request) : gate.evaluate(request)).then((d) => {
        if (d.outcome !== outcome && wrong.length < 5) wrong.push([request.path, d.outcome, outcome]);
      }));
    }
    await Promise.all(round);
  }
}

let bad = false;
const modes = which === 'node' ? ['evaluate', 'evaluateAsync'] : ['evaluate'];
for (const mode of modes) {
  await run(20_000, mode, []);
  globalThis.gc();
  const settle = async () => { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); globalThis.gc(); return rssKb(); };
  const before = await settle();
  const start = performance.now();
  const wrong = [];
  // Resident memory after each tenth: a leak grows with the count, a heap
  // or linear memory sizing itself levels off. The second half must be flat.
  const tenths = [];
  for (let t = 0; t < 10; t++) {
    await run(n / 10, mode, wrong);
    tenths.push(await settle());
  }
  const seconds = (performance.now() - start) / 1000;
  const after = tenths[9];
  const r = { runtime: which === 'node' ? 'node' : 'wasm (node)', phase: mode, evaluations: n, seconds: Math.round(seconds * 100) / 100,
    rss_before_kb: before, rss_half_kb: tenths[4], rss_after_kb: after, growth_kb: after - before,
    second_half_growth_kb: after - tenths[4], bound_kb: BOUND_KB, rss_tenths_kb: tenths, wrong };
  console.log(JSON.stringify(r));
  bad ||= wrong.length > 0 || r.second_half_growth_kb > BOUND_KB;
}
process.exit(bad ? 1 : 0);
