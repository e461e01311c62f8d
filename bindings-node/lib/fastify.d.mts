// Types of `import mfagate from 'mfagate/fastify'` in ESM (lib/fastify.mjs);
// the import of ./fastify.js brings its `request.mfagate` declaration merging.
import type {} from './fastify.js';
import type { fastify as plugin } from './index.js';

declare const mfagateFastify: typeof plugin;
export default mfagateFastify;
export { mfagateFastify as fastify };
