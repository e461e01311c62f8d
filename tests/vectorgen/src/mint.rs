//! The test keys in tests/keys and deterministic token signing: RS256 is
//! deterministic by nature, PS256 salts come from a seeded ChaCha20, ES256
//! uses RFC 6979 nonces, so regenerating gives the same bytes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use rand_chacha::rand_core::SeedableRng;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use std::path::Path;

pub const RSA_KID: &str = "rsa-1";
pub const ROTATED_KID: &str = "rsa-2";
pub const EC_KID: &str = "ec-1";
pub const HS_KID: &str = "hs-1";

pub struct Keys {
    pub rsa: rsa::RsaPrivateKey,
    pub rotated: rsa::RsaPrivateKey,
    pub ec: p256::ecdsa::SigningKey,
    pub secret: Vec<u8>,
}

fn read(dir: &Path, name: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(name))
        .map_err(|e| format!("{}: {e}", dir.join(name).display()))
}

pub fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

impl Keys {
    pub fn load(dir: &Path) -> Result<Keys, String> {
        let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(&read(dir, "rsa-signing-1.pem")?)
            .map_err(|e| e.to_string())?;
        let rotated = rsa::RsaPrivateKey::from_pkcs8_pem(&read(dir, "rsa-rotated-2.pem")?)
            .map_err(|e| e.to_string())?;
        let ec = p256::SecretKey::from_pkcs8_pem(&read(dir, "ec-p256-1.pem")?)
            .map_err(|e| e.to_string())?;
        let secret = URL_SAFE_NO_PAD
            .decode(read(dir, "hs256-secret.b64url")?.trim())
            .map_err(|e| e.to_string())?;
        Ok(Keys {
            rsa,
            rotated,
            ec: p256::ecdsa::SigningKey::from(ec),
            secret,
        })
    }

    fn rsa_jwk(key: &rsa::RsaPrivateKey, kid: &str) -> Value {
        let p = key.to_public_key();
        json!({"kty": "RSA", "use": "sig", "kid": kid, "n": b64(&p.n().to_bytes_be()), "e": b64(&p.e().to_bytes_be())})
    }

    /// The JWK Set every vector verifies with. The rotated key is left out,
    /// so tokens signed with it have an unknown kid.
    pub fn jwks(&self) -> Value {
        let point = self.ec.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().map(|x| b64(x)), point.y().map(|y| b64(y)));
        json!({"keys": [
            Self::rsa_jwk(&self.rsa, RSA_KID),
            {"kty": "EC", "use": "sig", "kid": EC_KID, "crv": "P-256", "x": x, "y": y},
            {"kty": "oct", "kid": HS_KID, "alg": "HS256", "k": b64(&self.secret)},
        ]})
    }

    /// The public JWK Set with the rotated key too (for binding tests of key rotation).
    pub fn jwks_rotated(&self) -> Value {
        json!({"keys": [Self::rsa_jwk(&self.rsa, RSA_KID), Self::rsa_jwk(&self.rotated, ROTATED_KID)]})
    }

    /// DER (SPKI) of the RSA public key: the bytes an HS256 key-confusion
    /// attacker would use as the HMAC secret.
    pub fn rsa_public_der(&self) -> Vec<u8> {
        self.rsa
            .to_public_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    }
}

/// How to sign a token.
pub enum Sig<'a> {
    Rs256(&'a rsa::RsaPrivateKey),
    Ps256(&'a rsa::RsaPrivateKey, u64),
    Es256(&'a p256::ecdsa::SigningKey),
    Hs256(&'a [u8]),
    /// Keep the header and payload; use this signature segment verbatim.
    Raw(&'a str),
}

pub fn sign(header: &Value, payload: &Value, sig: Sig<'_>) -> String {
    compact(&header.to_string(), &payload.to_string(), sig)
}

/// Signs exact header and payload texts (for duplicate-member tests).
pub fn compact(header: &str, payload: &str, sig: Sig<'_>) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let s = match sig {
        Sig::Rs256(k) => b64(&rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.clone())
            .sign(input.as_bytes())
            .to_bytes()),
        Sig::Ps256(k, seed) => {
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
            b64(&rsa::pss::SigningKey::<sha2::Sha256>::new(k.clone())
                .sign_with_rng(&mut rng, input.as_bytes())
                .to_bytes())
        }
        Sig::Es256(k) => {
            let s: p256::ecdsa::Signature = k.sign(input.as_bytes());
            b64(&s.to_bytes())
        }
        Sig::Hs256(secret) => {
            let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
                .unwrap_or_else(|_| unreachable_hmac());
            mac.update(input.as_bytes());
            b64(&mac.finalize().into_bytes())
        }
        Sig::Raw(s) => s.to_owned(),
    };
    format!("{input}.{s}")
}

fn unreachable_hmac() -> hmac::Hmac<sha2::Sha256> {
    // HMAC accepts keys of any length; this path cannot be taken.
    std::process::exit(2)
}
