'use strict';
// TokenCache: the core's verified-token cache (`mfagate::TokenCache`), given
// to `new Gate(policy, jwks, { cache })`. The core checks the bounds.

const native = require('./native.js');
const { fromNative } = require('./errors.js');

const NATIVE = Symbol('mfagate.nativeCache');

class TokenCache {
  #native;

  /**
   * @param options {maxEntries?, maxBytes?}: at most this many tokens (10,000)
   * and about this many bytes (16 MiB); UsageError "request_invalid" otherwise.
   */
  constructor(options = {}) {
    try {
      this.#native = new native.NativeTokenCache(options);
    } catch (e) {
      throw fromNative(e);
    }
  }

  get maxEntries() {
    return this.#native.bounds[0];
  }

  get maxBytes() {
    return this.#native.bounds[1];
  }

  /** {hits, misses, entries, bytes}, for metrics. */
  stats() {
    return this.#native.stats();
  }

  /** Forgets every token. */
  clear() {
    this.#native.clear();
  }

  /** The native cache of a TokenCache, or undefined for anything else. */
  static [NATIVE](cache) {
    return #native in cache ? cache.#native : undefined;
  }
}

/** The native cache behind `cache`; a TypeError for anything but a TokenCache. */
function nativeCache(cache) {
  const n = cache !== null && typeof cache === 'object' ? TokenCache[NATIVE](cache) : undefined;
  if (n === undefined) {
    const e = new TypeError(`the cache option must be a mfagate.TokenCache (got ${cache === null ? 'null' : typeof cache})`);
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  return n;
}

module.exports = { TokenCache, nativeCache };
