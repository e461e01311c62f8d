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

/**
 * An Entra-shaped sign-in host on 127.0.0.1: OpenID configurations (v2 and
 * v1, the multi-tenant `common` ones with a `{tenantid}` issuer, and one of
 * tenant `tenant`) naming key sets on the same server, which serve
 * `state.jwks`. `state.config` may replace a configuration by path (an
 * object, or a number: answer that status); `paths` lists what was asked.
 */
function openidServer(initial, tenant) {
  const state = { jwks: initial, config: {}, paths: [] };
  let base = '';
  const v2 = (t, issuerTenant) => ({
    token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `https://login.microsoftonline.com/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/${t}/kerberos`,
    tenant_region_scope: null,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  });
  const v1 = (t, issuerTenant) => ({
    token_endpoint: `${base}/${t}/oauth2/token`,
    jwks_uri: `${base}/${t}/discovery/keys`,
    issuer: `https://sts.windows.net/${issuerTenant}/`,
    authorization_endpoint: `${base}/${t}/oauth2/authorize`,
    id_token_signing_alg_values_supported: ['RS256'],
    microsoft_multi_refresh_token: true,
    cloud_instance_name: 'microsoftonline.com',
  });
  const configs = () => ({
    '/common/v2.0/.well-known/openid-configuration': v2('common', '{tenantid}'),
    '/common/.well-known/openid-configuration': v1('common', '{tenantid}'),
    [`/${tenant}/v2.0/.well-known/openid-configuration`]: v2(tenant, tenant),
    [`/${tenant}/.well-known/openid-configuration`]: v1(tenant, tenant),
  });
  const server = http.createServer((req, res) => {
    state.paths.push(req.url);
    const json = (status, doc) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(doc));
    const override = state.config[req.url];
    if (typeof override === 'number') {
      res.writeHead(override, override >= 300 && override < 400 ? { location: '/moved' } : {}).end();
    } else if (override) {
      json(200, override);
    } else if (configs()[req.url]) {
      json(200, configs()[req.url]);
    } else if (/^\/[^/]+\/discovery(\/v2\.0)?\/keys$/.test(req.url)) {
      json(200, state.jwks);
    } else {
      json(404, { error: 'not_found' });
    }
  });
  return {
    server,
    state,
    async listen() {
      base = await listen(server);
      return base;
    },
  };
}

module.exports = { listen, close, webServer, jwksServer, openidServer, raw };
