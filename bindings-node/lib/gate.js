'use strict';
// The Gate: a policy and a JWK Set, built once. Conversion and idiom only.

const native = require('../index.js');
const { fromNative, UsageError } = require('./errors.js');
const { read } = require('./decision.js');

const WRAP = Symbol('mfagate.wrap');
const HINT = 'pass {path, method?, host?, authorization?, token?, now?, mfa_registered?, validate_mfa?} (see docs/bindings.md)';

function usage(message) {
  return new UsageError('request_invalid', message, { hint: HINT });
}

/** Request keys spelt in camelCase by mistake: refused, never ignored. */
const CAMEL = [
  ['mfaRegistered', 'mfa_registered'],
  ['validateMfa', 'validate_mfa'],
];

const optString = (v, key) => {
  if (v === undefined || v === null || typeof v === 'string') return v;
  throw usage(`request.${key} must be a string or null`);
};

/** The request's fields, type-checked, as the native positional arguments. */
function args(r) {
  if (r === null || typeof r !== 'object') throw usage('the request must be an object');
  const { method, path, host, authorization, token, now, mfa_registered, validate_mfa } = r;
  if (typeof path !== 'string') throw usage(path == null ? 'request.path is required' : 'request.path must be a string');
  if (now !== undefined && now !== null && !(Number.isInteger(now) && Math.abs(now) < 1e15)) {
    throw usage('request.now must be an integer (Unix seconds) or omitted');
  }
  if (mfa_registered !== undefined && mfa_registered !== null && typeof mfa_registered !== 'boolean') {
    throw usage('request.mfa_registered must be a boolean or null');
  }
  if (validate_mfa !== undefined && validate_mfa !== null && typeof validate_mfa !== 'boolean') {
    throw usage('request.validate_mfa must be a boolean or null');
  }
  for (const [camel, snake] of CAMEL) {
    if (r[camel] !== undefined) {
      throw usage(`request.${camel} is not a request key: the keys are snake_case, as in every runtime (${snake})`);
    }
  }
  optString(method, 'method');
  optString(host, 'host');
  optString(authorization, 'authorization');
  optString(token, 'token');
  return [method, path, host, authorization, token, now, mfa_registered, validate_mfa];
}

/** Set below: a gate of `gate`'s policy over a NativeRefresher's current key set (shared, not copied). */
let gateOverKeysOf;

class Gate {
  #native;

  static {
    gateOverKeysOf = (gate, refresher, now) => new Gate(gate.#native.withKeysOf(refresher, now), WRAP);
  }

  /**
   * @param policy a built-in name, {builtin, overrides} or {policy, overrides}
   * @param jwks a JWK Set, as JSON text or as an object (parsed once, here)
   */
  constructor(policy, jwks) {
    if (jwks === WRAP) {
      this.#native = policy;
      return;
    }
    try {
      this.#native = new native.NativeGate(policy, jwks);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** Decides a request on the calling thread; returns the decision (a plain object). */
  evaluate(request) {
    const a = args(request);
    let packed;
    try {
      packed = this.#native.evaluatePacked(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    } catch (e) {
      throw fromNative(e);
    }
    return read(packed);
  }

  /** Decides a request on the libuv thread pool. */
  async evaluateAsync(request) {
    const a = args(request);
    let packed;
    try {
      packed = await this.#native.evaluatePackedAsync(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    } catch (e) {
      throw fromNative(e);
    }
    return read(packed);
  }

  /** The decision as the core's own JSON text (for audit logs). */
  evaluateJson(request) {
    const a = args(request);
    try {
      return this.#native.evaluateJson(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** A new gate with the same policy and another JWK Set (key rotation). */
  withKeys(jwks) {
    try {
      return new Gate(this.#native.withKeys(jwks), WRAP);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * The same policy while no key set is available yet: every token gets
   * `keys_unavailable` (503, Retry-After: `retryAfterSeconds`), never "sign
   * in again". Used by JwksGate before its first good fetch.
   */
  withoutKeys(why, retryAfterSeconds) {
    if (typeof why !== 'string' || !Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new TypeError('withoutKeys(why: string, retryAfterSeconds: non-negative integer)');
    }
    return new Gate(this.#native.withoutKeys(why, Math.min(retryAfterSeconds, 0xffffffff)), WRAP);
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

const BUILTIN_POLICIES = Object.freeze(native.builtinPolicies());

module.exports = { Gate, BUILTIN_POLICIES, gateOverKeysOf };
