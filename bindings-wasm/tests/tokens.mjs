// Test tokens signed with the repository's test keys (tests/keys), with
// node:crypto: an independent signer, so a wrong verification shows.
import { createPrivateKey, createPublicKey, createHmac, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEYS = join(REPO, 'tests', 'keys');

const pem = (f) => createPrivateKey(readFileSync(join(KEYS, f), 'utf8'));
export const keys = {
  rsa1: pem('rsa-signing-1.pem'),
  rsa2: pem('rsa-rotated-2.pem'),
  ec1: pem('ec-p256-1.pem'),
  hs: Buffer.from(readFileSync(join(KEYS, 'hs256-secret.b64url'), 'utf8').trim(), 'base64url'),
};

const pub = (k, kid) => ({ ...createPublicKey(k).export({ format: 'jwk' }), kid, use: 'sig' });
export const jwks = {
  keys: [
    pub(keys.rsa1, 'rsa-1'),
    pub(keys.rsa2, 'rsa-2'),
    pub(keys.ec1, 'ec-1'),
    { kty: 'oct', kid: 'hs-1', k: keys.hs.toString('base64url') },
  ],
};

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A compact JWS of `claims`, signed with `alg` and the key `kid`. */
export function jwt(claims, { alg = 'RS256', kid = 'rsa-1', key, header = {} } = {}) {
  const h = { alg, typ: 'JWT', ...(kid === null ? {} : { kid }), ...header };
  const input = `${b64(h)}.${b64(claims)}`;
  let sig;
  const k = key ?? { 'rsa-1': keys.rsa1, 'rsa-2': keys.rsa2, 'ec-1': keys.ec1, 'hs-1': keys.hs }[kid ?? 'rsa-1'];
  if (alg === 'RS256') sig = sign('sha256', Buffer.from(input), k);
  else if (alg === 'PS256') sig = sign('sha256', Buffer.from(input), { key: k, padding: 6, saltLength: 32 });
  else if (alg === 'ES256') sig = sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'HS256') sig = createHmac('sha256', k).update(input).digest();
  else throw new Error(`alg ${alg}`);
  return `${input}.${sig.toString('base64url')}`;
}

export const NOW = 1700000000;
export const TENANT = 'df845f1a-7b35-40a2-ba78-6481de91f8ae';
export const PARTNER = '5a1b2c3d-1111-4222-8333-944455566677';
export const API_AUD = 'https://api.partnercenter.microsoft.com';

/** Claims of the kinds of token the rules know, valid at `now`. */
export function makeClaims(NOW) {
const base = (extra) => ({
  aud: API_AUD,
  iss: `https://sts.windows.net/${TENANT}/`,
  iat: NOW - 600,
  nbf: NOW - 600,
  exp: NOW + 3000,
  tid: TENANT,
  ver: '1.0',
  oid: '4988e250-5aee-482a-9136-6d269cb755c0',
  ...extra,
});

return {
  appUserMfa: base({ amr: ['pwd', 'mfa'], appid: '23ec45a3-5127-4185-9eff-c8887839e6ab', scp: 'user_impersonation', upn: 'ana@contoso.example', auth_time: NOW - 900 }),
  appUserPwd: base({ amr: ['pwd'], appid: '23ec45a3-5127-4185-9eff-c8887839e6ab', scp: 'user_impersonation', upn: 'ana@contoso.example' }),
  appOnly: base({ appid: '23ec45a3-5127-4185-9eff-c8887839e6ab', roles: ['Partner.Read'], idtyp: 'app' }),
  delegatedPwd: base({ amr: ['pwd'], appid: '23ec45a3-5127-4185-9eff-c8887839e6ab', scp: 'user_impersonation', idp: `https://sts.windows.net/${PARTNER}/`, upn: 'agent@partner.example' }),
  idTokenPwd: base({ aud: API_AUD, amr: ['pwd'], sub: 'u1', name: 'Ana', upn: 'ana@contoso.example', wids: ['62e90394-69f5-4237-9190-012177145e10'] }),
  idTokenMfa: base({ aud: API_AUD, amr: ['pwd', 'mfa'], sub: 'u1', name: 'Ana', upn: 'ana@contoso.example', wids: ['62e90394-69f5-4237-9190-012177145e10'] }),
  expired: base({ amr: ['mfa'], appid: '23ec45a3-5127-4185-9eff-c8887839e6ab', scp: 'user_impersonation', exp: NOW - 4000, iat: NOW - 8000, nbf: NOW - 8000 }),
};
}
export const claims = makeClaims(NOW);
