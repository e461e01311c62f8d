//! JWK Sets (RFC 7517): parsed and prepared once, when loaded.

use crate::crypto::Prepared;
use crate::error::{Error, ErrorCode, Result};
use crate::jws::Algorithm;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use std::collections::HashMap;

/// Public key material, as the JWK gave it (big-endian bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    EcP256 {
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// A shared secret for HS256; only usable when the policy pins HS256.
    Oct {
        k: Vec<u8>,
    },
}

/// One verification key.
pub struct Key {
    pub kid: Option<String>,
    /// The JWK's `alg`, when it binds the key to one algorithm.
    pub alg: Option<Algorithm>,
    pub material: KeyMaterial,
    pub(crate) prepared: Prepared,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("type", &self.type_name())
            .finish()
    }
}

impl Key {
    pub fn type_name(&self) -> &'static str {
        match self.material {
            KeyMaterial::Rsa { .. } => "RSA",
            KeyMaterial::EcP256 { .. } => "EC P-256",
            KeyMaterial::Oct { .. } => "oct",
        }
    }

    /// Whether this key may verify `alg` (type fits, and the JWK's own `alg`
    /// agrees when it has one).
    pub fn fits(&self, alg: Algorithm) -> bool {
        let type_ok = matches!(
            (&self.material, alg),
            (KeyMaterial::Rsa { .. }, Algorithm::RS256 | Algorithm::PS256)
                | (KeyMaterial::EcP256 { .. }, Algorithm::ES256)
                | (KeyMaterial::Oct { .. }, Algorithm::HS256)
        );
        type_ok && self.alg.is_none_or(|a| a == alg)
    }

    /// The public JWK, for hosts that verify with their own crypto (WebCrypto).
    /// Secrets (`oct`) are never exported.
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        let e = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let mut v = match &self.material {
            KeyMaterial::Rsa { n, e: ex } => {
                serde_json::json!({"kty": "RSA", "n": e(n), "e": e(ex)})
            }
            KeyMaterial::EcP256 { x, y } => {
                serde_json::json!({"kty": "EC", "crv": "P-256", "x": e(x), "y": e(y)})
            }
            KeyMaterial::Oct { .. } => return None,
        };
        if let (Some(kid), Some(obj)) = (&self.kid, v.as_object_mut()) {
            obj.insert("kid".into(), kid.clone().into());
        }
        Some(v)
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A parsed JWK Set. Keys of types mfagate does not verify with (for example
/// `OKP`, or encryption keys) are skipped and listed in [`KeySet::skipped`].
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    by_kid: HashMap<String, usize>,
    skipped: Vec<String>,
}

fn jwks_err(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorCode::JwksInvalid,
        msg,
        "pass the JSON of a JWK Set ({\"keys\": [...]}), for example the document at your tenant's jwks_uri",
    )
}

fn member<'a>(
    jwk: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
    idx: usize,
) -> Result<Option<&'a str>> {
    match jwk.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(jwks_err(format!(
            "key #{idx}: member {name:?} must be a string"
        ))),
    }
}

fn bytes(
    jwk: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    idx: usize,
) -> Result<Vec<u8>> {
    let s = member(jwk, name, idx)?
        .ok_or_else(|| jwks_err(format!("key #{idx}: member {name:?} is missing")))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| jwks_err(format!("key #{idx}: member {name:?} is not base64url: {e}")))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

impl KeySet {
    /// An empty set: every signed token is then refused with `key_not_found`.
    pub fn empty() -> KeySet {
        KeySet::default()
    }

    /// Parses a JWK Set document.
    pub fn from_json(json: &str) -> Result<KeySet> {
        let raw: RawJwks = serde_json::from_str(json)
            .map_err(|e| jwks_err(format!("the JWK Set is not valid: {e}")))?;
        let mut set = KeySet::default();
        for (idx, jwk) in raw.keys.iter().enumerate() {
            let kid = member(jwk, "kid", idx)?.map(str::to_owned);
            let label = kid.clone().unwrap_or_else(|| format!("#{idx}"));
            if member(jwk, "use", idx)?.is_some_and(|u| u != "sig") {
                set.skipped.push(format!("{label}: use is not \"sig\""));
                continue;
            }
            if let Some(ops) = jwk.get("key_ops").and_then(|v| v.as_array()) {
                if !ops.iter().any(|o| o == "verify") {
                    set.skipped
                        .push(format!("{label}: key_ops lacks \"verify\""));
                    continue;
                }
            }
            let alg = match member(jwk, "alg", idx)? {
                None => None,
                Some(a) => match Algorithm::from_name(a) {
                    Some(a) => Some(a),
                    None => {
                        set.skipped
                            .push(format!("{label}: alg {a} is not supported"));
                        continue;
                    }
                },
            };
            let material = match member(jwk, "kty", idx)? {
                Some("RSA") => {
                    let n = bytes(jwk, "n", idx)?;
                    let e = bytes(jwk, "e", idx)?;
                    let bits = strip_zeros(&n).len() * 8;
                    if bits < 2048 {
                        return Err(Error::new(
                            ErrorCode::JwkUnsupported,
                            format!("key {label}: RSA modulus of about {bits} bits is too small"),
                            "use RSA keys of at least 2048 bits",
                        ));
                    }
                    KeyMaterial::Rsa { n, e }
                }
                Some("EC") => {
                    let crv = member(jwk, "crv", idx)?;
                    if crv != Some("P-256") {
                        set.skipped
                            .push(format!("{label}: curve {crv:?} is not supported"));
                        continue;
                    }
                    let x = bytes(jwk, "x", idx)?;
                    let y = bytes(jwk, "y", idx)?;
                    if x.len() != 32 || y.len() != 32 {
                        return Err(jwks_err(format!(
                            "key {label}: P-256 coordinates must be 32 bytes"
                        )));
                    }
                    KeyMaterial::EcP256 { x, y }
                }
                Some("oct") => {
                    let k = bytes(jwk, "k", idx)?;
                    if k.len() < 32 {
                        return Err(Error::new(
                            ErrorCode::JwkUnsupported,
                            format!(
                                "key {label}: an HS256 secret of {} bytes is too short",
                                k.len()
                            ),
                            "use a shared secret of at least 32 random bytes (RFC 7518 §3.2)",
                        ));
                    }
                    KeyMaterial::Oct { k }
                }
                other => {
                    set.skipped
                        .push(format!("{label}: kty {other:?} is not supported"));
                    continue;
                }
            };
            let prepared = Prepared::new(&material).map_err(|why| {
                Error::new(
                    ErrorCode::JwkUnsupported,
                    format!("key {label}: {why}"),
                    "check that the JWK holds a valid public key",
                )
            })?;
            if let Some(k) = &kid {
                if set.by_kid.insert(k.clone(), set.keys.len()).is_some() {
                    return Err(jwks_err(format!("two keys have the kid {k:?}")));
                }
            }
            set.keys.push(Key {
                kid,
                alg,
                material,
                prepared,
            });
        }
        Ok(set)
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys that were left out, with why.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Selects the key for a token: by `kid`; without a `kid`, only when
    /// exactly one key fits the algorithm. Returns the key's index.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<usize, crate::jws::Refusal> {
        use crate::jws::Refusal;
        use crate::reason::Reason;
        let idx = match kid {
            Some(kid) => *self.by_kid.get(kid).ok_or_else(|| {
                Refusal::new(Reason::KeyNotFound, format!("no key has kid {kid:?}"))
            })?,
            None => {
                let mut fitting = self.keys.iter().enumerate().filter(|(_, k)| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some((i, _)), None) => i,
                    _ => {
                        return Err(Refusal::new(
                            Reason::KeyNotFound,
                            "the token has no kid and the key set does not have exactly one key for its algorithm",
                        ))
                    }
                }
            }
        };
        let key = &self.keys[idx];
        if !key.fits(alg) {
            return Err(Refusal::new(
                Reason::KeyAlgorithmMismatch,
                format!(
                    "key {:?} is {} and cannot verify {}",
                    key.kid,
                    key.type_name(),
                    alg.as_str()
                ),
            ));
        }
        Ok(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_garbage_and_short_secrets() {
        assert_eq!(
            KeySet::from_json("nope").unwrap_err().code,
            ErrorCode::JwksInvalid
        );
        let short = r#"{"keys":[{"kty":"oct","kid":"s","k":"c2hvcnQ"}]}"#;
        assert_eq!(
            KeySet::from_json(short).unwrap_err().code,
            ErrorCode::JwkUnsupported
        );
    }

    #[test]
    fn skips_unsupported_key_types() {
        let set =
            KeySet::from_json(r#"{"keys":[{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AA"}]}"#)
                .unwrap();
        assert!(set.is_empty());
        assert_eq!(set.skipped().len(), 1);
    }
}
