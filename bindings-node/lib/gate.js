'use strict';
// The Gate: a policy and a JWK Set, built once. Conversion and idiom only.

const native = require('./native.js');
// The request goes to the core as it is: its one constructor checks every
// key, type and `now` (RequestSpec::from_fields), the same in every runtime.
const { fromNative } = require('./errors.js');
const { read } = require('./decision.js');
const { nativeCache } = require('./cache.js');

const WRAP = Symbol('mfagate.wrap');

/**
 * Decides `request` natively; returns the packed decision (or its promise).
 * A request whose every key is a request key, with a value of the type the
 * core reads there (or null/undefined), crosses as those values, one argument
 * each: reading an object key by key through N-API cost more than the
 * decision itself (docs/benchmarks.md). Anything else crosses as the object,
 * so the core's constructor refuses it with its own message; both paths end
 * in that constructor (RequestSpec::from_fields), which does every check.
 */
function cross(n, handle, request, async) {
  if (typeof request === 'object' && request !== null) {
    let method, path, host, authorization, token, now, mfaRegistered, validateMfa;
    let lean = true;
    for (const key in request) {
      // Inherited keys are not the request's (see `own`).
      if (!Object.prototype.hasOwnProperty.call(request, key)) {
        lean = false;
        break;
      }
      const v = request[key];
      switch (key) {
        case 'method':
          method = v;
          lean = v == null || typeof v === 'string';
          break;
        case 'path':
          path = v;
          lean = v == null || typeof v === 'string';
          break;
        case 'host':
          host = v;
          lean = v == null || typeof v === 'string';
          break;
        case 'authorization':
          authorization = v;
          lean = v == null || typeof v === 'string';
          break;
        case 'token':
          token = v;
          lean = v == null || typeof v === 'string';
          break;
        case 'now':
          now = v;
          lean = v == null || typeof v === 'number';
          break;
        case 'mfa_registered':
          mfaRegistered = v;
          lean = v == null || typeof v === 'boolean';
          break;
        case 'validate_mfa':
          validateMfa = v;
          lean = v == null || typeof v === 'boolean';
          break;
        default:
          lean = false;
      }
      if (!lean) break;
    }
    if (lean) {
      return async
        ? native.evaluateFieldsAsync(handle, method, path, host, authorization, token, now, mfaRegistered, validateMfa)
        : native.evaluateFields(handle, method, path, host, authorization, token, now, mfaRegistered, validateMfa);
    }
  }
  return async ? n.evaluatePackedAsync(own(request)) : n.evaluatePacked(own(request));
}

/**
 * The request's own enumerable keys, as every runtime reads a request (JSON,
 * Python's mapping, WebAssembly's Object.keys): N-API's key listing would
 * also take inherited ones, so a key on a prototype would decide here and
 * nowhere else. Anything but a plain object goes as it is, for the core to
 * name.
 */
function own(request) {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  for (const key in request) {
    if (!Object.prototype.hasOwnProperty.call(request, key)) return Object.fromEntries(Object.entries(request));
  }
  return request;
}

class Gate {
  #native;
  /** The native gate as the external value the per-request path takes. */
  #handle;
  #cache;

  /**
   * @param policy a built-in name, {builtin, overrides} or {policy, overrides}
   * @param jwks a JWK Set, as JSON text or as an object (parsed once, here)
   * @param options {cache}: a TokenCache remembering verified tokens (opt-in)
   */
  constructor(policy, jwks, options) {
    if (jwks === WRAP) {
      this.#native = policy;
      this.#handle = policy.handle();
      this.#cache = options ?? null;
      return;
    }
    const { cache = null, ...rest } = options ?? {};
    const unknown = Object.keys(rest);
    if (unknown.length > 0) {
      const e = new TypeError(`Gate: unknown option \`${unknown[0]}\` (known: cache)`);
      e.code = 'ERR_INVALID_ARG_VALUE';
      throw e;
    }
    const nc = cache === null ? null : nativeCache(cache);
    try {
      const g = new native.NativeGate(policy, jwks);
      this.#native = nc === null ? g : g.withCache(nc);
      this.#handle = this.#native.handle();
    } catch (e) {
      throw fromNative(e);
    }
    this.#cache = cache;
  }

  /** The TokenCache given as the `cache` option, or null. */
  get cache() {
    return this.#cache;
  }

  /** Decides a request on the calling thread; returns the decision (a plain object). */
  evaluate(request) {
    let packed;
    try {
      packed = cross(this.#native, this.#handle, request, false);
    } catch (e) {
      throw fromNative(e);
    }
    return read(packed);
  }

  /** Decides a request on the libuv thread pool. */
  async evaluateAsync(request) {
    let packed;
    try {
      packed = await cross(this.#native, this.#handle, request, true);
    } catch (e) {
      throw fromNative(e);
    }
    return read(packed);
  }

  /** The decision as the core's own JSON text (for audit logs). */
  evaluateJson(request) {
    try {
      return this.#native.evaluateJson(own(request));
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** A new gate with the same policy and another JWK Set (key rotation). */
  withKeys(jwks) {
    try {
      return new Gate(this.#native.withKeys(jwks), WRAP, this.#cache);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * The same policy while no key set is available yet: every token gets
   * `keys_unavailable` (503, Retry-After: `retryAfterSeconds`), never "sign
   * in again".
   */
  withoutKeys(why, retryAfterSeconds) {
    if (typeof why !== 'string' || !Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new TypeError('withoutKeys(why: string, retryAfterSeconds: non-negative integer)');
    }
    return new Gate(this.#native.withoutKeys(why, Math.min(retryAfterSeconds, 0xffffffff)), WRAP, this.#cache);
  }

  get policyName() {
    return this.#native.policyName;
  }

  get keyIds() {
    return this.#native.keyIds;
  }

  get skippedKeys() {
    return this.#native.skippedKeys;
  }
}

/** The Gate of a NativeGate the core built (a JwksGate's current one), with its TokenCache. */
const wrapGate = (nativeGate, cache) => new Gate(nativeGate, WRAP, cache);

const BUILTIN_POLICIES = Object.freeze(native.builtinPolicies());

module.exports = { Gate, BUILTIN_POLICIES, wrapGate };
