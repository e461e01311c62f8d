// mfagate-wasm for Node, as an ES module (the same instance as require()).
import m from './node.cjs';
export const { Gate, TokenCache, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version, JwksCache, JwksGate, MfagateError, PolicyError, JwksError, UsageError, initSync } = m;
export default m.default;
