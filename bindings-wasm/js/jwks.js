// A JWK Set cache on `fetch`, and a gate that uses it. Host idiom only: the
// keys are checked by the core (parseJwks), and every decision comes from it.

export function bindJwks({ Gate, parseJwks, JwksError }) {
  const fail = (message, hint) =>
    new JwksError(message, { code: 'jwks_fetch_failed', hint, doc_url: null, line: null });

  /**
   * Fetches a JWK Set and keeps it:
   * - fresh for `ttlSeconds`; after that the next `get()` refetches;
   * - `refreshForUnknownKid()` refetches at most once per `minRefreshSeconds`;
   * - a failed fetch, a timeout, a body over `maxBytes`, more than `maxKeys`
   *   keys or a set the core refuses keep the last good keys (and are retried
   *   after `minRefreshSeconds`, not on every request);
   * - `get()` throws JwksError `jwks_fetch_failed` only while no good set was
   *   ever fetched.
   */
  class JwksCache {
    #url; #opts; #good = null; #fetchedAt = -Infinity; #lastAttempt = -Infinity;
    #inflight = null; #version = 0;
    constructor(url, opts = {}) {
      if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError('JwksCache: url must be a string or URL');
      this.#url = String(url);
      this.#opts = {
        ttlSeconds: 3600,
        minRefreshSeconds: 60,
        timeoutMs: 5000,
        maxBytes: 256 * 1024,
        maxKeys: 64,
        fetch: (...a) => globalThis.fetch(...a),
        now: () => Date.now(),
        ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
      };
      /** Counters, for logs and tests. */
      this.stats = { fetches: 0, failures: 0, lastError: null };
    }
    /** Bumped each time a different good set is stored. */
    get version() { return this.#version; }
    /** The last good set as JSON text, or null. */
    get current() { return this.#good; }

    #fresh() { return this.#good !== null && this.#opts.now() - this.#fetchedAt < this.#opts.ttlSeconds * 1000; }
    #mayRetry() { return this.#opts.now() - this.#lastAttempt >= this.#opts.minRefreshSeconds * 1000; }

    /** The JWK Set as JSON text: cached while fresh, refetched when stale. */
    async get() {
      if (this.#fresh()) return this.#good;
      if (this.#good === null || this.#mayRetry()) await this.#refresh();
      if (this.#good === null) {
        throw fail(`no JWK Set could be fetched from ${this.#url}: ${this.stats.lastError}`,
          'check the URL and that the endpoint serves a JWK Set ({"keys": [...]})');
      }
      return this.#good;
    }

    /** Refetches because a token named an unknown kid; at most once per
     * minRefreshSeconds. Resolves to true when a different set was stored. */
    async refreshForUnknownKid() {
      if (!this.#mayRetry()) return false;
      const before = this.#version;
      await this.#refresh();
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
      const timer = setTimeout(() => ctl.abort(), o.timeoutMs);
      try {
        const res = await o.fetch(this.#url, { signal: ctl.signal, headers: { accept: 'application/json' }, redirect: 'follow' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const declared = Number(res.headers.get('content-length'));
        if (declared > o.maxBytes) throw new Error(`the body declares ${declared} bytes, over maxBytes ${o.maxBytes}`);
        const text = await readBounded(res, o.maxBytes);
        const info = parseJwks(text); // throws JwksError for garbage
        if (info.keys === 0) throw new Error('the set has no usable key');
        if (info.keys > o.maxKeys) throw new Error(`the set has ${info.keys} keys, over maxKeys ${o.maxKeys}`);
        if (text !== this.#good) { this.#good = text; this.#version++; }
        this.#fetchedAt = o.now();
        this.stats.lastError = null;
      } catch (e) {
        this.stats.failures++;
        this.stats.lastError = ctl.signal.aborted ? `timed out after ${o.timeoutMs} ms` : String(e?.message ?? e);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  async function readBounded(res, maxBytes) {
    if (!res.body || !res.body.getReader) {
      const t = await res.text();
      if (new TextEncoder().encode(t).length > maxBytes) throw new Error(`the body is over maxBytes ${maxBytes}`);
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
        throw new Error(`the body is over maxBytes ${maxBytes}`);
      }
      parts.push(value);
    }
    const all = new Uint8Array(n);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.byteLength; }
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  }

  /**
   * A gate whose keys come from a JwksCache: rebuilt when the set changes;
   * a decision of `key_not_found` triggers one rate-limited refresh and, if
   * the set changed, one more evaluation.
   */
  class JwksGate {
    #policy; #cache; #gate = null; #builtFor = -1;
    constructor(policy, cache) {
      this.#policy = policy;
      this.#cache = cache;
      new Gate(policy, null).free?.(); // the policy is checked now (throws PolicyError)
    }
    async #current() {
      const text = await this.#cache.get();
      if (this.#gate === null || this.#builtFor !== this.#cache.version) {
        const g = new Gate(this.#policy, text);
        this.#gate?.free?.();
        this.#gate = g;
        this.#builtFor = this.#cache.version;
      }
      return this.#gate;
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
