// Generated from the Rust definitions by core/tests/typescript.rs; do not edit.
// Identical in bindings-node/lib/types.d.ts and bindings-wasm/js/types.d.ts.
// Regenerate: MFAGATE_WRITE_TYPES=1 cargo test -p mfagate --test typescript

/** The built-in policies. */
export type BuiltinPolicy = 'partner-center' | 'partner-center-2019' | 'partner-center-2020' | 'partner-center-2025' | 'partner-center-2026';

/** What the caller must do with the request. */
export type Outcome = 'allow' | 'deny' | 'step_up';

/** Every reason code a decision can carry (docs/reasons.md). */
export type Reason = 'mfa_not_required' | 'mfa_satisfied' | 'app_only_exempt' | 'exception_applied' | 'public_route' | 'no_credential' | 'credential_ambiguous' | 'token_too_large' | 'token_malformed' | 'token_type_unsupported' | 'algorithm_not_allowed' | 'key_not_found' | 'key_unusable' | 'keys_unavailable' | 'key_algorithm_mismatch' | 'key_issuer_mismatch' | 'signature_invalid' | 'verification_unavailable' | 'claim_missing' | 'claim_invalid' | 'token_expired' | 'token_not_yet_valid' | 'token_issued_in_future' | 'audience_invalid' | 'issuer_invalid' | 'issuer_tenant_mismatch' | 'issuer_cloud_mismatch' | 'tenant_not_allowed' | 'token_kind_unrecognized' | 'token_kind_not_accepted' | 'role_not_permitted' | 'partner_tenant_not_configured' | 'roles_unavailable' | 'mfa_required' | 'mfa_amr_absent' | 'mfa_stale' | 'mfa_auth_time_absent' | 'delegated_admin_mfa_required' | 'request_invalid';

/** Token kinds (docs/policy.md, the decision table). */
export type TokenKind = 'app_only' | 'app_user' | 'delegated_admin' | 'id_token' | 'unrecognized';

/** Roles a policy can require. */
export type Role = 'admin_agent' | 'sales_agent' | 'helpdesk_agent' | 'global_admin' | 'billing_admin' | 'security_admin';

/** Every error code (docs/errors.md). */
export type ErrorCode = 'policy_syntax' | 'policy_invalid' | 'policy_unknown_builtin' | 'policy_file_unreadable' | 'policy_route_conflict' | 'exception_reason_invalid' | 'jwks_invalid' | 'jwks_url_invalid' | 'jwks_fetch_failed' | 'request_invalid' | 'crypto_unavailable' | 'vector_invalid';

/** A request, spelled the same in every runtime (snake_case). Unknown keys are refused. */
export interface GateRequest {
  /** Any case; "GET" when left out. */
  method?: string;
  /** The request path as the server received it (a query string is kept for return_to, ignored for routing). */
  path: string;
  /** The Host header, when routes name hosts. */
  host?: string | null;
  /** The Authorization header: "Bearer <jwt>". */
  authorization?: string | null;
  /** A raw session token (for example the ID token a page signed in with). */
  token?: string | null;
  /** Whole Unix seconds; the system clock when left out. Milliseconds are refused. */
  now?: number;
  /** false: the user has no MFA method yet (a redirect asks to register first). */
  mfa_registered?: boolean | null;
  /** Partner Center's ValidateMfa request header said true: an allowed 2026 API call then carries isMfaCompliant. */
  validate_mfa?: boolean | null;
}

/** The MFA part of a decision. */
export interface MfaReport {
  /** Whether this route required MFA of this token. */
  required: boolean;
  /** Whether the token proves MFA (fresh enough, where asked). */
  satisfied: boolean;
  /** What proved it. */
  evidence: 'amr' | 'federated' | 'acrs' | 'exception' | null;
  /** The token's amr values; null when the claim is absent. */
  amr: string[] | null;
  /** The token's auth_time, Unix seconds. */
  auth_time: number | null;
  /** The freshness limit that applied, in seconds. */
  max_age: number | null;
}

/** A technical exception Microsoft granted. */
export interface TechnicalException {
  /** The tenant the exception is for. */
  tenant: string;
  /** The one user it covers, or null for the tenant. */
  user: string | null;
  /** The reason Microsoft granted it for. */
  reason: string;
  /** When it ends, Unix seconds. */
  expires: number;
  /** The support case or approval reference. */
  reference: string | null;
}

/** A message in each language. */
export interface Message {
  en: string;
  fr: string;
  'pt-BR': string;
}

/** The HTTP answer for the caller to send. */
export interface HttpAnswer {
  /** The status code. */
  status: number;
  /** The reason phrase (Partner Center's MFA refusal: "Unauthorized - MFA required"). */
  status_text: string;
  /** The answer's own headers, in order; on an allow, to add to the application's answer (isMfaCompliant). */
  headers: Array<[string, string]>;
  /** A JSON body; empty for an allow and a redirect. */
  body: string;
  /** Every header to send with a refusal: headers, then Content-Type for a body and Cache-Control: no-store. Copy them; add none. */
  response_headers: Array<[string, string]>;
}

/** For pages: where to send the user for MFA. */
export interface Redirect {
  /** The sign-in URL with params appended. */
  location: string;
  /** The parameters that force MFA at the identity provider. */
  params: Array<[string, string]>;
  /** The user has no MFA method yet: they register one first. */
  register_first: boolean;
}

/** Who the token is about (from verified claims). */
export interface Subject {
  /** tid: the tenant the token was issued in. */
  tenant: string | null;
  /** oid (for GDAP, the partner user named in aai). */
  object_id: string | null;
  /** upn, unique_name or preferred_username. */
  user: string | null;
  /** appid or azp. */
  app_id: string | null;
  /** For a delegated admin: the partner tenant. */
  home_tenant: string | null;
}

/** A decision: a plain object of exactly the core's JSON form. */
export interface Decision {
  /** What to do: allow, deny, or step_up (ask for MFA). */
  outcome: Outcome;
  /** The stable reason code (docs/reasons.md). */
  reason: Reason;
  /** The token's kind, once known. */
  token_kind: TokenKind | null;
  /** What decided the kind, for people. */
  kind_evidence: string | null;
  /** The route id that decided, or "default". */
  rule: string | null;
  /** The caller's roles (only from the partner tenant's own tokens). */
  roles: Role[];
  /** What MFA was asked and proved. */
  mfa: MfaReport;
  /** The technical exception that stood in for MFA, if any. */
  exception: TechnicalException | null;
  /** What to tell the user, in en, fr and pt-BR. */
  message: Message;
  /** The exact HTTP answer. */
  http: HttpAnswer;
  /** For pages: where to send the browser for MFA. */
  redirect: Redirect | null;
  /** A technical detail for logs, never for end users. */
  detail: string | null;
  /** Who the token is about. */
  subject: Subject | null;
}

/** What an error is built from: `new MfagateError(message, options)`. */
export interface MfagateErrorOptions {
  /** The stable code (docs/errors.md). */
  code?: ErrorCode | (string & {});
  /** What to do about it. */
  hint?: string;
  /** 1-based line in a policy file, when known. */
  line?: number | null;
  /** Where the code is documented. */
  docUrl?: string | null;
  /** What led to it (for example a fetch's own error). */
  cause?: unknown;
}

/** Base class of every mfagate error: misuse and bad configuration (decisions are never errors). */
export declare class MfagateError extends Error {
  constructor(message: string, options?: MfagateErrorOptions);
  /** The stable code, for example "policy_invalid". */
  readonly code: ErrorCode | (string & {});
  readonly hint: string;
  readonly line: number | null;
  readonly docUrl: string | null;
  /** The same URL under the contract's snake_case name. */
  readonly doc_url: string | null;
}
/** The policy spec or document is wrong (family policy). */
export declare class PolicyError extends MfagateError {}
/** The JWK Set is wrong, or a JWKS cache could not fetch one (family key). */
export declare class JwksError extends MfagateError {}
/** The binding was called wrongly, or the host lacks what it needs (family usage). */
export declare class UsageError extends MfagateError {}
