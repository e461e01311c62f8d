// Fastify: the same gate as a plugin; pages get a sign-in redirect with MFA.
const Fastify = require('fastify');
const mfagate = require('mfagate');

const gate = new mfagate.JwksGate('partner-center', {
  jwksUri: process.env.JWKS_URI ?? 'https://login.microsoftonline.com/common/discovery/keys',
});

const app = Fastify();
app.register(mfagate.fastify, {
  gate,
  // Pages: the ID token of the user's session (here a cookie), if any.
  token: (request) => /(?:^|;\s*)id_token=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? null,
});
app.get('/v1/customers', async (request) => ({ reason: request.mfagate.reason }));
app.get('/commerce/customers', async (request) => `Customers of ${request.mfagate.subject.tenant}`);

app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' }).then((address) => {
  console.log(`listening on ${address}`);
});
