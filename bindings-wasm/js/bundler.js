// mfagate-wasm for bundlers (wasm-pack --target bundler): ready on import.
import { Gate, TokenCache, __KeyFeed as KeyFeed, __Engine as Engine, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version, __registerErrorClasses } from './glue/mfagate_wasm.js';
import { MfagateError, PolicyError, JwksError, UsageError } from './errors.js';
import { bindJwks } from './jwks.js';
import { bindGate } from './gate.js';

__registerErrorClasses(MfagateError, PolicyError, JwksError, UsageError);
bindGate(Gate);
export const { JwksCache, JwksGate } = bindJwks({ KeyFeed, Engine, JwksError });
export { Gate, TokenCache, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version, MfagateError, PolicyError, JwksError, UsageError };
/** Nothing to load with a bundler; kept so code can call init() everywhere. */
export default async function init() {}
export function initSync() {}
