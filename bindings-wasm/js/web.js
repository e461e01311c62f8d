// mfagate-wasm for browsers and workers (wasm-pack --target web; the module is glue/mfagate_wasm_bg.wasm).
// Call `await init()` (or `initSync({ module })` in a worker that imports the
// .wasm as a module) once before building a Gate.
import glueInit, { initSync as glueInitSync, Gate, TokenCache, __KeyFeed as KeyFeed, __Engine as Engine, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version, __registerErrorClasses } from './glue/mfagate_wasm_web.js';
import { MfagateError, PolicyError, JwksError, UsageError } from './errors.js';
import { bindJwks } from './jwks.js';
import { bindGate } from './gate.js';

const register = () => __registerErrorClasses(MfagateError, PolicyError, JwksError, UsageError);

/** Loads the module (fetches mfagate_wasm_bg.wasm next to the glue unless told otherwise). */
export default async function init(options) {
  const out = await glueInit(options);
  register();
  return out;
}
/** Loads the module from a compiled WebAssembly.Module or bytes: `initSync({ module })`. */
export function initSync(options) {
  const out = glueInitSync(options);
  register();
  return out;
}
bindGate(Gate);
export const { JwksCache, JwksGate } = bindJwks({ KeyFeed, Engine, JwksError });
export { Gate, TokenCache, parseJwks, builtinPolicies, inspect, sessionCookie, validateMfaHeader, version, MfagateError, PolicyError, JwksError, UsageError };
