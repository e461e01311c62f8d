'use strict';
// A JWK Set fetched from a URL with the global fetch, kept fresh, and a gate
// that uses it. Idiom only: the keys are parsed and checked by the core.

const { Gate } = require('./gate.js');
const { JwksError, MfagateError } = require('./errors.js');

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

/**
 * A gate whose keys come from a JWKS endpoint:
 * - keys are fetched on first use (or `ready()`), then again after `ttl` ms
 *   (in the background: requests keep using the current keys meanwhile);
 * - a token whose `kid` is unknown (decision reason `key_not_found`) makes it
 *   refetch at once, at most once per `cooldown` ms, then decide again;
 * - a failed fetch (network, timeout, non-200, too large, not a JWK Set the
 *   core accepts) keeps the last good keys; it is retried after `cooldown` ms;
 * - at most one fetch is in flight at a time;
 * - `timeout` bounds each fetch, `maxBytes` the document and `maxKeys` its keys.
 * Before any fetch has succeeded the key set is empty, so the core refuses
 * signed tokens with `key_not_found`.
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

  constructor(policy, { jwksUri, ttl = 600_000, cooldown = 30_000, timeout = 5_000, maxBytes = 512 * 1024, maxKeys = 100, fetch = globalThis.fetch, onError = null, now = Date.now } = {}) {
    if (typeof jwksUri !== 'string' && !(jwksUri instanceof URL)) {
      throw new TypeError('JwksGate needs { jwksUri }');
    }
    if (typeof fetch !== 'function') throw new TypeError('no fetch function: pass { fetch } or use Node >= 18');
    for (const [k, v] of Object.entries({ ttl, cooldown, timeout, maxBytes, maxKeys })) {
      if (!(typeof v === 'number' && v >= 0)) throw new TypeError(`${k} must be a non-negative number`);
    }
    this.#policyGate = new Gate(policy, EMPTY_JWKS);
    this.#gate = this.#policyGate;
    this.#url = String(jwksUri);
    this.#opts = { ttl, cooldown, timeout, maxBytes, maxKeys, fetch, onError, now };
  }

  /** The current gate (the last good keys). */
  get gate() {
    return this.#gate;
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
          signal: AbortSignal.timeout(o.timeout),
          headers: { accept: 'application/json' },
          redirect: 'error',
        });
        if (res.status !== 200) {
          await res.body?.cancel().catch(() => {});
          throw fetchFailed(`${this.#url} answered ${res.status}`);
        }
        text = await boundedText(res, o.maxBytes);
      } catch (e) {
        if (e instanceof MfagateError) throw e;
        const why = e?.name === 'TimeoutError' ? `no answer within ${o.timeout} ms` : String(e?.cause?.message ?? e?.message ?? e);
        throw fetchFailed(`cannot fetch ${this.#url}: ${why}`, e);
      }
      let doc;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw fetchFailed(`${this.#url} did not answer JSON`, e);
      }
      if (!doc || !Array.isArray(doc.keys)) throw fetchFailed(`${this.#url} did not answer a JWK Set`);
      if (doc.keys.length > o.maxKeys) throw fetchFailed(`the JWK Set has ${doc.keys.length} keys, more than maxKeys (${o.maxKeys})`);
      let gate;
      try {
        gate = this.#policyGate.withKeys(text);
      } catch (e) {
        throw fetchFailed(`the JWK Set at ${this.#url} was refused: ${e.message}`, e);
      }
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
    if (this.#sinceAttempt() < o.cooldown) return false;
    return !this.hasKeys || o.now() - this.#lastSuccess >= o.ttl;
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
    else if (this.#sinceAttempt() >= this.#opts.cooldown) await this.refresh().catch(() => {});
    else return false;
    return true;
  }

  /** Decides a request, fetching keys as described on the class. */
  async evaluate(request) {
    await this.#before();
    const d = this.#gate.evaluate(request);
    if (d.reason !== 'key_not_found' || !(await this.#afterUnknownKid())) return d;
    return this.#gate.evaluate(request);
  }

  /** Like evaluate, on the libuv thread pool. */
  async evaluateAsync(request) {
    await this.#before();
    const d = await this.#gate.evaluateAsync(request);
    if (d.reason !== 'key_not_found' || !(await this.#afterUnknownKid())) return d;
    return this.#gate.evaluateAsync(request);
  }
}

module.exports = { JwksGate };
