// Type-checked with `tsc --noEmit -p test/types` ("module": "nodenext"): an
// ES module importing the package by its name, as an ESM user does, so the
// "import" condition of the "exports" map decides which types apply. Every
// runtime name imported by name (test/esm.test.mjs runs the same imports).
import mfagate, {
  Gate,
  JwksGate,
  TokenCache,
  BUILTIN_POLICIES,
  MfagateError,
  PolicyError,
  JwksError,
  UsageError,
  express,
  fastify,
  handler,
  decisionOf,
  withDecisionHeaders,
  toResponse,
  sessionCookie,
  validateMfaHeader,
} from 'mfagate';
import type { Decision, GateRequest, PolicySpec } from 'mfagate';
import mfagateFastify, { fastify as fastifyNamed } from 'mfagate/fastify';
import Fastify from 'fastify';

const spec: PolicySpec = 'partner-center';
const gate = new Gate(spec, { keys: [] }, { cache: new TokenCache() });
const request: GateRequest = { path: '/v1/customers', now: 1_700_000_000 };
const d: Decision = gate.evaluate(request);
const status: number = d.http.status;
const remote: JwksGate = new JwksGate('partner-center', { jwksUri: 'https://example.com/keys' });
const names: readonly string[] = BUILTIN_POLICIES;
const errors: Array<typeof MfagateError> = [PolicyError, JwksError, UsageError];
const flag: boolean | undefined = validateMfaHeader('true');
const cookie: string | null = sessionCookie({ headers: {} }, 'id_token');
const seen: Decision | null = decisionOf(new Request('http://localhost/'));
const handle = handler({ gate });
const res: Response | null = handle(new Request('http://localhost/v1/customers'));
void [status, remote, names, errors, flag, cookie, seen, res, express({ gate }), withDecisionHeaders, toResponse];

// The default import is the CommonJS module object, as Node gives it.
const viaDefault: typeof Gate = mfagate.Gate;
void viaDefault;

const app = Fastify();
app.register(fastify, { gate });
app.register(mfagateFastify, { gate });
app.register(fastifyNamed, { gate });
app.get('/', async (req) => req.mfagate?.reason ?? null);

// @ts-expect-error not a public name
import { read } from 'mfagate';
void read;
