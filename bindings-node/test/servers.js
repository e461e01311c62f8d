'use strict';
// Real servers on 127.0.0.1 for the middleware and JWKS tests.
const http = require('node:http');

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function close(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A fetch-style server: Node http -> Web Request -> handler(request) ?? app(request) -> Response. */
function webServer(handler, app) {
  return http.createServer(async (req, res) => {
    try {
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers });
      let response = await handler(request);
      if (response === null) response = await app(request);
      res.statusMessage = response.statusText;
      res.writeHead(response.status, [...response.headers].flat());
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e?.stack ?? e));
    }
  });
}

/**
 * A JWKS endpoint whose behaviour the test sets: `ok` (serve `jwks`), `garbage`,
 * `status` (answer `status`), `slow` (wait `delay` ms first), `huge`,
 * `redirect` (302 to /moved, which serves `jwks`). `paths` lists what was asked.
 */
function jwksServer(initial) {
  const state = { mode: 'ok', jwks: initial, hits: 0, delay: 0, status: 503, paths: [] };
  const server = http.createServer((req, res) => {
    state.hits += 1;
    state.paths.push(req.url);
    const send = () => {
      if (res.destroyed) return;
      if (req.url === '/moved') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.jwks));
        return;
      }
      switch (state.mode) {
        case 'redirect':
          res.writeHead(302, { location: '/moved' }).end();
          return;
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>');
          return;
        case 'status':
          res.writeHead(state.status).end('unavailable');
          return;
        case 'huge':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [], pad: 'x'.repeat(2 * 1024 * 1024) }));
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.jwks));
      }
    };
    if (state.mode === 'slow') setTimeout(send, state.delay);
    else send();
  });
  return { server, state };
}

/**
 * One HTTP request with the path exactly as written (node:http sends it
 * unchanged, where fetch() would normalise `\\` to `/`). Resolves to
 * { status, statusText, headers, body }.
 */
function raw(base, path, { method = 'GET', headers = {} } = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, statusText: res.statusMessage, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

module.exports = { listen, close, webServer, jwksServer, raw };
