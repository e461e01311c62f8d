'use strict';
// Test helpers: keys from tests/keys, RS256/HS256 tokens minted with node:crypto.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const KEYS_DIR = path.resolve(__dirname, '../../tests/keys');
const TENANT = 'df845f1a-7b35-40a2-ba78-6481de91f8ae';
const APP = '23ec45a3-5127-4185-9eff-c8887839e6ab';
const OID = '4988e250-5aee-482a-9136-6d269cb755c0';
const AUDIENCE = 'https://api.partnercenter.microsoft.com';
const NOW = 1_700_000_000;

function privateKey(name) {
  return crypto.createPrivateKey(fs.readFileSync(path.join(KEYS_DIR, name)));
}
const RSA1 = privateKey('rsa-signing-1.pem');
const RSA2 = privateKey('rsa-rotated-2.pem');
const HS_SECRET = Buffer.from(fs.readFileSync(path.join(KEYS_DIR, 'hs256-secret.b64url'), 'utf8').trim(), 'base64url');

function publicJwk(key, kid) {
  const jwk = crypto.createPublicKey(key).export({ format: 'jwk' });
  return { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e };
}
const JWK1 = publicJwk(RSA1, 'rsa-1');
const JWK2 = publicJwk(RSA2, 'rsa-2');
const OCT = { kty: 'oct', kid: 'hs-1', alg: 'HS256', k: HS_SECRET.toString('base64url') };

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Claims of an App+User Partner Center token, issued at `iat`. */
function claims(extra = {}, iat = NOW - 60) {
  return {
    aud: AUDIENCE,
    iss: `https://sts.windows.net/${TENANT}/`,
    iat,
    nbf: iat,
    exp: iat + 3600,
    amr: ['pwd', 'mfa'],
    appid: APP,
    oid: OID,
    scp: 'user_impersonation',
    tid: TENANT,
    ver: '1.0',
    upn: 'admin@contoso.example',
    ...extra,
  };
}

function signRS256(payload, { key = RSA1, kid = 'rsa-1' } = {}) {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
  const sig = crypto.sign('RSA-SHA256', Buffer.from(input), key).toString('base64url');
  return `${input}.${sig}`;
}

function signHS256(payload, { kid = 'hs-1' } = {}) {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(payload)}`;
  const sig = crypto.createHmac('sha256', HS_SECRET).update(input).digest('base64url');
  return `${input}.${sig}`;
}

module.exports = { TENANT, APP, OID, AUDIENCE, NOW, RSA1, RSA2, HS_SECRET, JWK1, JWK2, OCT, claims, signRS256, signHS256, KEYS_DIR };
