'use strict';
// A gate whose keys come from a JWKS source, kept fresh by the core's key
// feed and engine (`mfagate::KeyFeed`, `mfagate::Engine`, as `NativeKeyFeed`
// and `NativeEngine`): the core reads the options, says when to fetch which
// document, what an answer means (timing, rate limits, URL rules, limits,
// parsing, discovery) and which gate decides. This module performs the GET it
// asks for with the global fetch, keeps the promise idiom and calls `onError`.

const native = require('./native.js');
const { wrapGate } = require('./gate.js');
const { nativeCache } = require('./cache.js');
const { fromNative } = require('./errors.js');

const NO_BODY = Buffer.alloc(0);

function optionError(message, cause) {
  const e = new TypeError(`JwksGate: ${message}`, cause === undefined ? undefined : { cause });
  e.code = 'ERR_INVALID_ARG_VALUE';
  return e;
}

/** The options this module reads itself, with their defaults; the core reads (and checks) the others. */
function ownOptions(options) {
  const o = { fetch: globalThis.fetch, onError: null, now: () => performance.now(), cache: null };
  for (const k of Object.keys(o)) if (options[k] !== undefined) o[k] = options[k];
  if (typeof o.fetch !== 'function') throw optionError('no fetch function: pass { fetch } or use Node >= 18');
  if (o.onError !== null && typeof o.onError !== 'function') throw optionError('onError must be a function');
  if (typeof o.now !== 'function') throw optionError('now must be a function returning milliseconds');
  return o;
}

/** The core's key feed for the source, its errors in the binding's classes. */
function feedOf(jwksUri, options) {
  try {
    return new native.NativeKeyFeed(String(jwksUri), options);
  } catch (e) {
    const err = fromNative(e);
    // An option unknown or out of range: a TypeError like every unusable option, with the core's words.
    if (err?.code === 'request_invalid') {
      const own = new Set(['jwksUri', 'fetch', 'onError', 'now', 'cache']);
      const given = Object.keys(options).filter((k) => !own.has(k));
      const got = given.map((k) => `\`${k}\` ${String(options[k])}`).join(', ');
      throw optionError(`${err.message} (given: ${got || 'none'}; ${err.hint})`, err);
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
  #feed;
  #engine;
  #opts;
  /** The current gate with the feed version of its keys: kept while that version stays. */
  #current = null;
  /** The feed's version as of its last report (only a report moves it, and this module makes them all). */
  #version = 0;
  /** The fetch in flight: a Promise of the gate. */
  #inflight = null;
  #lastError = null;

  constructor(policy, options = {}) {
    const jwksUri = options?.jwksUri;
    if (typeof jwksUri !== 'string' && !(jwksUri instanceof URL)) {
      throw optionError('pass { jwksUri }: the https URL of the JWK Set, of an OpenID configuration, or an authority');
    }
    const o = ownOptions(options);
    this.#feed = feedOf(jwksUri, options);
    const cache = o.cache === null ? undefined : nativeCache(o.cache);
    try {
      this.#engine = new native.NativeEngine(policy, this.#feed, cache);
    } catch (e) {
      throw fromNative(e);
    }
    this.#opts = o;
  }

  #now() {
    return this.#opts.now();
  }

  /** The gate to decide with, and the version of its keys. */
  #snapshot() {
    const cur = this.#current;
    if (cur !== null && cur.version === this.#version) return cur;
    const snap = { gate: wrapGate(this.#engine.gate(this.#now()), this.#opts.cache), version: this.#version };
    // Before the first good set the gate's Retry-After is of this moment: not kept.
    if (snap.version > 0) this.#current = snap;
    return snap;
  }

  /** The current gate: the last good keys, or, before the first good fetch, one that answers keys_unavailable. */
  get gate() {
    return this.#snapshot().gate;
  }
  /** The error of the last fetch, or null if it succeeded. */
  get lastError() {
    return this.#lastError;
  }
  /** How many fetches were started (an OpenID configuration and its key set count as one). */
  get fetchCount() {
    return this.#feed.fetches;
  }
  get hasKeys() {
    return this.#feed.hasKeys;
  }
  /** The JWK Set's URL: `jwksUri` itself, or the `jwks_uri` of the OpenID configuration (null until fetched). */
  get jwksUrl() {
    return this.#feed.jwksUrl ?? null;
  }
  /** The issuer of the OpenID configuration the keys came from (null for a plain JWK Set URL, or until fetched). */
  get issuer() {
    return this.#feed.issuer ?? null;
  }

  /**
   * Fetches the keys now, unless a fetch is in flight (then shares it) or
   * the last one started less than `minRefreshSeconds` ago (then resolves to
   * the current gate, or rejects with `lastError` while there are no keys).
   * Rejects with JwksError `jwks_fetch_failed`.
   */
  refresh() {
    if (this.#inflight) return this.#inflight;
    const step = this.#feed.refresh(this.#now());
    if (step?.fetch) return this.#start(step.fetch);
    if (this.hasKeys) return Promise.resolve(this.gate);
    return Promise.reject(this.#lastError ?? fromNative(this.#feed.lastError));
  }

  /** Fetches the keys if there are none yet; rejects if that fails. */
  async ready() {
    if (!this.hasKeys) await this.refresh();
    return this;
  }

  /** Takes a step the core asked for: starts its fetch, if any; the fetch in flight if the step says to wait for it. */
  #take(step) {
    if (step === null) return null;
    if (step.fetch) this.#start(step.fetch);
    return step.wait ? this.#inflight : null;
  }

  /** Starts an attempt, shared by every caller until it ends. */
  #start(fetch) {
    const p = this.#drive(fetch).finally(() => {
      if (this.#inflight === p) this.#inflight = null;
    });
    p.catch(() => {}); // callers that go on without waiting must not leave it unhandled
    this.#inflight = p;
    return p;
  }

  /** Performs the core's fetches of one attempt (a configuration, then its key set); resolves to the new gate. */
  async #drive(fetch) {
    try {
      while (fetch) {
        const got = await this.#get(fetch);
        const now = this.#now();
        if (got.why !== undefined) throw fromNative(this.#feed.failed(fetch.id, now, got.why), got.cause);
        try {
          fetch = this.#feed.fetched(fetch.id, now, got.status, got.body);
        } catch (e) {
          throw fromNative(e);
        }
      }
      this.#version = this.#feed.version;
      this.#lastError = null;
      return this.gate;
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
  async #get(fetch) {
    const signal = AbortSignal.timeout(fetch.timeoutMs);
    // A fetch function that ignores the signal still ends at the deadline.
    const deadline = new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const read = this.#read(fetch, signal);
    read.catch(() => {});
    deadline.catch(() => {});
    try {
      return await Promise.race([read, deadline]);
    } catch (e) {
      if (e instanceof TooLarge) return { why: `the document is larger than ${fetch.maxBytes} bytes` };
      if (signal.aborted || e?.name === 'TimeoutError') return { why: `no answer within ${fetch.timeoutMs / 1000} s`, cause: e };
      return { why: `cannot fetch: ${String(e?.cause?.message ?? e?.message ?? e)}`, cause: e };
    }
  }

  async #read(fetch, signal) {
    const res = await this.#opts.fetch(fetch.url, { signal, headers: { accept: 'application/json' }, redirect: 'manual' });
    if (res.redirected || res.type === 'opaqueredirect') {
      // A fetch function that followed a redirect, or hid its status.
      await res.body?.cancel().catch(() => {});
      return { why: `GET ${fetch.url} was redirected (redirects are not followed)` };
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return { status: res.status, body: NO_BODY };
    }
    return { status: res.status, body: await boundedBody(res, fetch.maxBytes) };
  }

  /**
   * One decision: the feed's step first (waited for only while there are no
   * keys yet), then, after a `key_not_found`, once more if the core says
   * fresher keys may change it.
   */
  async #decide(request, async) {
    const first = this.#take(this.#feed.poll(this.#now()));
    if (first) await first.catch(() => {});
    const seen = this.#snapshot();
    const d = async ? await seen.gate.evaluateAsync(request) : seen.gate.evaluate(request);
    if (d.reason !== 'key_not_found') return d;
    const step = this.#engine.afterKeyNotFound(seen.version, this.#now());
    if (step === null) return d;
    const more = this.#take(step);
    if (more) await more.catch(() => {});
    const gate = this.gate;
    return async ? gate.evaluateAsync(request) : gate.evaluate(request);
  }

  /** Decides a request, fetching keys as described on the class. */
  evaluate(request) {
    return this.#decide(request, false);
  }

  /** Like evaluate, on the libuv thread pool. */
  evaluateAsync(request) {
    return this.#decide(request, true);
  }
}

module.exports = { JwksGate };
