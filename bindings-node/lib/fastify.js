'use strict';
// `require('mfagate/fastify')`: the Fastify plugin (lib/middleware.js), with
// request.mfagate typed by lib/fastify.d.ts.
const { fastify } = require('./middleware.js');

module.exports = fastify;
module.exports.default = fastify;
module.exports.fastify = fastify;
