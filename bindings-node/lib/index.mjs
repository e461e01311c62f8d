// The ESM entry (`import ... from 'mfagate'`): the CommonJS entry's own
// objects under their names, so import and require share one addon and one
// set of classes (`instanceof` holds across both). Node can name only the
// exports its lexer finds in a CommonJS file, which misses most of
// lib/index.js; listing them here is what makes named imports work.
// test/esm.test.mjs fails when a name is added there and not here.
import mfagate from './index.js';

export const {
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
} = mfagate;

export default mfagate;
