'use strict';
// A gate whose keys come from a JWKS source, kept fresh by the core's
// refresher (`mfagate::Refresher`, as `NativeRefresher`): the core says when
// to fetch which document and what an answer means (timing, rate limits, URL
// rules, limits, parsing, discovery). This module performs the GET it asks
// for with the global fetch, keeps the promise idiom and calls `onError`.

const native = require('./native.js');
const { Gate, gateOverKeysOf } = require('./gate.js');
const { fromNative } = require('./errors.js');

const EMPTY_JWKS = '{"keys":[]}';
const NO_BODY = Buffer.alloc(0);

/** Option names of the millisecond era, refused with their replacement. */
const RENAMED = { ttl: 'ttlSeconds', cooldown: 'minRefreshSeconds', timeout: 'timeoutSeconds' };
const DEFAULTS = { ttlSeconds: 3600, minRefreshSeconds: 60, timeoutSeconds: 5, maxBytes: 262_144, maxKeys: 64 };
const NUMBERS = Object.keys(DEFAULTS);
const KNOWN = new Set(['jwksUri', ...NUMBERS, 'fetch', 'onError', 'now', 'cache']);

function optionError(message, cause) {
  const e = new TypeError(`JwksGate: ${message}`, cause === undefined ? undefined : { cause });
  e.code = 'ERR_INVALID_ARG_VALUE';
  return e;
}

/** The options with the defaults filled in, of the right types (their ranges are the core's to check). */
function readOptions(options) {
  if (options === null || typeof options !== 'object') throw optionError('pass { jwksUri, ... }');
  for (const k of Object.keys(options)) {
    if (RENAMED[k]) {
      throw optionError(`the option \`${k}\` (milliseconds) is now \`${RENAMED[k]}\` (seconds): pass { ${RENAMED[k]}: ... }`);
    }
    if (!KNOWN.has(k)) throw optionError(`unknown option \`${k}\` (known: ${[...KNOWN].join(', ')})`);
  }
  const o = { ...DEFAULTS, fetch: globalThis.fetch, onError: null, now: () => performance.now(), cache: null };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) o[k] = v;
  for (const k of NUMBERS) {
    if (typeof o[k] !== 'number') throw optionError(`${k} must be a number (got ${typeof o[k]} ${String(o[k])})`);
  }
  if (typeof o.fetch !== 'function') throw optionError('no fetch function: pass { fetch } or use Node >= 18');
  if (o.onError !== null && typeof o.onError !== 'function') throw optionError('onError must be a function');
  if (typeof o.now !== 'function') throw optionError('now must be a function returning milliseconds');
  return o;
}

/** The core's refresher for the source, its errors in the binding's classes. */
function refresherOf(jwksUri, o) {
  try {
    return new native.NativeRefresher(String(jwksUri), o.ttlSeconds, o.minRefreshSeconds, o.timeoutSeconds, o.maxBytes, o.maxKeys);
  } catch (e) {
    const err = fromNative(e);
    // Options out of range: a TypeError like every unusable option, with the core's words.
    if (err?.code === 'request_invalid') {
      const got = NUMBERS.map((k) => `${k} ${o[k]}`).join(', ');
      throw optionError(`${err.message} (options: ${got}; ${err.hint})`, err);
    }
    throw err;
  }
}

/** A body read beyond the limit the core gave. */
class TooLarge extends Error {}

/**
 * Reads a response body, refusing more than `max` bytes: a declared
 * Content-Length over it, or once that many bytes were read.
 */
async function boundedBody(res, max) {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new TooLarge();
  }
  if (!res.body) return NO_BODY;
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/**
 * A gate whose keys come from a JWKS source: a JWK Set URL, an OpenID
 * configuration URL (`…/.well-known/openid-configuration`) or an authority
 * (`…/{tenant}/v2.0`, or `/{tenant}` on an Entra sign-in host), whose
 * configuration gives the key set's URL and the issuer tokens must carry.
 * The rules (docs/node.md, docs/bindings.md "JWKS caches") are the core's:
 * - keys are fetched on first use (or `ready()`), then again after
 *   `ttlSeconds` (in the background: requests keep using the current keys);
 * - a token whose `kid` is unknown (decision reason `key_not_found`) makes it
 *   refetch at once, then decide again;
 * - a failed fetch (network, timeout, non-200 including a redirect, too
 *   large, not a document the core accepts, no usable key) keeps the last
 *   good keys and is reported to `onError`;
 * - fetches for an unknown kid, after a failure, before the first good set
 *   and by `refresh()` are at most one per `minRefreshSeconds`;
 * - at most one fetch is in flight at a time;
 * - `timeoutSeconds` bounds each fetch, `maxBytes` each document and
 *   `maxKeys` the usable keys; the URLs are https (http only on loopback).
 * Before any fetch has succeeded there is no key set: the core refuses every
 * token with `keys_unavailable` (503, Retry-After), never "sign in again".
 */
class JwksGate {
  #policyGate;
  #refresher;
  #opts;
  /** The gate over the current key set (rebuilt when a fetch brings a new one). */
  #gate = null;
  /** The fetch in flight: a Promise of the gate. */
  #inflight = null;
  #lastError = null;

  constructor(policy, options = {}) {
    const jwksUri = options?.jwksUri;
    if (typeof jwksUri !== 'string' && !(jwksUri instanceof URL)) {
      throw optionError('pass { jwksUri }: the https URL of the JWK Set, of an OpenID configuration, or an authority');
    }
    const o = readOptions(options);
    this.#refresher = refresherOf(jwksUri, o);
    this.#policyGate = new Gate(policy, EMPTY_JWKS, { cache: o.cache });
    this.#opts = o;
  }

  #now() {
    return this.#opts.now();
  }

  /** The current gate: the last good keys, or, before the first good fetch, one that answers keys_unavailable. */
  get gate() {
    return this.#gate ?? gateOverKeysOf(this.#policyGate, this.#refresher, this.#now());
  }
  /** The error of the last fetch, or null if it succeeded. */
  get lastError() {
    return this.#lastError;
  }
  /** How many fetches were started (an OpenID configuration and its key set count as one). */
  get fetchCount() {
    return this.#refresher.fetches;
  }
  get hasKeys() {
    return this.#refresher.hasKeys;
  }
  /** The JWK Set's URL: `jwksUri` itself, or the `jwks_uri` of the OpenID configuration (null until fetched). */
  get jwksUrl() {
    return this.#refresher.jwksUrl ?? null;
  }
  /** The issuer of the OpenID configuration the keys came from (null for a plain JWK Set URL, or until fetched). */
  get issuer() {
    return this.#refresher.issuer ?? null;
  }

  /**
   * Fetches the keys now, unless a fetch is in flight (then shares it) or
   * the last one started less than `minRefreshSeconds` ago (then resolves to
   * the current gate, or rejects with `lastError` while there are no keys).
   * Rejects with JwksError `jwks_fetch_failed`.
   */
  refresh() {
    if (this.#inflight) return this.#inflight;
    // The core's way to ask for fresher keys, at most once per minRefreshSeconds.
    this.#refresher.unknownKid(this.#now());
    const p = this.#poll();
    if (p) return p;
    if (this.hasKeys) return Promise.resolve(this.gate);
    return Promise.reject(this.#lastError ?? fromNative(this.#refresher.lastError));
  }

  /** Fetches the keys if there are none yet; rejects if that fails. */
  async ready() {
    if (!this.hasKeys) await this.refresh();
    return this;
  }

  /** Starts the fetch the core asks for, if any; the fetch in flight (or null). */
  #poll() {
    const order = this.#refresher.next(this.#now());
    if (order) {
      const p = this.#drive(order).finally(() => {
        if (this.#inflight === p) this.#inflight = null;
      });
      p.catch(() => {}); // callers that go on without waiting must not leave it unhandled
      this.#inflight = p;
    }
    return this.#inflight;
  }

  /** Performs the core's fetches of one attempt (a configuration, then its key set); resolves to the new gate. */
  async #drive(order) {
    try {
      for (;;) {
        const got = await this.#get(order);
        const now = this.#now();
        if (got.why !== undefined) throw fromNative(this.#refresher.failed(order.id, now, got.why), got.cause);
        let fresh;
        try {
          fresh = this.#refresher.fetched(order.id, now, got.status, got.body);
        } catch (e) {
          throw fromNative(e);
        }
        if (fresh) {
          this.#gate = gateOverKeysOf(this.#policyGate, this.#refresher, now);
          this.#lastError = null;
          return this.#gate;
        }
        // The configuration arrived: the core now asks for its key set.
        order = this.#refresher.next(this.#now());
        if (!order) {
          const e = this.#refresher.lastError;
          if (e) throw fromNative(e);
          return this.gate;
        }
      }
    } catch (e) {
      this.#lastError = e;
      if (this.#opts.onError) {
        try {
          this.#opts.onError(e);
        } catch {
          /* a logging callback must not break key refresh */
        }
      }
      throw e;
    }
  }

  /**
   * One GET as the core asked: the whole fetch within `timeoutMs`, no
   * redirect followed, the body cut at `maxBytes`. Resolves to
   * `{status, body}`, or `{why, cause}` when there was no answer to report.
   */
  async #get(order) {
    const signal = AbortSignal.timeout(order.timeoutMs);
    // A fetch function that ignores the signal still ends at the deadline.
    const deadline = new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const read = this.#read(order, signal);
    read.catch(() => {});
    deadline.catch(() => {});
    try {
      return await Promise.race([read, deadline]);
    } catch (e) {
      if (e instanceof TooLarge) return { why: `the document is larger than ${order.maxBytes} bytes` };
      if (signal.aborted || e?.name === 'TimeoutError') return { why: `no answer within ${order.timeoutMs / 1000} s`, cause: e };
      return { why: `cannot fetch: ${String(e?.cause?.message ?? e?.message ?? e)}`, cause: e };
    }
  }

  async #read(order, signal) {
    const res = await this.#opts.fetch(order.url, { signal, headers: { accept: 'application/json' }, redirect: 'manual' });
    if (res.redirected || res.type === 'opaqueredirect') {
      // A fetch function that followed a redirect, or hid its status.
      await res.body?.cancel().catch(() => {});
      return { why: `GET ${order.url} was redirected (redirects are not followed)` };
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return { status: res.status, body: NO_BODY };
    }
    return { status: res.status, body: await boundedBody(res, order.maxBytes) };
  }

  /** Starts a due fetch; waits for it only while there are no keys yet. */
  async #before() {
    const p = this.#poll();
    if (p && !this.hasKeys) await p.catch(() => {});
  }

  /** After a `key_not_found`: whether fresher keys are (now) there to decide again with. */
  async #afterUnknownKid() {
    if (!this.#refresher.unknownKid(this.#now())) return false;
    const p = this.#poll();
    if (!p) return false;
    await p.catch(() => {});
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
