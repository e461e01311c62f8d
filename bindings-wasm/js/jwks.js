// A JWK Set cache on `fetch`, and a gate that uses it. Host idiom only: when
// to fetch what, what an answer means, the options, limits and URL rules,
// the discovery of an OpenID configuration and which gate decides are the
// core's `KeyFeed` and `Engine` (exposed as `__KeyFeed` and `__Engine`); this
// file performs the GETs the feed asks for and shares them between callers as
// promises. Every decision comes from the core.

export function bindJwks({ KeyFeed, Engine, JwksError }) {
  const optionError = (message, cause) => {
    const e = new TypeError(`JwksCache: ${message}`);
    e.code = 'ERR_INVALID_ARG_VALUE';
    if (cause !== undefined) e.cause = cause;
    return e;
  };

  /** The options JwksCache reads itself; the others are the core's. */
  function ownOptions(opts) {
    if (opts === null || typeof opts !== 'object') throw optionError('options must be an object');
    const { fetch = (...a) => globalThis.fetch(...a), onError = null, now = () => Date.now() } = opts;
    if (typeof fetch !== 'function') throw optionError('fetch must be a function');
    if (onError !== null && typeof onError !== 'function') throw optionError('onError must be a function');
    if (typeof now !== 'function') throw optionError('now must be a function returning milliseconds');
    return { fetch, onError, now };
  }

  /** The whole fetch took longer than the feed allows. */
  class Timeout extends Error {}
  /** The body grew past the feed's limit. */
  class TooLarge extends Error {}

  /** The body, read until `maxBytes` (TooLarge beyond). */
  async function readBounded(res, maxBytes) {
    const declared = Number(res.headers?.get?.('content-length'));
    if (declared > maxBytes) {
      await res.body?.cancel?.().catch(() => {});
      throw new TooLarge();
    }
    if (!res.body || !res.body.getReader) {
      const b = new Uint8Array(await res.arrayBuffer());
      if (b.byteLength > maxBytes) throw new TooLarge();
      return b;
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
        throw new TooLarge();
      }
      parts.push(value);
    }
    const all = new Uint8Array(n);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.byteLength; }
    return all;
  }

  /** Closure-private members of JwksCache, for JwksGate. */
  const FEED = Symbol('feed');
  const NOW = Symbol('now');
  const STEP = Symbol('step');

  /**
   * Fetches a JWK Set and keeps it, by the rules of the core's KeyFeed
   * (docs/bindings.md, "JWKS caches"). `url` is a JWK Set URL, an OpenID
   * configuration URL, or an authority (then the configuration is fetched
   * first, and tokens must carry its issuer). Failed fetches keep the last
   * good keys and go to `onError`; one fetch is in flight at a time.
   */
  class JwksCache {
    #f; #o; #url; #text = null; #inflight = null;
    constructor(url, opts = {}) {
      if (typeof url !== 'string' && !(url instanceof URL)) throw optionError('url must be a string or URL');
      const o = ownOptions(opts);
      try {
        this.#f = new KeyFeed(String(url), opts);
      } catch (e) {
        // A bad option is a TypeError, in the core's words; a URL is not an option.
        if (e?.code === 'request_invalid') throw optionError(e.message, e);
        throw e; // UsageError jwks_url_invalid
      }
      this.#o = o;
      this.#url = String(url);
    }
    /** Increases with every good key set. */
    get version() { return this.#f.version; }
    /** The last good set as JSON text, or null. */
    get current() { return this.#text; }
    /** The JwksError of the last fetch, or null if it succeeded. */
    get lastError() { return this.#f.lastError; }
    /** Whole seconds until the next fetch may be tried (at least 1). */
    get retryAfterSeconds() { return this.#f.retryAfter(this.#o.now()); }
    /** Counters, for logs and tests. */
    get stats() {
      const f = this.#f;
      return { fetches: f.fetches, failures: f.failures, lastError: f.lastError?.message ?? null };
    }
    /** The key set's URL: the source, or the OpenID configuration's jwks_uri once fetched (else null). */
    get jwksUrl() { return this.#f.jwksUrl ?? null; }
    /** The OpenID configuration's issuer, once fetched (null for a JWK Set URL). */
    get issuer() { return this.#f.issuer ?? null; }

    /** The JWK Set as JSON text. Throws JwksError jwks_fetch_failed only while no good set was ever fetched. */
    async get() {
      await this[STEP](this.#f.poll(this.#o.now()));
      if (this.#f.hasKeys) return this.#text;
      throw this.#f.lastError ?? new JwksError(`no JWK Set was fetched from ${this.#url} yet`, { code: 'jwks_fetch_failed' });
    }

    /** A token named an unknown kid: fetches once more (at most once per
     * minRefreshSeconds, or waits for the fetch in flight). Resolves to
     * true when a new key set was fetched. */
    async refreshForUnknownKid() {
      const before = this.#f.version;
      await this[STEP](this.#f.refresh(this.#o.now()));
      return this.#f.version !== before;
    }

    get [FEED]() { return this.#f; }
    [NOW]() { return this.#o.now(); }

    /** Does what the feed said: performs a fetch and settles when it is
     * done (the caller that starts one waits for it: a worker keeps no I/O
     * beyond its request), or waits for the one in flight. */
    [STEP](step) {
      if (step === 'wait') return this.#inflight ?? undefined;
      if (step !== null && typeof step === 'object') return this.#start(step);
      return undefined;
    }

    /** One attempt: the fetch asked for, and the next one of the same attempt (a configuration's key set). */
    #start(first) {
      const p = (async () => {
        for (let f = first; f;) f = await this.#fetch(f);
      })().finally(() => { if (this.#inflight === p) this.#inflight = null; });
      this.#inflight = p;
      return p;
    }

    /** Performs one GET and reports it to the feed: the next fetch of the attempt, or null. */
    async #fetch(f) {
      const o = this.#o, feed = this.#f;
      const ctl = new AbortController();
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => { ctl.abort(); reject(new Timeout()); }, f.timeoutMs);
      });
      timeout.catch(() => {});
      let status = 0, body = null, why = null;
      try {
        const res = await Promise.race([o.fetch(f.url, { signal: ctl.signal, headers: { accept: 'application/json' }, redirect: 'manual' }), timeout]);
        if (res.type === 'opaqueredirect' || res.redirected) {
          // A browser's manual redirect (no status to report), or a fetch that followed one anyway.
          res.body?.cancel?.().catch(() => {});
          why = res.redirected ? `the answer came from a redirect to ${res.url} (redirects are not followed)` : 'the answer is a redirect (redirects are not followed)';
        } else {
          status = res.status;
          body = await Promise.race([readBounded(res, f.maxBytes), timeout]);
        }
      } catch (e) {
        if (e instanceof TooLarge) why = `the document is larger than ${f.maxBytes} bytes`;
        else if (e instanceof Timeout || ctl.signal.aborted) why = `no answer within ${f.timeoutMs / 1000} s`;
        else why = `cannot fetch: ${e?.cause?.message ?? e?.message ?? e}`;
      } finally {
        clearTimeout(timer);
      }
      let err = null, next = null;
      if (why !== null) {
        err = feed.failed(f.id, o.now(), why);
      } else {
        try {
          const before = feed.version;
          next = feed.fetched(f.id, o.now(), status, body);
          if (feed.version !== before) this.#text = new TextDecoder().decode(body);
        } catch (e) {
          err = e;
        }
      }
      if (err && o.onError) {
        try { o.onError(err); } catch { /* a logging callback must not break key refresh */ }
      }
      return next;
    }
  }

  /**
   * A gate whose keys come from a JwksCache: the core's Engine over the
   * cache's feed, one Gate per key set (the feed's own set, never parsed
   * again; the TokenCache kept). A decision of `key_not_found` asks the feed
   * for fresher keys (rate-limited) and, if the core says so, decides once
   * more. While no good set was ever fetched, every token is refused with
   * `keys_unavailable` (503, Retry-After): a decision, not an exception.
   */
  class JwksGate {
    #cache; #engine; #built = null;
    constructor(policy, cache, options) {
      if (!(cache instanceof JwksCache)) throw new TypeError('JwksGate: cache must be a JwksCache');
      this.#cache = cache;
      // The policy (PolicyError) and the options ({cache}: a TokenCache) are checked now.
      this.#engine = new Engine(policy, cache[FEED], options);
    }
    /** The gate to decide with now, and the feed version of its keys. */
    #take() {
      const e = this.#engine;
      const fresh = e.gate(this.#cache[NOW]());
      if (fresh === undefined) return this.#built;
      const b = { gate: fresh, version: e.version };
      if (b.version !== 0) {
        this.#built?.gate.free();
        this.#built = b;
      }
      return b;
    }
    /** Synchronous from taking the gate to evaluate(): no other decision
     * frees it in between, and a gate freed later keeps what its pending
     * decisions hold. */
    #decide(request) {
      const b = this.#take();
      const decision = b.gate.evaluate(request);
      // Before the first good set, a gate refusing every token is made for one decision.
      if (b !== this.#built) b.gate.free();
      return { decision, version: b.version };
    }
    async evaluate(request) {
      const cache = this.#cache;
      const feed = cache[FEED];
      await cache[STEP](feed.poll(cache[NOW]()));
      const first = this.#decide(request);
      const d = await first.decision;
      // Only a kid the keys lack calls for fresher keys; the feed says whether any may come.
      if (d.reason !== 'key_not_found') return d;
      const step = feed.unknownKid(first.version, cache[NOW]());
      if (step === null) return d;
      await cache[STEP](step);
      return this.#decide(request).decision;
    }
  }

  return { JwksCache, JwksGate };
}
