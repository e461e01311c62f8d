//! `mfagate token sign`: fresh tokens for trying a deployment locally, signed
//! with the repository's public TEST keys (tests/keys). Any other key is
//! refused unless `--allow-non-test-key` says so: this is a testing tool,
//! not a token issuer.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

/// The repository's test keys (tests/keys), by the SHA-256 of their key
/// bytes (the PEM's DER, the HMAC secret's bytes), with the kid of
/// tests/keys/jwks.json. A test checks this table against the files.
pub const TEST_KEYS: &[(&str, &str, &str)] = &[
    (
        "14dc24678c0c611689728b1687a5e2ccd858f2453aabced7b2a964b9a00727e0",
        "rsa-1",
        "rsa-signing-1.pem",
    ),
    (
        "9c4609df99e618fcef0943ddc54948e884f033d869399355edd4aa2cb4148936",
        "rsa-2",
        "rsa-rotated-2.pem",
    ),
    (
        "3845f97b0ac01fe1da2bb392a99b07e5ccf1d9ee5cab05039be0f2178bc960c7",
        "ec-1",
        "ec-p256-1.pem",
    ),
    (
        "2062ccaea7ce94db2a986efbff5de14b2d233e7fe41553f29e5faa8d063f1c3f",
        "hs-1",
        "hs256-secret.b64url",
    ),
];

/// What `token sign` was asked.
pub struct SignArgs<'a> {
    pub key: &'a Path,
    pub claims: &'a str,
    pub alg: Option<&'a str>,
    pub kid: Option<&'a str>,
    pub now: i64,
    pub lifetime: i64,
    pub allow_non_test_key: bool,
}

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Hmac(Vec<u8>),
}

/// The key's bytes: a PEM's DER, or a base64url HMAC secret's bytes.
fn key_bytes(text: &str) -> Result<(Vec<u8>, bool), String> {
    let t = text.trim();
    if t.starts_with("-----BEGIN") {
        if !t.starts_with("-----BEGIN PRIVATE KEY-----") {
            return Err("the PEM is not a PKCS#8 private key (-----BEGIN PRIVATE KEY-----); convert it with `openssl pkcs8 -topk8 -nocrypt`".into());
        }
        let b64: String = t
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        return STANDARD
            .decode(b64)
            .map(|d| (d, true))
            .map_err(|e| format!("the PEM's base64 is invalid: {e}"));
    }
    URL_SAFE_NO_PAD
        .decode(t.trim_end_matches('='))
        .map(|d| (d, false))
        .map_err(|_| "neither a PEM private key nor a base64url HMAC secret".into())
}

fn parse_key(der: &[u8], is_pem: bool) -> Result<Key, String> {
    if !is_pem {
        return Ok(Key::Hmac(der.to_vec()));
    }
    if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
        return Ok(Key::Rsa(k));
    }
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
        .map(Key::Ec)
        .map_err(|_| "the PKCS#8 key is neither RSA nor EC P-256".into())
}

fn read_claims(arg: &str) -> Result<Map<String, Value>, String> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| e.to_string())?;
        s
    } else {
        std::fs::read_to_string(arg).map_err(|e| format!("{arg}: {e}"))?
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!("{arg}: the claims must be a JSON object")),
        Err(e) => Err(format!("{arg}: not JSON: {e}")),
    }
}

/// Signs the claims; returns the compact JWS. Warns on stderr, always.
pub fn sign(a: &SignArgs) -> Result<String, String> {
    let text = std::fs::read_to_string(a.key).map_err(|e| format!("{}: {e}", a.key.display()))?;
    let (bytes, is_pem) = key_bytes(&text).map_err(|e| format!("{}: {e}", a.key.display()))?;
    let fingerprint: String = digest(&SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let test_key = TEST_KEYS.iter().find(|(f, _, _)| *f == fingerprint);
    match test_key {
        Some((_, kid, file)) => crate::warn(&format!(
            "WARNING: signed with the repository's TEST key {kid} (tests/keys/{file}), which is public: for local testing only; a deployment must never trust it"
        )),
        None if a.allow_non_test_key => crate::warn(&format!(
            "WARNING: {} is not one of the repository's test keys (--allow-non-test-key): `token sign` is a testing tool, not a token issuer",
            a.key.display()
        )),
        None => {
            return Err(format!(
                "{} is not one of the repository's test keys (tests/keys): `token sign` signs test tokens only. To sign with this key anyway, pass --allow-non-test-key",
                a.key.display()
            ))
        }
    }
    let key = parse_key(&bytes, is_pem).map_err(|e| format!("{}: {e}", a.key.display()))?;
    let alg = match (&key, a.alg) {
        (Key::Rsa(_), None | Some("RS256")) => "RS256",
        (Key::Rsa(_), Some("PS256")) => "PS256",
        (Key::Ec(_), None | Some("ES256")) => "ES256",
        (Key::Hmac(_), None | Some("HS256")) => "HS256",
        (_, Some(other)) => {
            return Err(format!(
                "--alg {other} does not fit this key (RSA: RS256 or PS256; EC P-256: ES256; an HMAC secret: HS256)"
            ))
        }
    };
    let mut claims = read_claims(a.claims)?;
    for (name, at) in [
        ("iat", a.now),
        ("nbf", a.now),
        ("exp", a.now.saturating_add(a.lifetime)),
    ] {
        claims.entry(name).or_insert_with(|| Value::from(at));
    }
    let mut header = Map::new();
    header.insert("alg".into(), alg.into());
    header.insert("typ".into(), "JWT".into());
    if let Some(kid) = a.kid.or(test_key.map(|(_, kid, _)| *kid)) {
        header.insert("kid".into(), kid.into());
    }
    let enc = |v: &Map<String, Value>| -> Result<String, String> {
        serde_json::to_vec(v)
            .map(|b| URL_SAFE_NO_PAD.encode(b))
            .map_err(|e| e.to_string())
    };
    let input = format!("{}.{}", enc(&header)?, enc(&claims)?);
    let rng = SystemRandom::new();
    let sig = match &key {
        Key::Rsa(k) => {
            let mut out = vec![0; k.public_modulus_len()];
            let padding = if alg == "PS256" {
                &RSA_PSS_SHA256
            } else {
                &RSA_PKCS1_SHA256
            };
            k.sign(padding, &rng, input.as_bytes(), &mut out)
                .map_err(|_| "RSA signing failed".to_string())?;
            out
        }
        Key::Ec(k) => k
            .sign(&rng, input.as_bytes())
            .map_err(|_| "ECDSA signing failed".to_string())?
            .as_ref()
            .to_vec(),
        Key::Hmac(s) => hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, s), input.as_bytes())
            .as_ref()
            .to_vec(),
    };
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_table_is_the_repository_s_test_keys() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/keys");
        for (fingerprint, _, file) in TEST_KEYS {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let (bytes, _) = key_bytes(&text).unwrap();
            let got: String = digest(&SHA256, &bytes)
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(&got, fingerprint, "{file}");
        }
        let jwks = std::fs::read_to_string(dir.join("jwks.json")).unwrap();
        for kid in ["rsa-1", "ec-1", "hs-1"] {
            assert!(jwks.contains(&format!("\"{kid}\"")), "{kid}");
        }
    }
}
