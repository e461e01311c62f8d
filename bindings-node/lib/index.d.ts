// Types of the public API of the `mfagate` npm package (hand-written; the
// generated ../index.d.ts types only the native addon).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BuiltinPolicy, Decision, GateRequest, JwksError } from './types';

// The decision and request types are generated from the Rust definitions.
export * from './types';

declare global {
  namespace Express {
    interface Request {
      /** The gate's decision, set by `mfagate.express()` on an allowed request. */
      mfagate?: Decision;
    }
  }
}

/** A policy spec: a built-in name, `{builtin, overrides}` or `{policy, overrides}` (RFC 7396 merge patch). */
export type PolicySpec =
  | BuiltinPolicy
  | string
  | { builtin: BuiltinPolicy | string; overrides?: Record<string, unknown> }
  | { policy: Record<string, unknown>; overrides?: Record<string, unknown> };

/** A JWK Set, as JSON text or as an object. */
export type Jwks = string | { keys: Array<Record<string, unknown>> };

export declare const BUILTIN_POLICIES: readonly string[];

export interface TokenCacheOptions {
  /** At most this many tokens (oldest out first). Default 10,000. */
  maxEntries?: number;
  /** About this many bytes of tokens and claims at most (at least 65,536). Default 16 MiB. */
  maxBytes?: number;
}

export interface TokenCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/**
 * An opt-in, bounded cache of verified tokens, shared by the gates given it
 * (`new Gate(policy, jwks, { cache })`). It keeps only what the signature
 * check proved (the claims); lifetime, route, roles, MFA and the answer are
 * decided on every request. See docs/node.md for when not to use it.
 */
export declare class TokenCache {
  /** @throws UsageError (code "request_invalid") for bounds that are not whole numbers or too small */
  constructor(options?: TokenCacheOptions);
  readonly maxEntries: number;
  readonly maxBytes: number;
  stats(): TokenCacheStats;
  clear(): void;
}

export interface GateOptions {
  /** Remember verified tokens in this cache (opt-in). */
  cache?: TokenCache | null;
}

export declare class Gate {
  /** @throws PolicyError | JwksError | TypeError (options) */
  constructor(policy: PolicySpec, jwks: Jwks, options?: GateOptions);
  /** The TokenCache given as the `cache` option, or null. */
  readonly cache: TokenCache | null;
  /** @throws UsageError (code "request_invalid") */
  evaluate(request: GateRequest): Decision;
  evaluateAsync(request: GateRequest): Promise<Decision>;
  /** The decision as the core's own JSON text (Decision::to_json), for audit logs. */
  evaluateJson(request: GateRequest): string;
  withKeys(jwks: Jwks): Gate;
  /** The same policy while no key set is available yet: every token gets keys_unavailable (503, Retry-After). */
  withoutKeys(why: string, retryAfterSeconds: number): Gate;
  readonly policyName: string;
  readonly keyIds: Array<string | null | undefined>;
  readonly skippedKeys: string[];
}

export interface JwksGateOptions {
  /**
   * The JWKS source: a JWK Set URL, an OpenID configuration URL
   * (`…/.well-known/openid-configuration`) or an authority (`…/{tenant}/v2.0`,
   * or `/{tenant}` on an Entra sign-in host). https (plain http only for
   * 127.0.0.1, ::1 and localhost); otherwise UsageError "jwks_url_invalid".
   */
  jwksUri: string | URL;
  /** Seconds the keys are kept fresh; then refetched in the background. Default 3600. */
  ttlSeconds?: number;
  /** Least seconds between two fetches for an unknown kid, after a failure, before the first good set, and by refresh(). Default 60. */
  minRefreshSeconds?: number;
  /** Seconds one whole fetch may take. Default 5. */
  timeoutSeconds?: number;
  /** Largest document (JWK Set or OpenID configuration) accepted, in bytes. Default 262144. */
  maxBytes?: number;
  /** Most usable keys accepted. Default 64. */
  maxKeys?: number;
  fetch?: typeof globalThis.fetch;
  /** Called on each failed fetch with a JwksError of code "jwks_fetch_failed". */
  onError?: (error: JwksError) => void;
  /** A monotonic clock in ms (tests); default performance.now. */
  now?: () => number;
  /** Remember verified tokens in this cache (opt-in); entries of a replaced key set are never used. */
  cache?: TokenCache | null;
  /** @deprecated refused (TypeError): use ttlSeconds. */
  ttl?: never;
  /** @deprecated refused (TypeError): use minRefreshSeconds. */
  cooldown?: never;
  /** @deprecated refused (TypeError): use timeoutSeconds. */
  timeout?: never;
}

export declare class JwksGate {
  /** @throws PolicyError | UsageError ("jwks_url_invalid") | TypeError (options) */
  constructor(policy: PolicySpec, options: JwksGateOptions);
  readonly gate: Gate;
  readonly lastError: JwksError | null;
  /** Fetches started; an OpenID configuration and its key set count as one. */
  readonly fetchCount: number;
  readonly hasKeys: boolean;
  /** The JWK Set's URL: jwksUri itself, or the configuration's jwks_uri (null until fetched). */
  readonly jwksUrl: string | null;
  /** The OpenID configuration's issuer, which tokens must then carry (null for a JWK Set URL, or until fetched). */
  readonly issuer: string | null;
  /**
   * Fetches now, unless a fetch is in flight (shared) or the last one started
   * less than minRefreshSeconds ago (then the current gate, or a rejection
   * with lastError while there are no keys).
   * @throws JwksError (code "jwks_fetch_failed"); the last good keys stay.
   */
  refresh(): Promise<Gate>;
  ready(): Promise<this>;
  evaluate(request: GateRequest): Promise<Decision>;
  evaluateAsync(request: GateRequest): Promise<Decision>;
}

export interface Evaluator {
  evaluate(request: GateRequest): Decision | Promise<Decision>;
  evaluateAsync?(request: GateRequest): Promise<Decision>;
}

export interface MiddlewareOptions<Req> {
  gate: Evaluator;
  /** Use evaluateAsync (libuv thread pool) instead of evaluate. */
  async?: boolean;
  /** The session token of a page request (e.g. from a cookie), if any. */
  token?: (req: Req) => string | null | undefined;
  mfaRegistered?: (req: Req) => boolean | null | undefined;
  /** Unix seconds; the system clock by default. */
  now?: () => number;
  /** Called with every decision (audit log). */
  onDecision?: (decision: Decision, req: Req) => void;
}

export type ConnectMiddleware = (req: IncomingMessage & { mfagate?: Decision; originalUrl?: string }, res: ServerResponse, next: (err?: unknown) => void) => void;
export declare function express(options: MiddlewareOptions<IncomingMessage>): ConnectMiddleware;

export interface FastifyLike {
  decorateRequest(name: string, value: unknown): unknown;
  addHook(name: 'onRequest', hook: (request: any, reply: any) => Promise<unknown>): unknown;
}
export declare function fastify(app: FastifyLike, options: MiddlewareOptions<any>, done: (err?: Error) => void): void;

export declare function handler(options: MiddlewareOptions<Request> & { gate: Gate; async?: false }): (request: Request) => Response | null;
export declare function handler(options: MiddlewareOptions<Request>): (request: Request) => Response | null | Promise<Response | null>;
export declare function decisionOf(request: Request): Decision | null;
/**
 * The app's response to an allowed request with the decision's headers
 * (isMfaCompliant) set on it: the same Response, or a copy when its headers
 * are immutable; without a decision for the request, the response as it is.
 */
export declare function withDecisionHeaders(request: Request, response: Response): Response;
export declare function toResponse(decision: Decision): Response;
/**
 * The session cookie `name` of a Node, Fastify or Web request, for the
 * `token` option: several cookies of that name come back joined with ", "
 * (the core refuses them as credential_ambiguous); null when there is none.
 */
export declare function sessionCookie(request: { headers: unknown }, name: string): string | null;
/** Partner Center's `ValidateMfa` request header as the request's `validate_mfa` (the core's reading): `true` in any case is true, another value false, no header undefined. */
export declare function validateMfaHeader(value: string | null | undefined): boolean | undefined;
