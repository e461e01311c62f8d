// Express: the Partner Center API rules in front of your routes.
const express = require('express');
const mfagate = require('mfagate');

// Keys from your tenant's jwks_uri, cached: refetched after an hour, at once
// for an unknown kid (at most once a minute), last good keys kept on failure.
const gate = new mfagate.JwksGate(
  { builtin: 'partner-center', overrides: { token: { audiences: [process.env.API_AUDIENCE ?? 'https://api.partnercenter.microsoft.com'] } } },
  { jwksUri: process.env.JWKS_URI ?? 'https://login.microsoftonline.com/common/discovery/keys' },
);

const app = express();
app.use(mfagate.express({ gate, onDecision: (d) => d.outcome !== 'allow' && console.log(d.reason, d.detail) }));
app.get('/v1/customers', (req, res) => {
  // Only reached on allow; the decision says who and why.
  res.json({ user: req.mfagate.subject.user, mfa: req.mfagate.mfa.evidence });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
