// Types of the ESM entry (lib/index.mjs): the same declarations as the
// CommonJS entry's, and the default export Node gives an ESM importer of a
// CommonJS module (its module.exports).
import * as mfagate from './index.js';

export * from './index.js';
export default mfagate;
