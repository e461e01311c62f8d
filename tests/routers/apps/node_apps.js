// Node echo applications of the router differential: `node node_apps.js
// ROUTER PORT` with ROUTER one of express5, express4, fastify, fastify-h2
// (cleartext HTTP/2), hono. Each
// registers the policy's routes in its router's syntax, routes the
// host-scoped route the way that framework's apps do, and has a catch-all.
// Answers {route, host, hh, method, path} in the body and the x-echo header
// (hh: the Host header as the application reads it, what a middleware passes).
'use strict';
const [, , which, portArg] = process.argv;
const port = Number(portArg);
const ADMIN = 'admin.contoso.example';

function body(route, host, method, path, hh, target) {
  // ASCII-only JSON, so it fits a header.
  return JSON.stringify({ route, host: host ?? '', hh: hh ?? null, method, path, target }).replace(/[\u007f-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function expressApp(express, v5) {
  const app = express();
  const echo = (route) => (req, res) => {
    const b = body(route, req.hostname, req.method, req.path, req.headers.host, req.originalUrl);
    res.set('x-echo', b).type('application/json').send(b);
  };
  // `path/**`: the path and everything under it, in each version's syntax.
  const tree = (p) => (v5 ? [p, `${p}/*rest`] : [p, `${p}/*`]);
  const common = (r) => {
    r.all(tree('/commerce'), echo('customers'));
    r.all('/dashboard/support/csp/customers/:id', echo('csp_customers'));
    r.all(tree('/dashboard/billing'), echo('billing'));
    r.get(tree('/reports'), echo('reports'));
    r.delete(tree('/reports'), echo('reports'));
    r.all(tree('/v1'), echo('api'));
    r.all('/healthz', echo('health'));
  };
  const admin = express.Router();
  admin.all(tree('/settings'), echo('admin_settings'));
  if (v5) {
    // Express 5: host routing on req.hostname, as Express apps do it.
    app.use((req, res, next) => (req.hostname === ADMIN ? admin(req, res, next) : next()));
  } else {
    // Express 4: the vhost middleware (expressjs/vhost).
    app.use(require('vhost')(ADMIN, admin));
  }
  common(app);
  app.use(echo('default'));
  app.listen(port, '127.0.0.1', () => console.log('listening'));
}

async function fastifyApp(http2) {
  // http2: cleartext HTTP/2 (prior knowledge), where the host is `:authority`.
  const app = require('fastify')({ logger: false, http2 });
  const echo = (route) => async (request, reply) => {
    // The hosts Fastify routes on, as the middleware passes them: the
    // request.host accessor and the router's `Host || :authority`.
    const routed = request.headers.host || request.headers[':authority'];
    const hosts = [...new Set([request.host, routed].filter((h) => typeof h === 'string' && h !== ''))];
    const b = body(route, request.host, request.method, request.url, hosts.length ? hosts.join(', ') : null, request.raw.url);
    reply.header('x-echo', b).type('application/json').send(b);
  };
  const tree = (p, route, opts = {}) => {
    app.route({ method: opts.methods || ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url: p, handler: echo(route), constraints: opts.constraints });
    app.route({ method: opts.methods || ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url: `${p}/*`, handler: echo(route), constraints: opts.constraints });
  };
  tree('/commerce', 'customers');
  app.all('/dashboard/support/csp/customers/:id', echo('csp_customers'));
  tree('/dashboard/billing', 'billing');
  tree('/reports', 'reports', { methods: ['GET', 'DELETE'] });
  tree('/v1', 'api');
  app.all('/healthz', echo('health'));
  // find-my-way's host constraint (Fastify's documented host routing).
  tree('/settings', 'admin_settings', { constraints: { host: ADMIN } });
  app.all('*', echo('default'));
  await app.listen({ port, host: '127.0.0.1' });
  console.log('listening');
}

function honoApp() {
  const { Hono } = require('hono');
  const { serve } = require('@hono/node-server');
  const app = new Hono();
  const echo = (route) => (c) => {
    const b = body(route, new URL(c.req.url).host, c.req.method, c.req.path, c.req.header('host'), c.env.incoming.url);
    return c.body(b, 200, { 'content-type': 'application/json', 'x-echo': b });
  };
  const tree = (p) => [p, `${p}/*`];
  // Host routing the way Hono's docs show it: a sub-app for the host, chosen
  // on the Host header's hostname (new URL(c.req.url).hostname).
  app.all('/settings/*', async (c, next) => (new URL(c.req.url).hostname === ADMIN ? echo('admin_settings')(c) : next()));
  app.all('/settings', async (c, next) => (new URL(c.req.url).hostname === ADMIN ? echo('admin_settings')(c) : next()));
  for (const p of tree('/commerce')) app.all(p, echo('customers'));
  app.all('/dashboard/support/csp/customers/:id', echo('csp_customers'));
  for (const p of tree('/dashboard/billing')) app.all(p, echo('billing'));
  for (const p of tree('/reports')) { app.get(p, echo('reports')); app.delete(p, echo('reports')); }
  for (const p of tree('/v1')) app.all(p, echo('api'));
  app.all('/healthz', echo('health'));
  app.all('*', echo('default'));
  serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log('listening'));
}

if (which === 'express5') expressApp(require('express5'), true);
else if (which === 'express4') expressApp(require('express4'), false);
else if (which === 'fastify') fastifyApp(false);
else if (which === 'fastify-h2') fastifyApp(true);
else if (which === 'hono') honoApp();
else { console.error(`unknown router ${which}`); process.exit(2); }
