// Error classes of mfagate-wasm. The module throws instances of these (it
// receives them at start-up); every one carries the core's stable `.code`.

/**
 * The base class: misuse and bad configuration (decisions are never errors).
 * `new MfagateError(message, { code, hint, line, docUrl, cause })`: the same
 * signature in the Node package (tests/js/vectors-runner.js checks both).
 */
export class MfagateError extends Error {
  constructor(message, { code = 'mfagate_error', hint = '', line = null, docUrl = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    /** The core's error code, for example "policy_unknown_builtin". */
    this.code = code;
    /** What to do about it. */
    this.hint = hint;
    /** 1-based line in the policy source, when known. */
    this.line = line;
    /** Where the code is documented. */
    this.docUrl = docUrl;
  }

  /** The same URL under the contract's snake_case name. */
  get doc_url() {
    return this.docUrl;
  }
}
/** policy_syntax, policy_invalid, policy_unknown_builtin, policy_file_unreadable, policy_route_conflict, exception_reason_invalid */
export class PolicyError extends MfagateError {}
/** jwks_invalid and jwks_fetch_failed (JwksCache) */
export class JwksError extends MfagateError {}
/** request_invalid, crypto_unavailable, vector_invalid, and jwks_url_invalid (JwksCache) */
export class UsageError extends MfagateError {}
