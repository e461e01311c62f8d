// `import mfagate from 'mfagate/fastify'`: the Fastify plugin, and
// `request.mfagate` typed on every FastifyRequest (declaration merging; kept
// apart from the main entry so apps without Fastify need not have its types).
import type { Decision } from './types';
import type { fastify as plugin } from './index';

declare module 'fastify' {
  interface FastifyRequest {
    /** The gate's decision on an allowed request; null before the hook ran. */
    mfagate: Decision | null;
  }
}

declare const mfagateFastify: typeof plugin;
export default mfagateFastify;
export { mfagateFastify as fastify };
