'use strict';
// Express/Connect middleware, a Fastify plugin and a Web-standard handler.
// Each turns a decision into the HTTP answer the core chose (status, reason
// phrase, headers in order, body) and, on allow, hands the decision to the
// route and puts the decision's headers (isMfaCompliant) on its response.

const DECISIONS = new WeakMap();

function checkOptions(options, who) {
  const o = options ?? {};
  if (!o.gate || typeof o.gate.evaluate !== 'function') {
    throw new TypeError(`${who}: pass { gate }, a Gate or a JwksGate`);
  }
  for (const k of ['token', 'mfaRegistered', 'now', 'onDecision']) {
    if (o[k] != null && typeof o[k] !== 'function') throw new TypeError(`${who}: ${k} must be a function`);
  }
  return o;
}

const native = require('./native.js');

/**
 * The Authorization header of a Node request, every line of it: Node's
 * `req.headers` keeps only the first Authorization line, so two credentials
 * would pass as one. Joined with ", " (RFC 9110 §5.3), they are refused by
 * the core as `credential_ambiguous`.
 */
function authorizationOf(raw) {
  const all = raw.headersDistinct?.authorization;
  return Array.isArray(all) && all.length > 0 ? all.join(', ') : raw.headers.authorization;
}

/**
 * The session cookie `name` of a request (a Node IncomingMessage, a Fastify
 * request or a Web Request), for the `token` option: every cookie of that
 * name, joined with ", " when there are several (refused as
 * `credential_ambiguous`), or null.
 */
function sessionCookie(request, name) {
  if (typeof name !== 'string' || name === '') throw new TypeError('sessionCookie(request, name): name must be a cookie name');
  const headers = request?.headers;
  const header = typeof headers?.get === 'function' ? headers.get('cookie') : headers?.cookie;
  const text = Array.isArray(header) ? header.join('; ') : header;
  return typeof text === 'string' ? native.sessionCookie(text, name) : null;
}

/**
 * The request's `ValidateMfa` header, read by the core: `true`, in any case,
 * asks for `isMfaCompliant` on an allowed API call; anything else (or several
 * lines, which Node joins with ", ") does not.
 */
function validateMfaOf(value) {
  return native.validateMfaHeader(typeof value === 'string' ? value : null) ?? null;
}

/** The binding's request object from the parts of an HTTP request. */
function requestOf(o, native, method, path, host, authorization, validateMfa) {
  const req = { method, path, host: host ?? null, authorization: authorization ?? null, validate_mfa: validateMfaOf(validateMfa) };
  if (o.token) req.token = o.token(native) ?? null;
  if (o.mfaRegistered) req.mfa_registered = o.mfaRegistered(native) ?? null;
  if (o.now) req.now = o.now();
  return req;
}

function decide(o, req) {
  return o.async && typeof o.gate.evaluateAsync === 'function' ? o.gate.evaluateAsync(req) : o.gate.evaluate(req);
}

/**
 * Decides `req` under each host value the framework may route on (`hosts`,
 * raw, as received; the first is the one the framework's own host accessor
 * reads). They go to the core as one list (`a, b`), which it reads value by
 * value, deciding under every rule any of them selects (any refusal wins):
 * one evaluation, and the rule is the core's.
 */
function decideHosts(o, req, hosts) {
  const distinct = [...new Set(hosts.filter((h) => typeof h === 'string' && h !== ''))];
  return decide(o, { ...req, host: distinct.length ? distinct.join(', ') : null });
}

/**
 * The hosts an Express app routes on, raw (port included). `req.hostname`
 * (`req.host` in Express 5) reads the first comma-separated value of
 * `X-Forwarded-Host` when the `trust proxy` setting trusts the peer, else
 * `Host`; routers that read the header itself (`vhost`) read `Host`. So: the
 * trusted `X-Forwarded-Host` value and `Host`, or `Host` alone.
 */
function expressHosts(req) {
  const host = req.headers.host;
  const trust = typeof req.app?.get === 'function' ? req.app.get('trust proxy fn') : null;
  let forwarded = req.headers['x-forwarded-host'];
  if (Array.isArray(forwarded)) forwarded = forwarded.join(', ');
  if (typeof trust === 'function' && typeof forwarded === 'string' && forwarded !== '' && trust(req.socket?.remoteAddress, 0)) {
    const comma = forwarded.indexOf(',');
    return [comma === -1 ? forwarded : forwarded.slice(0, comma).trimEnd(), host];
  }
  return [host];
}

/**
 * The hosts a Fastify app routes on, raw. `request.host` (Fastify 5; the
 * port-carrying `request.hostname` of Fastify 4): the last `X-Forwarded-Host`
 * value under `trustProxy`, else `Host`, else HTTP/2's `:authority`. The
 * router's `host` constraint reads `Host || :authority` (never
 * `X-Forwarded-Host`). Over HTTP/2 there is no `Host` header, only `:authority`.
 */
function fastifyHosts(request) {
  const headers = request.headers ?? {};
  const routed = headers.host || headers[':authority'];
  const accessor = typeof request.host === 'string' ? request.host : request.hostname;
  return [typeof accessor === 'string' ? accessor : routed, routed];
}

function isThenable(x) {
  return x !== null && typeof x === 'object' && typeof x.then === 'function';
}

/** The headers of a refusal: every one comes from the core (`http.response_headers`). */
function headersOf(d) {
  return d.http.response_headers;
}

/** Sets an allowed decision's headers (isMfaCompliant) on a Node http.ServerResponse, in order. */
function setAllowHeaders(res, d) {
  const seen = new Set();
  for (const [k, v] of d.http.headers) {
    const name = k.toLowerCase();
    if (seen.has(name)) res.appendHeader(k, v);
    else res.setHeader(k, v);
    seen.add(name);
  }
}

/** Writes a refusal to a Node http.ServerResponse. */
function writeNode(res, d) {
  res.statusCode = d.http.status;
  res.statusMessage = d.http.status_text;
  for (const [k, v] of headersOf(d)) {
    if (res.hasHeader(k)) res.appendHeader(k, v);
    else res.setHeader(k, v);
  }
  res.setHeader('Content-Length', Buffer.byteLength(d.http.body));
  res.end(d.http.body);
}

/**
 * Express / Connect middleware. On allow, `req.mfagate` is the decision, its
 * headers are set on `res` and `next()` is called; otherwise the answer is
 * sent and the chain stops.
 */
function express(options) {
  const o = checkOptions(options, 'mfagate.express');
  return function mfagate(req, res, next) {
    const apply = (d) => {
      if (o.onDecision) o.onDecision(d, req);
      if (d.outcome === 'allow') {
        req.mfagate = d;
        setAllowHeaders(res, d);
        next();
      } else {
        writeNode(res, d);
      }
    };
    let r;
    try {
      // `req.url`, not `req.originalUrl`: the router routes on the path
      // relative to the mount and after URL rewrites, so that is what is decided.
      // The host: what `req.hostname` is read from (X-Forwarded-Host under
      // `trust proxy`), and the Host header; see expressHosts.
      r = decideHosts(o, requestOf(o, req, req.method, req.url, null, authorizationOf(req), req.headers.validatemfa), expressHosts(req));
    } catch (e) {
      next(e);
      return;
    }
    if (isThenable(r)) r.then(apply).catch(next);
    else {
      try {
        apply(r);
      } catch (e) {
        next(e);
      }
    }
  };
}

/**
 * Fastify plugin (`app.register(mfagate.fastify, { gate })`): an onRequest
 * hook for the whole app. On allow, `request.mfagate` is the decision and its
 * headers are set on the reply.
 */
function fastify(app, options, done) {
  let o;
  try {
    o = checkOptions(options, 'mfagate.fastify');
  } catch (e) {
    done(e);
    return;
  }
  app.decorateRequest('mfagate', null);
  app.addHook('onRequest', async (request, reply) => {
    // `request.raw.url` is what Fastify's router dispatched on: the URL after
    // the `rewriteUrl` server option (`request.originalUrl` is the one before).
    // The host: `request.host` and the router's `Host || :authority` (HTTP/2
    // has no Host header); see fastifyHosts.
    const d = await decideHosts(
      o,
      requestOf(o, request, request.method, request.raw.url, null, authorizationOf(request.raw), request.headers.validatemfa),
      fastifyHosts(request),
    );
    if (o.onDecision) o.onDecision(d, request);
    if (d.outcome === 'allow') {
      request.mfagate = d;
      for (const [k, v] of d.http.headers) reply.header(k, v);
      return;
    }
    reply.code(d.http.status);
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2); Node warns when one is set.
    if (request.raw.httpVersionMajor !== 2) reply.raw.statusMessage = d.http.status_text;
    for (const [k, v] of headersOf(d)) reply.header(k, v);
    return reply.send(d.http.body);
  });
  done();
}
// What fastify-plugin does: the hook applies to the whole app, not a child scope.
fastify[Symbol.for('skip-override')] = true;
fastify[Symbol.for('fastify.display-name')] = 'mfagate';

/** A refusal as a Web `Response`. */
function toResponse(d) {
  const headers = new Headers();
  for (const [k, v] of headersOf(d)) headers.append(k, v);
  return new Response(d.http.body === '' ? null : d.http.body, { status: d.http.status, statusText: d.http.status_text, headers });
}

/**
 * A Web-standard handler for fetch-style servers: `(request) => Response | null`
 * (a Promise of it with a JwksGate or `async: true`). `null` means allow: go
 * on; `decisionOf(request)` gives the decision, and
 * `withDecisionHeaders(request, response)` puts its headers on the app's response.
 */
function handler(options) {
  const o = checkOptions(options, 'mfagate.handler');
  return function mfagate(request) {
    const url = new URL(request.url);
    const r = decide(
      o,
      requestOf(
        o,
        request,
        request.method,
        url.pathname + url.search,
        // The URL's host, as the request's router (Hono, itty-router, a
        // worker's `new URL(request.url)`) reads it; never a Host header
        // the URL does not come from.
        url.host,
        request.headers.get('authorization'),
        request.headers.get('validatemfa'),
      ),
    );
    const apply = (d) => {
      if (o.onDecision) o.onDecision(d, request);
      if (d.outcome === 'allow') {
        DECISIONS.set(request, d);
        return null;
      }
      return toResponse(d);
    };
    return isThenable(r) ? r.then(apply) : apply(r);
  };
}

/** The decision the Web handler made for `request` (after it returned null). */
function decisionOf(request) {
  return DECISIONS.get(request) ?? null;
}

/**
 * The application's `response` to an allowed `request` with the decision's
 * headers (isMfaCompliant) set on it, in order: the same Response, or a copy
 * when its headers are immutable (a Response from fetch()). Without a
 * decision for `request`, `response` as it is.
 */
function withDecisionHeaders(request, response) {
  const d = decisionOf(request);
  if (!d || d.http.headers.length === 0) return response;
  const put = (headers) => {
    const seen = new Set();
    for (const [k, v] of d.http.headers) {
      const name = k.toLowerCase();
      if (seen.has(name)) headers.append(k, v);
      else headers.set(k, v);
      seen.add(name);
    }
  };
  try {
    put(response.headers);
    return response;
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    const headers = new Headers(response.headers);
    put(headers);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

module.exports = { express, fastify, handler, decisionOf, withDecisionHeaders, toResponse, writeNode, sessionCookie };
