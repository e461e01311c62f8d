'use strict';
// mfagate-wasm for Node (wasm-pack --target nodejs): ready on require.
const glue = require('./glue/mfagate_wasm_node.cjs');
const { MfagateError, PolicyError, JwksError, UsageError } = require('./errors.cjs');
const { bindJwks } = require('./jwks.cjs');
const { bindGate } = require('./gate.cjs');

glue.__registerErrorClasses(MfagateError, PolicyError, JwksError, UsageError);
bindGate(glue.Gate);
const { Gate, TokenCache, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version } = glue;
const { JwksCache, JwksGate } = bindJwks({ KeyFeed: glue.__KeyFeed, Engine: glue.__Engine, JwksError });
module.exports = {
  Gate, TokenCache, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version, JwksCache, JwksGate,
  MfagateError, PolicyError, JwksError, UsageError,
  default: async function init() {}, initSync() {},
};
