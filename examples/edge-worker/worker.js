// An edge gate in front of an origin: a module worker (workerd, Cloudflare
// Workers) that runs mfagate's built-in Partner Center policy and answers
// 401/403/302 itself, or forwards the request to the origin (and adds the
// decision's headers, such as isMfaCompliant, to the origin's answer).
//
// Bindings (see config.capnp / README.md):
//   ORIGIN          service: the origin (requests are forwarded to it)
//   MFAGATE_POLICY  text: a built-in name or a JSON policy spec (default "partner-center")
//   JWKS_URL        text: where the keys come from, fetched and cached: a JWK Set URL (your
//                   tenant's jwks_uri), an OpenID configuration URL, or an authority
//                   (https://login.microsoftonline.com/{tenant}/v2.0)
//   JWKS            service (optional): fetch JWKS_URL through this binding instead of the internet
//   JWKS_TTL_SECONDS, JWKS_MIN_REFRESH_SECONDS, JWKS_TIMEOUT_SECONDS
//                   text (optional): the cache's ttlSeconds (3600), minRefreshSeconds (60), timeoutSeconds (5)
//   JWKS_JSON       text (optional): a fixed JWK Set instead of JWKS_URL
//   SESSION_COOKIE  text (optional): the cookie holding a page session's ID token (default "mfagate_id_token")
import { Gate, JwksCache, JwksGate, initSync, sessionCookie, validateMfaHeader } from 'mfagate-wasm';
import wasm from 'mfagate-wasm/mfagate_wasm_bg.wasm';

initSync({ module: wasm });

let gate = null;

/** One gate per isolate, built on the first request from the bindings. */
function gateFor(env) {
  if (gate) return gate;
  const raw = (env.MFAGATE_POLICY ?? 'partner-center').trim();
  const policy = raw.startsWith('{') ? JSON.parse(raw) : raw;
  if (env.JWKS_URL) {
    const seconds = (v) => (v === undefined ? undefined : Number(v)); // unset: the cache's default
    const cache = new JwksCache(env.JWKS_URL, {
      fetch: env.JWKS ? (url, init) => env.JWKS.fetch(url, init) : undefined,
      ttlSeconds: seconds(env.JWKS_TTL_SECONDS),
      minRefreshSeconds: seconds(env.JWKS_MIN_REFRESH_SECONDS),
      timeoutSeconds: seconds(env.JWKS_TIMEOUT_SECONDS),
      // Each failed fetch (the last good keys stay in use): URL and reason only.
      onError: (e) => console.error(JSON.stringify({ mfagate_error: e.code, message: e.message })),
    });
    gate = new JwksGate(policy, cache);
  } else {
    gate = new Gate(policy, env.JWKS_JSON ?? null);
  }
  return gate;
}

/** The gate's request from a fetch Request. Both credentials go to the core,
 * which decides what two of them mean (an Authorization header and a
 * session, or a session cookie sent twice, are ambiguous: frameworks differ
 * on which one they use). Several values of the session cookie are passed
 * joined with ", ", never one picked here. */
function toGateRequest(request, env) {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname + url.search,
    host: url.host,
    authorization: request.headers.get('authorization'),
    token: sessionCookie(request.headers.get('cookie'), env.SESSION_COOKIE ?? 'mfagate_id_token') ?? null,
    validate_mfa: validateMfaHeader(request.headers.get('validatemfa')) ?? null,
    now: Math.floor(Date.now() / 1000),
  };
}

/** The decision's own HTTP answer (401, 403, 302, 400...). */
function answer(d) {
  // Every header of the answer comes from the core: the challenge, Location,
  // Content-Type for a body, Cache-Control: no-store.
  const headers = new Headers(d.http.response_headers);
  return new Response(d.http.body || null, { status: d.http.status, statusText: d.http.status_text, headers });
}

export default {
  async fetch(request, env) {
    let d;
    try {
      d = await gateFor(env).evaluate(toGateRequest(request, env));
    } catch (e) {
      // Misconfiguration (policy, keys, JWKS endpoint down before any good set).
      console.error(JSON.stringify({ mfagate_error: e.code ?? 'error', message: e.message }));
      return new Response('{"reason":"gate_unavailable"}', { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '30' } });
    }
    console.log(JSON.stringify({ path: d.rule && new URL(request.url).pathname, outcome: d.outcome, reason: d.reason, rule: d.rule }));
    if (d.outcome !== 'allow') return answer(d);
    // Forward, telling the origin what the gate found (never what the client claimed).
    const headers = new Headers(request.headers);
    for (const k of [...headers.keys()]) if (k.startsWith('x-mfagate-')) headers.delete(k);
    headers.set('x-mfagate-reason', d.reason);
    headers.set('x-mfagate-token-kind', d.token_kind ?? '');
    headers.set('x-mfagate-roles', d.roles.join(','));
    if (d.subject?.user) headers.set('x-mfagate-user', d.subject.user);
    const res = await env.ORIGIN.fetch(new Request(request, { headers }));
    if (d.http.headers.length === 0) return res;
    // The decision's headers on an allow (isMfaCompliant) go on the origin's answer.
    const out = new Response(res.body, res);
    for (const [name, value] of d.http.headers) out.headers.set(name, value);
    return out;
  },
};
