// Types of mfagate-wasm. Decisions are plain objects of exactly the core's
// JSON form (snake_case); see docs/bindings.md. The decision and request
// types are generated from the Rust definitions (./types.d.ts).
import type { BuiltinPolicy, Decision, GateRequest, JwksError, Message, Role, TechnicalException, TokenKind } from './types';
export * from './types';

/** A policy spec: a built-in name, or a built-in or whole policy with an RFC 7396 merge patch. */
export type PolicySpec =
  | BuiltinPolicy
  | (string & {})
  | { builtin: BuiltinPolicy | (string & {}); overrides?: Record<string, unknown> }
  | { policy: Record<string, unknown>; overrides?: Record<string, unknown> };

export interface Jwk { kty: string; kid?: string; [member: string]: unknown }
export interface JwkSet { keys: Jwk[] }

/** The request (generated `GateRequest`), by its name in this package. */
export type MfagateRequest = GateRequest;
/** A technical exception (generated `TechnicalException`), by its name in this package. */
export type Exception = TechnicalException;

export interface TokenCacheOptions {
  /** At most this many tokens (oldest out first). Default 10,000. */
  maxEntries?: number;
  /** About this many bytes of tokens and claims at most (at least 65,536). Default 16 MiB. */
  maxBytes?: number;
}

/**
 * An opt-in, bounded cache of verified tokens, shared by the gates given it
 * (`new Gate(policy, jwks, { cache })`), its hash keyed by
 * `crypto.getRandomValues`. It keeps only what the signature check proved
 * (the claims); lifetime, route, roles, MFA and the answer are decided on
 * every request. See docs/wasm.md for when not to use it.
 */
export class TokenCache {
  /** Throws UsageError "request_invalid" for bounds that are not whole numbers or too small; "crypto_unavailable" without crypto.getRandomValues. */
  constructor(options?: TokenCacheOptions | null);
  readonly maxEntries: number;
  readonly maxBytes: number;
  stats(): { hits: number; misses: number; entries: number; bytes: number };
  clear(): void;
  free(): void;
}

export interface GateOptions {
  /** Remember verified tokens in this cache (opt-in). */
  cache?: TokenCache | null;
}

/** A policy and a JWK Set, built once. */
export class Gate {
  /** Throws PolicyError or JwksError; UsageError for options other than {cache: TokenCache}. `jwks`: a JWK Set object or its JSON text; null for none. */
  constructor(policy: PolicySpec, jwks?: JwkSet | string | null, options?: GateOptions | null);
  /** Whether the gate remembers verified tokens in a TokenCache. */
  readonly hasCache: boolean;
  /** Decides a request. RS256/PS256/ES256 go through WebCrypto (keys imported once); HS256 in the module. Rejects with UsageError for an unusable request. */
  evaluate(request: MfagateRequest): Promise<Decision>;
  /** Decides on claims already verified (JSON text or an object). Throws UsageError for unusable claims. */
  evaluateClaims(claims: string | Record<string, unknown>, request: MfagateRequest): Decision;
  readonly policyName: string;
  readonly keyCount: number;
  readonly kids: string[];
  readonly skipped: string[];
  /** Frees the module memory now (optional; a FinalizationRegistry does it otherwise). */
  free(): void;
}

/** Checks a JWK Set with the core; throws JwksError. */
export function parseJwks(jwks: JwkSet | string): { keys: number; kids: string[]; skipped: string[] };
export function builtinPolicies(): BuiltinPolicy[];
/** The session cookie `name` of a Cookie header; several come back joined with ", " (refused as credential_ambiguous); null when absent. */
export function sessionCookie(cookieHeader: string | null | undefined, name: string): string | null;
/** Partner Center's `ValidateMfa` request header as the request's `validate_mfa`: `true` (any case) is true, another value false, no header undefined. */
export function validateMfaHeader(value: string | null | undefined): boolean | undefined;

/** One rule of the policy, decided on the token's claims (core `inspect`). */
export interface RuleVerdict { rule: string; description: string; path: string; decision: Decision }
export interface Inspection {
  /** Always false: nothing checked the signature. */
  verified: false;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  version: string | null;
  kind: TokenKind;
  kind_evidence: string;
  roles: Role[];
  groups_overage: boolean;
  mfa: { amr: string[] | null; amr_has_mfa: boolean; federated_mfa: boolean; auth_time: number | null };
  policy: string;
  evaluated_at: number;
  rules: RuleVerdict[];
}
export interface Refusal { reason: string; detail: string; message: Message }
/** Explains a token without verifying it; `refusal` when it cannot be read. `now` defaults to just after its iat. Throws PolicyError. */
export function inspect(token: string, policy: PolicySpec, now?: number | null): { inspection: Inspection; refusal: null } | { inspection: null; refusal: Refusal };
export function version(): string;

export interface JwksCacheOptions {
  /** Seconds a fetched set is fresh. Default 3600. */
  ttlSeconds?: number;
  /** Least seconds between two fetches for an unknown kid, after a failure, and before the first good set. Default 60. */
  minRefreshSeconds?: number;
  /** Seconds one whole fetch may take. Default 5. */
  timeoutSeconds?: number;
  /** Largest body accepted, in bytes. Default 262144. */
  maxBytes?: number;
  /** Most usable keys accepted. Default 64. */
  maxKeys?: number;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Called on each failed fetch with a JwksError of code "jwks_fetch_failed". */
  onError?: (error: JwksError) => void;
  /** Milliseconds clock, for tests. */
  now?: () => number;
  /** @deprecated refused (TypeError): use timeoutSeconds. */
  timeoutMs?: never;
}
export class JwksCache {
  /**
   * `url`: a JWK Set URL, an OpenID configuration URL (`…/.well-known/openid-configuration`) or an authority
   * (`…/{tenant}/v2.0`, or `https://login.microsoftonline.com/{tenant}`): https (plain http only for 127.0.0.1,
   * ::1 and localhost), no credentials, else UsageError "jwks_url_invalid". Bad options: TypeError.
   */
  constructor(url: string | URL, options?: JwksCacheOptions);
  /** The set as JSON text. Throws JwksError "jwks_fetch_failed" only while no good set was ever fetched. */
  get(): Promise<string>;
  /** At most once per minRefreshSeconds (or the fetch in flight); true when a new key set was fetched. */
  refreshForUnknownKid(): Promise<boolean>;
  /** Increases with every good key set. */
  readonly version: number;
  /** The last good set as JSON text. */
  readonly current: string | null;
  /** The key set's URL: `url` itself, or the OpenID configuration's jwks_uri once fetched (null before). */
  readonly jwksUrl: string | null;
  /** The OpenID configuration's issuer, once fetched (tokens must carry it); null for a JWK Set URL. */
  readonly issuer: string | null;
  /** The error of the last fetch, or null after a success. */
  readonly lastError: JwksError | null;
  /** Whole seconds until the next fetch may be tried (at least 1). */
  readonly retryAfterSeconds: number;
  readonly stats: { fetches: number; failures: number; lastError: string | null };
}
export class JwksGate {
  /** Throws PolicyError; TypeError when `cache` is not a JwksCache. Every gate of a cache decides with the cache's own key set. */
  constructor(policy: PolicySpec, cache: JwksCache, options?: GateOptions | null);
  /** Resolves to the decision; before the first good set, keys_unavailable (503) rather than a rejection. */
  evaluate(request: MfagateRequest): Promise<Decision>;
}

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
/** Browsers and workers (web build): loads the module. A no-op in Node and with bundlers. */
export default function init(options?: { module_or_path: InitInput | Promise<InitInput> }): Promise<unknown>;
/** Loads from a compiled module or bytes, synchronously (workers). A no-op in Node and with bundlers. */
export function initSync(options: { module: BufferSource | WebAssembly.Module }): unknown;
