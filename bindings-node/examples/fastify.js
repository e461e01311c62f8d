// Fastify: the same gate as a plugin; pages get a sign-in redirect with MFA.
const Fastify = require('fastify');
const mfagate = require('mfagate');

// What every deployment must configure: the app's client ID (the audience
// of its users' ID tokens), the partner tenant ID, the agent groups' IDs.
const gate = new mfagate.JwksGate(
  {
    builtin: 'partner-center',
    overrides: {
      token: {
        audiences: ['https://api.partnercenter.microsoft.com', process.env.CLIENT_ID ?? '<your app client ID>'],
        partner_tenants: [process.env.PARTNER_TENANT ?? '<your partner tenant ID>'],
      },
      roles: { groups: { admin_agent: [process.env.ADMIN_AGENTS_GROUP ?? '<AdminAgents object ID>'] } },
    },
  },
  { jwksUri: process.env.JWKS_URI ?? 'https://login.microsoftonline.com/common/discovery/keys' },
);

const app = Fastify();
app.register(mfagate.fastify, {
  gate,
  // Pages: the ID token of the user's session (here a cookie), if any.
  token: (request) => mfagate.sessionCookie(request, 'id_token'),
});
app.get('/v1/customers', async (request) => ({ reason: request.mfagate.reason }));
app.get('/commerce/customers', async (request) => `Customers of ${request.mfagate.subject.tenant}`);

app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' }).then((address) => {
  console.log(`listening on ${address}`);
});
