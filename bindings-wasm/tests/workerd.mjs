// Starts workerd (from the npm package) on 127.0.0.1 with a generated config.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const BIN = fileURLToPath(new URL('../node_modules/.bin/workerd', import.meta.url));

export function freePort() {
  return new Promise((ok, no) => {
    const s = createServer().once('error', no);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

/** Runs `workerd serve config` with socket "http" on a free port; resolves
 * when it answers. Returns { url, stop, output }. */
export async function startWorkerd(configPath, { socket = 'http' } = {}) {
  const port = await freePort();
  const out = [];
  const child = spawn(BIN, ['serve', configPath, `--socket-addr=${socket}=127.0.0.1:${port}`, '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => out.push(String(d)));
  child.stderr.on('data', (d) => out.push(String(d)));
  let exited = null;
  child.on('exit', (c) => { exited = c; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) throw new Error(`workerd exited with ${exited}:\n${out.join('')}`);
    try { await fetch(`${url}/__ping`, { signal: AbortSignal.timeout(1000) }); break; } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`workerd did not answer:\n${out.join('')}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => new Promise((r) => { if (exited !== null) return r(); child.once('exit', r); child.kill('SIGTERM'); });
  return { url, stop, output: () => out.join('') };
}

/** The module list entries of the web build, as capnp, with paths relative to `fromDir`. */
export function pkgModules(relPkg, prefix = 'pkg') {
  const m = (name, kind, file) => `(name = "${prefix}/${name}", ${kind} = embed "${join(relPkg, file)}")`;
  return [
    m('web.js', 'esModule', 'web.js'),
    m('errors.js', 'esModule', 'errors.js'),
    m('jwks.js', 'esModule', 'jwks.js'),
    m('glue/mfagate_wasm_web.js', 'esModule', 'glue/mfagate_wasm_web.js'),
    m('glue/mfagate_wasm_bg.wasm', 'wasm', 'glue/mfagate_wasm_bg.wasm'),
  ];
}
