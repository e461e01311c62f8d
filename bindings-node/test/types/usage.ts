// Type-checked with `tsc --noEmit -p test/types`: the public API as a
// TypeScript user sees it (not run).
import express from 'express';
import Fastify from 'fastify';
import * as mfagate from '../../lib/index.js';
import mfagateFastify from '../../lib/fastify.js';
import type { Decision, GateRequest, PolicySpec } from '../../lib/index.js';

const spec: PolicySpec = { builtin: 'partner-center', overrides: { token: { audiences: ['api://my-api'] } } };
const gate = new mfagate.Gate(spec, '{"keys":[]}');
const request: GateRequest = { path: '/v1/customers', authorization: 'Bearer x', now: 1_700_000_000, mfa_registered: null, validate_mfa: true };
// @ts-expect-error validate_mfa is a boolean (or null)
void ({ path: '/v1', validate_mfa: 'true' } satisfies GateRequest);

const d: Decision = gate.evaluate(request);
const status: number = d.http.status;
const outcome: 'allow' | 'deny' | 'step_up' = d.outcome;
const headers: Array<[string, string]> = d.http.headers;
const location: string | undefined = d.redirect?.location;
const amr: string[] | null = d.mfa.amr;
const pt: string = d.message['pt-BR'];
void [status, outcome, headers, location, amr, pt];

async function later(): Promise<Decision> {
  return gate.evaluateAsync({ path: '/commerce/x' });
}
void later;

try {
  gate.withKeys({ keys: [] });
} catch (e) {
  if (e instanceof mfagate.PolicyError || e instanceof mfagate.JwksError || e instanceof mfagate.UsageError) {
    const code: string = e.code;
    const line: number | null = e.line;
    const url: string | null = e.docUrl;
    void [code, line, url, e.hint];
  }
}

const remote = new mfagate.JwksGate('partner-center', {
  jwksUri: 'https://login.microsoftonline.com/common/discovery/keys',
  ttlSeconds: 3600,
  minRefreshSeconds: 60,
  timeoutSeconds: 5,
  maxBytes: 262_144,
  maxKeys: 64,
  onError: (e: mfagate.JwksError) => console.warn(e.code),
});
const tokens = new mfagate.TokenCache({ maxEntries: 10_000, maxBytes: 16 << 20 });
const cachedGate = new mfagate.Gate(spec, '{"keys":[]}', { cache: tokens });
const hits: number = tokens.stats().hits;
const shared: mfagate.TokenCache | null = cachedGate.cache;
void [hits, shared, tokens.maxEntries, new mfagate.TokenCache()];
void new mfagate.JwksGate('partner-center', { jwksUri: 'https://example.com/keys', cache: tokens });
// @ts-expect-error a cache is a TokenCache, not its options
void new mfagate.Gate(spec, '{"keys":[]}', { cache: { maxEntries: 5 } });
// @ts-expect-error the millisecond options are gone: ttlSeconds
void new mfagate.JwksGate('partner-center', { jwksUri: 'https://example.com/keys', ttl: 600_000 });
const p: Promise<Decision> = remote.evaluate(request);
const discovered: [string | null, string | null] = [remote.jwksUrl, remote.issuer];
void [p, discovered];
void new mfagate.JwksGate('partner-center-2026', { jwksUri: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0' });

const app = express();
app.use(mfagate.express({ gate, token: (req) => req.headers.cookie ?? null, onDecision: (dec) => void dec.reason }));
app.use(mfagate.express({ gate: remote, async: true }));
app.get('/v1/customers', (req, res) => {
  // Declaration merging: req.mfagate is typed, no cast.
  const seen: Decision | undefined = req.mfagate;
  res.json({ reason: seen?.reason });
});

const f = Fastify();
f.register(mfagate.fastify, { gate });
f.register(mfagateFastify, { gate });
f.get('/v1/customers', async (request) => {
  // Declaration merging (mfagate/fastify): request.mfagate is typed, no cast.
  const decided: Decision | null = request.mfagate;
  return { reason: decided?.reason ?? null, compliant: decided?.http.headers ?? [] };
});
// @ts-expect-error request.mfagate is a Decision, not a string
void ((r: import('fastify').FastifyRequest): string => r.mfagate);

const handle = mfagate.handler({ gate });
const res: Response | null = handle(new Request('http://localhost/v1/customers'));
const remoteHandle = mfagate.handler({ gate: remote });
const later2: Response | null | Promise<Response | null> = remoteHandle(new Request('http://localhost/'));
const seen: Decision | null = mfagate.decisionOf(new Request('http://localhost/'));
const withHeaders: Response = mfagate.withDecisionHeaders(new Request('http://localhost/'), new Response('ok'));
void [res, later2, seen, withHeaders];

// @ts-expect-error the request needs a path
gate.evaluate({ method: 'GET' });
// @ts-expect-error decisions are snake_case
void d.http.statusText;
