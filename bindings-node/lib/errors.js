'use strict';
// Error classes of the Node binding. Codes, messages, hints and doc URLs all
// come from the core (crate `mfagate`); this module only picks the class.

const native = require('./native.js');

const ERRORS_DOC = native.errorsDoc();
const FAMILY = new Map(native.errorFamilies());

/**
 * Base class of every mfagate error: `.code`, `.hint`, `.line`, `.docUrl`.
 * `new MfagateError(message, { code, hint, line, docUrl, cause })`: the
 * same signature in the WebAssembly package (tests/js/vectors-runner.js
 * checks both).
 */
class MfagateError extends Error {
  constructor(message, { code = 'mfagate_error', hint = '', line = null, docUrl = `${ERRORS_DOC}#${code}`, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
    this.line = line;
    this.docUrl = docUrl;
  }

  /** The same URL under the contract's snake_case name. */
  get doc_url() {
    return this.docUrl;
  }
}

/** The policy spec or document is wrong (family `policy`). */
class PolicyError extends MfagateError {}
/** The JWK Set is wrong, or a JWKS cache could not fetch one (family `key`). */
class JwksError extends MfagateError {}
/** The binding was called wrongly, e.g. a request without a path (family `usage`). */
class UsageError extends MfagateError {}

const BY_FAMILY = { policy: PolicyError, key: JwksError, usage: UsageError };

/**
 * Turns an error of the native addon (thrown, or handed over as a plain
 * object) into its class; anything else is returned as is. `cause`: what
 * led to it (for example the fetch's own error).
 */
function fromNative(e, cause) {
  if (e instanceof MfagateError || !e || typeof e !== 'object' || e.mfagateNative !== true) return e;
  const Cls = BY_FAMILY[e.family] ?? BY_FAMILY[FAMILY.get(e.code)] ?? MfagateError;
  const out = new Cls(e.message, { code: e.code, hint: e.hint, line: e.line ?? null, docUrl: e.docUrl, cause });
  if (typeof e.stack === 'string') out.stack = `${out.name}: ${e.message}\n${e.stack.split('\n').slice(1).join('\n')}`;
  return out;
}

module.exports = { MfagateError, PolicyError, JwksError, UsageError, fromNative, ERRORS_DOC };
