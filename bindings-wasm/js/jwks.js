// A JWK Set cache on `fetch`, and a gate that uses it. Host idiom only: the
// keys are checked by the core (parseJwks), and every decision comes from it.

export function bindJwks({ Gate, parseJwks, JwksError, UsageError }) {
  const FETCH_HINT = 'check the URL, the network, and that the endpoint answers 200 with a JWK Set ({"keys": [...]})';
  const fail = (message, cause) => {
    const e = new JwksError(message, { code: 'jwks_fetch_failed', hint: FETCH_HINT, doc_url: null, line: null });
    if (cause !== undefined) e.cause = cause;
    return e;
  };
  /** A failure inside one fetch, turned into a JwksError by #load. */
  class Failed extends Error {}

  /** Option names of the millisecond era, refused with their replacement. */
  const RENAMED = { timeoutMs: 'timeoutSeconds', ttl: 'ttlSeconds', cooldown: 'minRefreshSeconds', timeout: 'timeoutSeconds' };
  const DEFAULTS = { ttlSeconds: 3600, minRefreshSeconds: 60, timeoutSeconds: 5, maxBytes: 262144, maxKeys: 64 };
  const KNOWN = new Set([...Object.keys(DEFAULTS), 'fetch', 'onError', 'now']);
  /** The hosts a JWK Set may be fetched from over plain http. */
  const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

  const optionError = (message) => {
    const e = new TypeError(`JwksCache: ${message}`);
    e.code = 'ERR_INVALID_ARG_VALUE';
    return e;
  };

  function readOptions(opts) {
    if (opts === null || typeof opts !== 'object') throw optionError('options must be an object');
    for (const k of Object.keys(opts)) {
      if (RENAMED[k]) throw optionError(`the option \`${k}\` is now \`${RENAMED[k]}\` (seconds): pass { ${RENAMED[k]}: ... }`);
      if (!KNOWN.has(k)) throw optionError(`unknown option \`${k}\` (known: ${[...KNOWN].join(', ')})`);
    }
    const o = { ...DEFAULTS, fetch: (...a) => globalThis.fetch(...a), onError: null, now: () => Date.now() };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) o[k] = v;
    const check = (k, ok, what) => {
      if (!(typeof o[k] === 'number' && Number.isFinite(o[k]) && ok(o[k]))) throw optionError(`${k} must be ${what} (got ${String(o[k])})`);
    };
    check('ttlSeconds', (v) => v > 0, 'a positive number of seconds');
    check('minRefreshSeconds', (v) => v >= 0, 'a number of seconds, 0 or more');
    check('timeoutSeconds', (v) => v > 0, 'a positive number of seconds');
    check('maxBytes', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    check('maxKeys', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    if (typeof o.fetch !== 'function') throw optionError('fetch must be a function');
    if (o.onError !== null && typeof o.onError !== 'function') throw optionError('onError must be a function');
    if (typeof o.now !== 'function') throw optionError('now must be a function returning milliseconds');
    return o;
  }

  /** The URL, if the cache fetches from it: https, or http on a loopback host. */
  function checkUrl(url) {
    const text = String(url);
    let u = null;
    try { u = new URL(text); } catch { /* refused below */ }
    if (u && (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname)))) return u.href;
    throw new UsageError(`the JWKS URL ${JSON.stringify(text)} is not an https URL`, {
      code: 'jwks_url_invalid',
      hint: "use your tenant's https jwks_uri (plain http only for the loopback hosts 127.0.0.1, ::1 and localhost)",
      doc_url: null,
      line: null,
    });
  }

  /**
   * Fetches a JWK Set and keeps it (all durations in seconds):
   * - fresh for `ttlSeconds`; after that the next `get()` refetches;
   * - fetches for an unknown kid (`refreshForUnknownKid()`), after a failure
   *   and before the first good set are at most one per `minRefreshSeconds`;
   * - a failed fetch (network, `timeoutSeconds`, a status other than 200, a
   *   redirect (never followed), a body over `maxBytes`, more than `maxKeys`
   *   usable keys, no usable key, a set the core refuses) keeps the last good
   *   keys and is reported to `onError` (a JwksError `jwks_fetch_failed`);
   * - one fetch in flight at a time, shared by concurrent callers;
   * - `get()` throws JwksError `jwks_fetch_failed` only while no good set was
   *   ever fetched.
   */
  class JwksCache {
    #url; #opts; #good = null; #fetchedAt = -Infinity; #lastAttempt = -Infinity;
    #inflight = null; #version = 0; #lastError = null;
    constructor(url, opts = {}) {
      if (typeof url !== 'string' && !(url instanceof URL)) throw optionError('url must be a string or URL');
      const o = readOptions(opts);
      this.#url = checkUrl(url);
      this.#opts = o;
      /** Counters, for logs and tests. */
      this.stats = { fetches: 0, failures: 0, lastError: null };
    }
    /** Bumped each time a different good set is stored. */
    get version() { return this.#version; }
    /** The last good set as JSON text, or null. */
    get current() { return this.#good; }
    /** The JwksError of the last fetch, or null if it succeeded. */
    get lastError() { return this.#lastError; }
    /** Whole seconds until the next fetch may be tried (at least 1). */
    get retryAfterSeconds() {
      const left = this.#opts.minRefreshSeconds - (this.#opts.now() - this.#lastAttempt) / 1000;
      return Math.max(1, Math.ceil(Number.isFinite(left) ? left : 1));
    }

    #fresh() { return this.#good !== null && this.#opts.now() - this.#fetchedAt < this.#opts.ttlSeconds * 1000; }
    #mayRetry() { return this.#opts.now() - this.#lastAttempt >= this.#opts.minRefreshSeconds * 1000; }

    /** The JWK Set as JSON text: cached while fresh, refetched when stale. */
    async get() {
      if (this.#fresh()) return this.#good;
      if (this.#inflight) await this.#inflight;
      else if (this.#mayRetry()) await this.#refresh();
      if (this.#good === null) {
        throw fail(`no JWK Set could be fetched from ${this.#url}: ${this.stats.lastError}`, this.#lastError ?? undefined);
      }
      return this.#good;
    }

    /** Refetches because a token named an unknown kid; at most once per
     * minRefreshSeconds. Resolves to true when a different set was stored. */
    async refreshForUnknownKid() {
      const before = this.#version;
      if (this.#inflight) await this.#inflight;
      else if (this.#mayRetry()) await this.#refresh();
      else return false;
      return this.#version !== before;
    }

    #refresh() {
      if (!this.#inflight) {
        this.#inflight = this.#load().finally(() => { this.#inflight = null; });
      }
      return this.#inflight;
    }

    async #load() {
      const o = this.#opts;
      this.#lastAttempt = o.now();
      this.stats.fetches++;
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), o.timeoutSeconds * 1000);
      try {
        let res;
        try {
          res = await o.fetch(this.#url, { signal: ctl.signal, headers: { accept: 'application/json' }, redirect: 'manual' });
        } catch (e) {
          if (ctl.signal.aborted) throw e;
          throw new Failed(`cannot fetch ${this.#url}: ${e?.cause?.message ?? e?.message ?? e}`);
        }
        if (res.status !== 200 || res.redirected) {
          await res.body?.cancel?.().catch(() => {});
          const redirect = (res.status >= 300 && res.status < 400) || res.type === 'opaqueredirect' || res.redirected;
          throw new Failed(`${this.#url} answered ${res.status}${redirect ? ' (redirects are not followed)' : ''}`);
        }
        const declared = Number(res.headers.get('content-length'));
        if (declared > o.maxBytes) {
          await res.body?.cancel?.().catch(() => {});
          throw new Failed(`the JWK Set is ${declared} bytes, more than maxBytes (${o.maxBytes})`);
        }
        const text = await readBounded(res, o.maxBytes);
        let info;
        try {
          info = parseJwks(text);
        } catch (e) {
          throw new Failed(`${this.#url} did not answer a usable JWK Set: ${e?.message ?? e}`);
        }
        if (info.keys === 0) throw new Failed(`the JWK Set at ${this.#url} has no usable key`);
        if (info.keys > o.maxKeys) throw new Failed(`the JWK Set has ${info.keys} keys, more than maxKeys (${o.maxKeys})`);
        if (text !== this.#good) { this.#good = text; this.#version++; }
        this.#fetchedAt = o.now();
        this.stats.lastError = null;
        this.#lastError = null;
      } catch (e) {
        const message = ctl.signal.aborted
          ? `cannot fetch ${this.#url}: no answer within ${o.timeoutSeconds} s`
          : e instanceof Failed ? e.message : `cannot fetch ${this.#url}: ${e?.message ?? e}`;
        const err = fail(message, e instanceof Failed ? undefined : e);
        this.stats.failures++;
        this.stats.lastError = message;
        this.#lastError = err;
        if (o.onError) {
          try { o.onError(err); } catch { /* a logging callback must not break key refresh */ }
        }
      } finally {
        clearTimeout(timer);
      }
    }
  }

  async function readBounded(res, maxBytes) {
    if (!res.body || !res.body.getReader) {
      const t = await res.text();
      if (new TextEncoder().encode(t).length > maxBytes) throw new Failed(`the JWK Set is more than maxBytes (${maxBytes}) bytes`);
      return t;
    }
    const reader = res.body.getReader();
    const parts = [];
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new Failed(`the JWK Set is more than maxBytes (${maxBytes}) bytes`);
      }
      parts.push(value);
    }
    const all = new Uint8Array(n);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.byteLength; }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(all);
    } catch {
      throw new Failed('the JWK Set is not UTF-8 text');
    }
  }

  /**
   * A gate whose keys come from a JwksCache: rebuilt when the set changes;
   * a decision of `key_not_found` triggers one rate-limited refresh and, if
   * the set changed, one more evaluation. While no good set was ever
   * fetched, every token is refused with `keys_unavailable` (503,
   * Retry-After): a decision, not an exception.
   */
  class JwksGate {
    #policy; #cache; #gate = null; #builtFor = -1; #unavailable = null; #unavailableWhy = null;
    constructor(policy, cache) {
      this.#policy = policy;
      this.#cache = cache;
      new Gate(policy, null).free?.(); // the policy is checked now (throws PolicyError)
    }
    async #current() {
      let text;
      try {
        text = await this.#cache.get();
      } catch (e) {
        if (e?.code !== 'jwks_fetch_failed') throw e;
        return this.#withoutKeys(e.message);
      }
      if (this.#gate === null || this.#builtFor !== this.#cache.version) {
        const g = new Gate(this.#policy, text);
        this.#gate?.free?.();
        this.#gate = g;
        this.#builtFor = this.#cache.version;
      }
      return this.#gate;
    }
    /** The no-keys gate, rebuilt only when the reason changes. */
    #withoutKeys(why) {
      if (this.#unavailable === null || this.#unavailableWhy !== why) {
        this.#unavailable?.free?.();
        this.#unavailable = Gate.withoutKeys(this.#policy, why, this.#cache.retryAfterSeconds);
        this.#unavailableWhy = why;
      }
      return this.#unavailable;
    }
    async evaluate(request) {
      const d = await (await this.#current()).evaluate(request);
      if (d.reason === 'key_not_found' && (await this.#cache.refreshForUnknownKid())) {
        return (await this.#current()).evaluate(request);
      }
      return d;
    }
  }

  return { JwksCache, JwksGate };
}
