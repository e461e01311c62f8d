// A JWK Set cache on `fetch`, and a gate that uses it. Host idiom only: when
// to fetch what, what an answer means, the limits, the URL rules and the
// discovery of an OpenID configuration are the core's `Refresher` (exposed as
// `__Refresher`); this file performs the GETs it asks for and shares them
// between callers as promises. Every decision comes from the core.

export function bindJwks({ Gate, Refresher, JwksError }) {
  /** Option names of the millisecond era, refused with their replacement. */
  const RENAMED = { timeoutMs: 'timeoutSeconds', ttl: 'ttlSeconds', cooldown: 'minRefreshSeconds', timeout: 'timeoutSeconds' };
  const DEFAULTS = { ttlSeconds: 3600, minRefreshSeconds: 60, timeoutSeconds: 5, maxBytes: 262144, maxKeys: 64 };
  const KNOWN = new Set([...Object.keys(DEFAULTS), 'fetch', 'onError', 'now']);

  const optionError = (message, cause) => {
    const e = new TypeError(`JwksCache: ${message}`);
    e.code = 'ERR_INVALID_ARG_VALUE';
    if (cause !== undefined) e.cause = cause;
    return e;
  };

  /** The option names and types (JavaScript's part); their ranges are the core's. */
  function readOptions(opts) {
    if (opts === null || typeof opts !== 'object') throw optionError('options must be an object');
    for (const k of Object.keys(opts)) {
      if (RENAMED[k]) throw optionError(`the option \`${k}\` is now \`${RENAMED[k]}\` (seconds): pass { ${RENAMED[k]}: ... }`);
      if (!KNOWN.has(k)) throw optionError(`unknown option \`${k}\` (known: ${[...KNOWN].join(', ')})`);
    }
    const o = { ...DEFAULTS, fetch: (...a) => globalThis.fetch(...a), onError: null, now: () => Date.now() };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) o[k] = v;
    for (const k of Object.keys(DEFAULTS)) {
      if (typeof o[k] !== 'number') throw optionError(`${k} must be a number (got ${typeof o[k]} ${String(o[k])})`);
    }
    if (typeof o.fetch !== 'function') throw optionError('fetch must be a function');
    if (o.onError !== null && typeof o.onError !== 'function') throw optionError('onError must be a function');
    if (typeof o.now !== 'function') throw optionError('now must be a function returning milliseconds');
    return o;
  }

  /** The whole fetch took longer than the refresher allows. */
  class Timeout extends Error {}
  /** The body grew past the refresher's limit. */
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
  const READY = Symbol('ready');
  const GATE = Symbol('gate');
  const UNKNOWN_KID = Symbol('unknownKid');

  /**
   * Fetches a JWK Set and keeps it, by the rules of the core's Refresher
   * (docs/bindings.md, "JWKS caches"). `url` is a JWK Set URL, an OpenID
   * configuration URL, or an authority (then the configuration is fetched
   * first, and tokens must carry its issuer). Failed fetches keep the last
   * good keys and go to `onError`; one fetch is in flight at a time: callers
   * without keys wait for it, callers with keys go on with them.
   */
  class JwksCache {
    #r; #o; #url; #text = null; #inflight = null;
    constructor(url, opts = {}) {
      if (typeof url !== 'string' && !(url instanceof URL)) throw optionError('url must be a string or URL');
      const o = readOptions(opts);
      try {
        this.#r = new Refresher(String(url), o.ttlSeconds, o.minRefreshSeconds, o.timeoutSeconds, o.maxBytes, o.maxKeys);
      } catch (e) {
        // Options out of range are a TypeError, as every bad option.
        if (e?.code === 'request_invalid') throw optionError(`${e.message} (${e.hint})`, e);
        throw e; // UsageError jwks_url_invalid
      }
      this.#o = o;
      this.#url = String(url);
    }
    /** Increases with every good key set. */
    get version() { return this.#r.version; }
    /** The last good set as JSON text, or null. */
    get current() { return this.#text; }
    /** The JwksError of the last fetch, or null if it succeeded. */
    get lastError() { return this.#r.lastError; }
    /** Whole seconds until the next fetch may be tried (at least 1). */
    get retryAfterSeconds() { return this.#r.retryAfter(this.#o.now()); }
    /** Counters, for logs and tests. */
    get stats() {
      const r = this.#r;
      return { fetches: r.fetches, failures: r.failures, lastError: r.lastError?.message ?? null };
    }
    /** The key set's URL: the source, or the OpenID configuration's jwks_uri once fetched (else null). */
    get jwksUrl() { return this.#r.jwksUrl ?? null; }
    /** The OpenID configuration's issuer, once fetched (null for a JWK Set URL). */
    get issuer() { return this.#r.issuer ?? null; }

    /** The JWK Set as JSON text. Throws JwksError jwks_fetch_failed only while no good set was ever fetched. */
    async get() {
      await this.#due(false);
      if (!this.#r.hasKeys) throw this.#unavailable();
      return this.#text;
    }

    /** A token named an unknown kid: fetches once more (at most once per
     * minRefreshSeconds, or waits for the fetch in flight). Resolves to
     * true when a new key set was fetched. */
    async refreshForUnknownKid() {
      return this[UNKNOWN_KID]();
    }

    async [UNKNOWN_KID]() {
      const before = this.#r.version;
      if (!this.#r.unknownKid(this.#o.now())) return false;
      await this.#due(true);
      return this.#r.version !== before;
    }

    /** Settles when the fetch that is due is done (or at once). */
    [READY]() {
      return this.#due(false);
    }

    /** A gate of `template`'s policy over the current keys: `built` again
     * while they are the same; version -1 while there are none yet (a gate
     * refusing every token with keys_unavailable, for one decision). */
    [GATE](template, built) {
      const r = this.#r;
      if (built && r.hasKeys && built.version === r.version) return built;
      return { gate: r.gate(template, this.#o.now()), version: r.hasKeys ? r.version : -1 };
    }

    #unavailable() {
      const last = this.#r.lastError;
      return new JwksError(`no JWK Set could be fetched from ${this.#url} yet${last ? `: ${last.message}` : ''}`, {
        code: 'jwks_fetch_failed', hint: last?.hint, docUrl: last?.docUrl, line: null, cause: last ?? undefined,
      });
    }

    /** Starts the fetch the refresher asks for and waits for it; waits for
     * the one in flight when `wait` or while there are no keys. */
    #due(wait) {
      const step = this.#r.next(this.#o.now());
      if (step !== null && typeof step === 'object') return this.#start(step);
      if (step === 'in_flight' && (wait || !this.#r.hasKeys)) return this.#inflight;
      return undefined;
    }

    /** One attempt: the fetch asked for, and the next one of the same attempt (a configuration's key set). */
    #start(first) {
      const p = (async () => {
        for (let f = first; f;) {
          const more = await this.#fetch(f);
          const n = more ? this.#r.next(this.#o.now()) : null;
          f = n !== null && typeof n === 'object' ? n : null;
        }
      })().finally(() => { if (this.#inflight === p) this.#inflight = null; });
      this.#inflight = p;
      return p;
    }

    /** Performs one GET and reports it to the refresher; true when there is more to fetch. */
    async #fetch(f) {
      const o = this.#o, r = this.#r;
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
      let err = null;
      if (why !== null) {
        err = r.failed(f.id, o.now(), why);
      } else {
        try {
          if (!r.fetched(f.id, o.now(), status, body)) return true;
          if (f.document === 'key_set') this.#text = new TextDecoder().decode(body);
        } catch (e) {
          err = e;
        }
      }
      if (err && o.onError) {
        try { o.onError(err); } catch { /* a logging callback must not break key refresh */ }
      }
      return false;
    }
  }

  /**
   * A gate whose keys come from a JwksCache: the refresher's key set itself
   * (shared, never parsed again), a new gate per key set. A decision of
   * `key_not_found` asks the cache for one rate-limited refresh and, if new
   * keys came, decides once more. While no good set was ever fetched, every
   * token is refused with `keys_unavailable` (503, Retry-After): a
   * decision, not an exception.
   */
  class JwksGate {
    #cache; #template; #built = null;
    constructor(policy, cache, options) {
      if (!(cache instanceof JwksCache)) throw new TypeError('JwksGate: cache must be a JwksCache');
      this.#cache = cache;
      // The policy (PolicyError) and the options ({cache}: a TokenCache) are checked now.
      this.#template = new Gate(policy, null, options);
    }
    async #decide(request) {
      await this.#cache[READY]();
      // Synchronous from here to evaluate(): no other decision replaces the
      // gate in between, and a gate freed later keeps what its pending
      // decisions hold.
      const b = this.#cache[GATE](this.#template, this.#built);
      if (b.version < 0) {
        const d = b.gate.evaluate(request);
        b.gate.free?.();
        return d;
      }
      if (b !== this.#built) {
        this.#built?.gate.free?.();
        this.#built = b;
      }
      return b.gate.evaluate(request);
    }
    async evaluate(request) {
      const d = await this.#decide(request);
      if (d.reason === 'key_not_found' && (await this.#cache[UNKNOWN_KID]())) return this.#decide(request);
      return d;
    }
  }

  return { JwksCache, JwksGate };
}
