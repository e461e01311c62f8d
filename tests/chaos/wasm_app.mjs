// Target 4 of the chaos run: the WebAssembly build's JwksCache and JwksGate
// in a small node:http server.
//   node wasm_app.mjs PORT JWKS_URL TTL MIN_REFRESH TIMEOUT MAX_BYTES
// GET /v1/customers is gated; the allowed answer says what the cache knew.
// GET /_chaos/state is answered without the gate: its counters.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { JwksCache, JwksGate } = await import(pathToFileURL(path.join(repo, 'bindings-wasm', 'pkg', 'node.mjs')).href);

const [port, url, ttl, minRefresh, timeout, maxBytes] = process.argv.slice(2);
let errors = 0;
const cache = new JwksCache(url, {
  ttlSeconds: Number(ttl),
  minRefreshSeconds: Number(minRefresh),
  timeoutSeconds: Number(timeout),
  maxBytes: Number(maxBytes),
  onError: (e) => {
    errors += 1;
    if (e?.code !== 'jwks_fetch_failed') console.error('unexpected onError', e);
  },
});
const gate = new JwksGate('partner-center', cache);

let lastText = null;
let lastKids = null;
const known = () => {
  const text = cache.current;
  if (text !== lastText) {
    lastText = text;
    lastKids = text === null ? null : JSON.parse(text).keys.map((k) => k.kid).filter(Boolean).sort();
  }
  return { version: cache.version, fetches: cache.stats.fetches, kids: lastKids };
};

const send = (res, status, headers, body) => {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

http.createServer(async (req, res) => {
  try {
    const p = req.url.split('?')[0];
    if (p === '/_chaos/state') return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ ...known(), warnings: errors }));
    const d = await gate.evaluate({ method: req.method, path: req.url, authorization: req.headers.authorization ?? null });
    if (d.outcome === 'allow') {
      return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ handler: true, reason: d.reason, ...known() }));
    }
    const headers = {};
    for (const [k, v] of d.http.response_headers) headers[k] = v;
    return send(res, d.http.status, headers, d.http.body);
  } catch (e) {
    console.error('handler error', e);
    send(res, 500, { 'content-type': 'text/plain' }, `error: ${e}`);
  }
}).listen(Number(port), '127.0.0.1');
process.on('unhandledRejection', (e) => { console.error('unhandledRejection', e); process.exit(70); });
