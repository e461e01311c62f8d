#!/usr/bin/env node
// Serves the inspector on 127.0.0.1: `node examples/inspector/serve.mjs [port]`
// (the package must be built first: bash bindings-wasm/build.sh).
// Also exports a small static server used by the tests.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8',
};

/** Serves `mounts` ([[urlPrefix, directory], ...], longest prefix first) on
 * 127.0.0.1; `extra(req, res)` may answer first. Resolves to { url, close }. */
export function serve({ port = 0, mounts, extra } = {}) {
  const table = [...mounts].sort((a, b) => b[0].length - a[0].length).map(([p, d]) => [p, resolve(d)]);
  const srv = createServer((req, res) => {
    if (extra && extra(req, res)) return;
    const url = new URL(req.url, 'http://127.0.0.1');
    let path;
    try { path = decodeURIComponent(url.pathname); } catch { res.writeHead(400).end(); return; }
    const hit = table.find(([p]) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
    if (!hit || req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(404).end('not found'); return; }
    const [prefix, dir] = hit;
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) { res.writeHead(403).end(); return; }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const st = statSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') res.end(); else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok) => srv.listen(port, '127.0.0.1', () => ok({
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }),
  })));
}

const here = fileURLToPath(new URL('.', import.meta.url));
/** The inspector's mounts: the page, and the web build of mfagate-wasm. */
export const inspectorMounts = [['/', here], ['/pkg', join(here, '..', '..', 'bindings-wasm', 'pkg')]];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8788);
  const { url } = await serve({ port, mounts: inspectorMounts });
  console.log(`mfagate inspector: ${url}/`);
}
