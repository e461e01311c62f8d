'use strict';
// mfagate for Node: the public API. The native addon is built by napi-rs
// and loaded by ./native.js (per-platform packages); this layer adds idiom only.

const { Gate, BUILTIN_POLICIES } = require('./gate.js');
const { MfagateError, PolicyError, JwksError, UsageError } = require('./errors.js');
const { JwksGate } = require('./jwks.js');
const { TokenCache } = require('./cache.js');
const middleware = require('./middleware.js');

module.exports = {
  Gate,
  JwksGate,
  TokenCache,
  BUILTIN_POLICIES,
  MfagateError,
  PolicyError,
  JwksError,
  UsageError,
  express: middleware.express,
  fastify: middleware.fastify,
  handler: middleware.handler,
  decisionOf: middleware.decisionOf,
  withDecisionHeaders: middleware.withDecisionHeaders,
  toResponse: middleware.toResponse,
  sessionCookie: middleware.sessionCookie,
  validateMfaHeader: (value) => require('./native.js').validateMfaHeader(value ?? null) ?? undefined,
};
