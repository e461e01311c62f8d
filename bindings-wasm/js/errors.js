// Error classes of mfagate-wasm. The module throws instances of these (it
// receives them at start-up); every one carries the core's stable `.code`.

/** The base class: misuse and bad configuration (decisions are never errors). */
export class MfagateError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = new.target.name;
    /** The core's error code, for example "policy_unknown_builtin". */
    this.code = details.code ?? 'mfagate_error';
    /** What to do about it. */
    this.hint = details.hint ?? '';
    /** 1-based line in the policy source, when known. */
    this.line = details.line ?? null;
    /** Where the code is documented. */
    this.doc_url = details.doc_url ?? null;
  }
}
/** policy_syntax, policy_invalid, policy_unknown_builtin, policy_route_conflict, exception_reason_invalid */
export class PolicyError extends MfagateError {}
/** jwks_invalid, jwk_unsupported, and jwks_fetch_failed (JwksCache) */
export class JwksError extends MfagateError {}
/** request_invalid, vector_invalid, and jwks_url_invalid (JwksCache) */
export class UsageError extends MfagateError {}
