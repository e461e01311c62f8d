// `import mfagate from 'mfagate/fastify'` (or `{ fastify }`): the plugin of
// the CommonJS entry, the same function.
import plugin from './fastify.js';

export const fastify = plugin;
export default plugin;
