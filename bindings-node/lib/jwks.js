'use strict';
// A JWK Set fetched from a URL with the global fetch, kept fresh, and a gate
// that uses it. Idiom only: the keys are parsed and checked by the core.

const { Gate } = require('./gate.js');
const { JwksError, MfagateError, UsageError } = require('./errors.js');

const EMPTY_JWKS = '{"keys":[]}';

function fetchFailed(message, cause) {
  return new JwksError('jwks_fetch_failed', message, {
    hint: 'check the jwks_uri, the network, and that the endpoint answers 200 with a JWK Set ({"keys": [...]})',
    cause,
  });
}

/** Reads a response body as text, refusing more than `max` bytes. */
async function boundedText(res, max) {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw fetchFailed(`the JWK Set is ${declared} bytes, more than maxBytes (${max})`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw fetchFailed(`the JWK Set is more than maxBytes (${max}) bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Option names of the millisecond era, refused with their replacement. */
const RENAMED = { ttl: 'ttlSeconds', cooldown: 'minRefreshSeconds', timeout: 'timeoutSeconds' };
const DEFAULTS = { ttlSeconds: 3600, minRefreshSeconds: 60, timeoutSeconds: 5, maxBytes: 262_144, maxKeys: 64 };
const KNOWN = new Set(['jwksUri', ...Object.keys(DEFAULTS), 'fetch', 'onError', 'now']);
/** The hosts a JWK Set may be fetched from over plain http. */
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function optionError(message) {
  const e = new TypeError(`JwksGate: ${message}`);
  e.code = 'ERR_INVALID_ARG_VALUE';
  return e;
}

/** The options, checked, with the defaults filled in. */
function readOptions(options) {
  if (options === null || typeof options !== 'object') throw optionError('pass { jwksUri, ... }');
  for (const k of Object.keys(options)) {
    if (RENAMED[k]) {
      throw optionError(`the option \`${k}\` (milliseconds) is now \`${RENAMED[k]}\` (seconds): pass { ${RENAMED[k]}: ... }`);
    }
    if (!KNOWN.has(k)) throw optionError(`unknown option \`${k}\` (known: ${[...KNOWN].join(', ')})`);
  }
  const o = { ...DEFAULTS, fetch: globalThis.fetch, onError: null, now: Date.now };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) o[k] = v;
  const check = (k, ok, what) => {
    if (!(typeof o[k] === 'number' && Number.isFinite(o[k]) && ok(o[k]))) throw optionError(`${k} must be ${what} (got ${String(o[k])})`);
  };
  check('ttlSeconds', (v) => v > 0, 'a positive number of seconds');
  check('minRefreshSeconds', (v) => v >= 0, 'a number of seconds, 0 or more');
  check('timeoutSeconds', (v) => v > 0, 'a positive number of seconds');
  check('maxBytes', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  check('maxKeys', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  if (typeof o.fetch !== 'function') throw optionError('no fetch function: pass { fetch } or use Node >= 18');
  if (o.onError !== null && typeof o.onError !== 'function') throw optionError('onError must be a function');
  if (typeof o.now !== 'function') throw optionError('now must be a function returning milliseconds');
  return o;
}

/** The JWKS URL, if it is one the cache fetches from: https, or http on a loopback host. */
function checkUrl(jwksUri) {
  const text = String(jwksUri);
  let url = null;
  try {
    url = new URL(text);
  } catch {
    /* refused below */
  }
  if (url && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) return url.href;
  throw new UsageError('jwks_url_invalid', `the JWKS URL ${JSON.stringify(text)} is not an https URL`, {
    hint: "use your tenant's https jwks_uri (plain http only for the loopback hosts 127.0.0.1, ::1 and localhost)",
  });
}

/**
 * A gate whose keys come from a JWKS endpoint (all durations in seconds):
 * - keys are fetched on first use (or `ready()`), then again after
 *   `ttlSeconds` (in the background: requests keep using the current keys);
 * - a token whose `kid` is unknown (decision reason `key_not_found`) makes it
 *   refetch at once, then decide again;
 * - a failed fetch (network, timeout, non-200 including a redirect, too
 *   large, not a JWK Set the core accepts, no usable key) keeps the last good
 *   keys and is reported to `onError`;
 * - fetches for an unknown kid, after a failure and before the first good
 *   set are at most one per `minRefreshSeconds`;
 * - at most one fetch is in flight at a time;
 * - `timeoutSeconds` bounds each fetch, `maxBytes` the document and
 *   `maxKeys` its usable keys; the URL is https (http only on loopback).
 * Before any fetch has succeeded there is no key set: the core refuses every
 * token with `keys_unavailable` (503, Retry-After), never "sign in again".
 */
class JwksGate {
  #policyGate;
  #gate;
  #url;
  #opts;
  #inflight = null;
  #lastAttempt = -Infinity;
  #lastSuccess = -Infinity;
  #lastError = null;
  #fetches = 0;

  constructor(policy, options = {}) {
    const jwksUri = options?.jwksUri;
    if (typeof jwksUri !== 'string' && !(jwksUri instanceof URL)) {
      throw optionError('pass { jwksUri }, the https URL of the JWK Set');
    }
    const o = readOptions(options);
    this.#url = checkUrl(jwksUri);
    this.#policyGate = new Gate(policy, EMPTY_JWKS);
    this.#gate = null;
    this.#opts = o;
  }

  /** The current gate: the last good keys, or, before the first good fetch, one that answers keys_unavailable. */
  get gate() {
    if (this.#gate) return this.#gate;
    const o = this.#opts;
    const why = this.#lastError?.message ?? `no JWK Set was fetched from ${this.#url} yet`;
    const left = o.minRefreshSeconds - (o.now() - this.#lastAttempt) / 1000;
    return this.#policyGate.withoutKeys(why, Math.max(1, Math.ceil(Number.isFinite(left) ? left : 1)));
  }
  /** The error of the last fetch, or null if it succeeded. */
  get lastError() {
    return this.#lastError;
  }
  /** How many fetches were started. */
  get fetchCount() {
    return this.#fetches;
  }
  get hasKeys() {
    return this.#lastSuccess !== -Infinity;
  }

  /** Fetches the keys now unless a fetch is in flight; resolves to the gate, rejects with JwksError `jwks_fetch_failed`. */
  refresh() {
    if (this.#inflight) return this.#inflight;
    this.#inflight = this.#fetch().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /** Fetches the keys if there are none yet; rejects if that fails. */
  async ready() {
    if (!this.hasKeys) await this.refresh();
    return this;
  }

  async #fetch() {
    const o = this.#opts;
    this.#lastAttempt = o.now();
    this.#fetches += 1;
    try {
      let text;
      try {
        const res = await o.fetch(this.#url, {
          signal: AbortSignal.timeout(o.timeoutSeconds * 1000),
          headers: { accept: 'application/json' },
          redirect: 'manual',
        });
        if (res.status !== 200 || res.redirected) {
          await res.body?.cancel().catch(() => {});
          const redirect = (res.status >= 300 && res.status < 400) || res.type === 'opaqueredirect' || res.redirected;
          throw fetchFailed(`${this.#url} answered ${res.status}${redirect ? ' (redirects are not followed)' : ''}`);
        }
        text = await boundedText(res, o.maxBytes);
      } catch (e) {
        if (e instanceof MfagateError) throw e;
        const why = e?.name === 'TimeoutError' ? `no answer within ${o.timeoutSeconds} s` : String(e?.cause?.message ?? e?.message ?? e);
        throw fetchFailed(`cannot fetch ${this.#url}: ${why}`, e);
      }
      let doc;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw fetchFailed(`${this.#url} did not answer JSON`, e);
      }
      if (!doc || !Array.isArray(doc.keys)) throw fetchFailed(`${this.#url} did not answer a JWK Set`);
      let gate;
      try {
        gate = this.#policyGate.withKeys(text);
      } catch (e) {
        throw fetchFailed(`the JWK Set at ${this.#url} was refused: ${e.message}`, e);
      }
      const usable = gate.keyIds.length;
      if (usable === 0) throw fetchFailed(`the JWK Set at ${this.#url} has no usable key`);
      if (usable > o.maxKeys) throw fetchFailed(`the JWK Set has ${usable} keys, more than maxKeys (${o.maxKeys})`);
      this.#gate = gate;
      this.#lastSuccess = o.now();
      this.#lastError = null;
      return gate;
    } catch (e) {
      this.#lastError = e;
      if (o.onError) {
        try {
          o.onError(e);
        } catch {
          /* a logging callback must not break key refresh */
        }
      }
      throw e;
    }
  }

  #sinceAttempt() {
    return this.#opts.now() - this.#lastAttempt;
  }

  #due() {
    if (this.#inflight) return false;
    const o = this.#opts;
    if (this.#sinceAttempt() < o.minRefreshSeconds * 1000) return false;
    return !this.hasKeys || o.now() - this.#lastSuccess >= o.ttlSeconds * 1000;
  }

  /** Starts a due fetch; waits for it only while there are no keys yet. */
  async #before() {
    if (this.#inflight && !this.hasKeys) await this.#inflight.catch(() => {});
    else if (this.#due()) {
      const p = this.refresh().catch(() => {});
      if (!this.hasKeys) await p;
    }
  }

  /** After a `key_not_found`: whether fresh keys are (now) there to decide again with. */
  async #afterUnknownKid() {
    if (this.#inflight) await this.#inflight.catch(() => {});
    else if (this.#sinceAttempt() >= this.#opts.minRefreshSeconds * 1000) await this.refresh().catch(() => {});
    else return false;
    return true;
  }

  /** Decides a request, fetching keys as described on the class. */
  async evaluate(request) {
    await this.#before();
    const d = this.gate.evaluate(request);
    if (d.reason !== 'key_not_found' || !(await this.#afterUnknownKid())) return d;
    return this.gate.evaluate(request);
  }

  /** Like evaluate, on the libuv thread pool. */
  async evaluateAsync(request) {
    await this.#before();
    const d = await this.gate.evaluateAsync(request);
    if (d.reason !== 'key_not_found' || !(await this.#afterUnknownKid())) return d;
    return this.gate.evaluateAsync(request);
  }
}

module.exports = { JwksGate };
