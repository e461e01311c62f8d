// Runs the conformance vectors inside workerd (the web build as a module
// worker, the .wasm imported as a module and loaded with initSync).
import { mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerd, pkgModules } from './workerd.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const dir = resolve(process.env.MFAGATE_VECTORS || join(here, '..', '..', 'tests', 'vectors'));
const work = join(here, 'artifacts', 'workerd-vectors');
mkdirSync(work, { recursive: true });
const files = readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'index.json').sort()
  .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
writeFileSync(join(work, 'vectors.json'), JSON.stringify(files));
copyFileSync(join(here, 'workerd-vectors', 'worker.js'), join(work, 'worker.js'));
copyFileSync(join(here, '..', '..', 'tests', 'js', 'vectors-runner.js'), join(work, 'vectors-runner.js'));
const rel = relative(work, join(here, '..', 'pkg'));
writeFileSync(join(work, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "vectors-runner.js", esModule = embed "vectors-runner.js"),
    (name = "vectors.json", json = embed "vectors.json"),
    ${pkgModules(rel).join(',\n    ')}
  ],
  compatibilityDate = "2025-09-01",
);
`);
const wd = await startWorkerd(join(work, 'config.capnp'));
let code = 1;
try {
  const res = await fetch(`${wd.url}/vectors`, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}\n${wd.output()}`);
  const r = await res.json();
  console.log(`vectors (workerd web build, ${dir}):`);
  for (const l of r.lines) console.log(l);
  code = r.failed.length === 0 && r.passed > 0 ? 0 : 1;
} catch (e) {
  console.log(`error: ${e.message}`);
  console.log('0 passed, 1 failed');
} finally {
  await wd.stop();
}
process.exit(code);
