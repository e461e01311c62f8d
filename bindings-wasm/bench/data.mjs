// The benchmark's tokens and keys (signed with tests/keys by node:crypto).
import { jwt, jwks, makeClaims, API_AUD, TENANT } from '../tests/tokens.mjs';

export function benchData() {
  const now = 1700000000;
  const c = makeClaims(now).appUserMfa;
  return {
    now,
    jwks,
    audience: API_AUD,
    issuer: `https://sts.windows.net/${TENANT}/`,
    rs256: jwt(c),
    hs256: jwt(c, { alg: 'HS256', kid: 'hs-1' }),
    claims: c,
    claimsJson: JSON.stringify(c),
  };
}
