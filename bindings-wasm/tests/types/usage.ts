// A typed usage of mfagate-wasm, checked by `tsc --noEmit` (never run).
// The @ts-expect-error lines must stay errors: they prove the types bite.
import init, { Gate, TokenCache, JwksCache, JwksGate, JwksError, MfagateError, PolicyError, UsageError, parseJwks, builtinPolicies, inspect, type Decision, type MfagateRequest } from 'mfagate-wasm';

export async function usage(token: string): Promise<number> {
  await init();
  const gate = new Gate('partner-center', { keys: [{ kty: 'RSA', kid: 'k', n: 'AQAB', e: 'AQAB' }] });
  const tokens = new TokenCache({ maxEntries: 10_000, maxBytes: 16 << 20 });
  const cachedGate = new Gate('partner-center', null, { cache: tokens });
  const cacheHits: number = tokens.stats().hits;
  void [cachedGate.hasCache, cacheHits, new TokenCache(), tokens.maxBytes];
  // @ts-expect-error a cache is a TokenCache, not its options
  void new Gate('partner-center', null, { cache: { maxEntries: 5 } });
  const custom = new Gate({ builtin: 'partner-center-2025', overrides: { token: { audiences: ['api://x'] } } }, null);
  const req: MfagateRequest = { method: 'GET', path: '/v1/customers', authorization: `Bearer ${token}`, now: Math.floor(Date.now() / 1000) };
  const d: Decision = await gate.evaluate(req);
  const status: number = d.http.status;
  const outcome: 'allow' | 'deny' | 'step_up' = d.outcome;
  const fr: string = d.message.fr;
  const pt: string = d.message['pt-BR'];
  const first: [string, string] | undefined = d.http.headers[0];
  const loc: string | undefined = d.redirect?.location;
  const satisfied: boolean = d.mfa.satisfied;
  const v = custom.evaluateClaims({ amr: ['mfa'] }, { path: '/' });
  const kinds: (string | null)[] = [v.token_kind, d.subject?.tenant ?? null];
  try {
    new Gate('nope', null);
  } catch (e) {
    if (e instanceof PolicyError) {
      const code: string = e.code;
      const line: number | null = e.line;
      const url: string | null = e.doc_url;
      void [code, line, url];
    } else if (e instanceof UsageError || e instanceof MfagateError) {
      void e.hint;
    }
  }
  const cache = new JwksCache('https://login.microsoftonline.com/common/discovery/v2.0/keys', {
    ttlSeconds: 3600, minRefreshSeconds: 60, timeoutSeconds: 5, maxBytes: 262144, maxKeys: 64,
    onError: (e: JwksError) => console.warn(e.code, e.message),
  });
  // @ts-expect-error timeoutMs is gone: timeoutSeconds
  void new JwksCache('https://example.com/keys', { timeoutMs: 3000 });
  const lastError: JwksError | null = cache.lastError;
  const discovered: [string | null, string | null] = [cache.jwksUrl, cache.issuer];
  void [lastError, discovered];
  const d2026: Decision = await new Gate('partner-center-2026', null).evaluate({ path: '/v1/customers', validate_mfa: true });
  const compliant: string | undefined = d2026.http.headers.find(([n]) => n === 'isMfaCompliant')?.[1];
  void compliant;
  // @ts-expect-error validate_mfa is a boolean (the ValidateMfa header's "true" is read by the app)
  await gate.evaluate({ path: '/', validate_mfa: 'true' });
  const viaCache: Decision = await new JwksGate('partner-center', cache).evaluate({ path: '/commerce/customers', token });
  const info: { keys: number; kids: string[] } = parseJwks('{"keys": []}');
  const names: string[] = builtinPolicies();

  // @ts-expect-error a request needs a path
  await gate.evaluate({ method: 'GET' });
  // @ts-expect-error now is a number of seconds
  await gate.evaluate({ path: '/', now: '2024-01-01' });
  // @ts-expect-error evaluate is async: a Decision is not a Promise
  const sync: Decision = gate.evaluate(req);
  // @ts-expect-error decisions are snake_case
  void d.tokenKind;
  // @ts-expect-error outcomes are a closed set
  const o: Decision['outcome'] = 'maybe';
  void [status, outcome, fr, pt, first, loc, satisfied, kinds, viaCache, info, names, sync, o];
  return status;
}

export function inspected(token: string): string {
  const r = inspect(token, 'partner-center-2025', 1700000000);
  // @ts-expect-error inspection may be null until refusal is ruled out
  void r.inspection.kind;
  if (r.refusal) return r.refusal.message['pt-BR'];
  // Narrowed: with no refusal there is an inspection.
  const i = r.inspection;
  return i.rules.map((v) => `${v.rule} ${v.decision.outcome}`).join('\n') + i.kind;
}
