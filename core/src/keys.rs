//! JWK Sets (RFC 7517): parsed and prepared once, when loaded.

use crate::crypto::Prepared;
use crate::error::{Error, ErrorCode, Result};
use crate::jws::Algorithm;
pub use crate::material::KeyMaterial;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use std::collections::HashMap;

/// One verification key.
pub struct Key {
    /// The JWK's `kid`, which tokens name in their header to pick it.
    pub kid: Option<String>,
    /// The JWK's `alg`, when it binds the key to one algorithm.
    pub alg: Option<Algorithm>,
    /// The JWK's `issuer` (Entra's multi-tenant keys carry one, templated
    /// `{tenantid}`): the key may sign only for that issuer.
    pub issuer: Option<String>,
    /// The public key (or secret) itself, as the JWK gave it.
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
    /// The key's type for people ("RSA", "EC P-256", "oct"), in logs and
    /// `Debug` output that must not print the key itself.
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
    keys: Vec<serde_json::Value>,
}

/// A parsed JWK Set. Keys mfagate cannot use (other types or curves,
/// encryption keys, RSA under 2048 bits, points off the curve, short
/// secrets, malformed members, two keys with one `kid`) are skipped and
/// listed in [`KeySet::skipped`], as RFC 7517 §5 asks ("ignore JWKs that
/// it does not understand"), so that one bad key never blocks the others; a
/// token naming a skipped key is refused with `key_unusable`.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    by_kid: HashMap<String, usize>,
    skipped: Vec<String>,
    /// `kid`s of skipped keys, with why.
    unusable: HashMap<String, String>,
    /// Set when there is no key set yet (its fetches failed): why, and the
    /// seconds after which a retry may help.
    unavailable: Option<(String, u32)>,
    /// The issuer of the OpenID configuration these keys came from
    /// (templated `{tenantid}` for multi-tenant authorities).
    issuer: Option<String>,
    /// Unique per set built in this process: a verified-token cache keeps
    /// entries only for the set that verified them.
    generation: u64,
}

/// A fresh [`KeySet`] generation (never 0, never reused in a process).
fn next_generation() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn jwks_err(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorCode::JwksInvalid,
        msg,
        "pass the JSON of a JWK Set ({\"keys\": [...]}), for example the document at your tenant's jwks_uri",
    )
}

type Jwk = serde_json::Map<String, serde_json::Value>;

fn member<'a>(jwk: &'a Jwk, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("member {name:?} is not a string")),
    }
}

fn bytes(jwk: &Jwk, name: &str) -> Result<Vec<u8>, String> {
    let s = member(jwk, name)?.ok_or_else(|| format!("member {name:?} is missing"))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| format!("member {name:?} is not base64url: {e}"))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let mut b = b;
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

/// The checks every backend's RSA verifier makes (aws-lc's 2048-8192-bit
/// verifiers; WebCrypto would take weaker keys), so that a key is usable
/// or not alike in every build: a 2048 to 8192-bit odd modulus, an odd
/// exponent from 3 to 2^33 - 1.
fn check_rsa(n: &[u8], e: &[u8]) -> Result<(), String> {
    let n = strip_zeros(n);
    let bits = n
        .first()
        .map_or(0, |&top| n.len() * 8 - top.leading_zeros() as usize);
    if bits < 2048 {
        return Err(format!(
            "RSA modulus of {bits} bits is too small (at least 2048)"
        ));
    }
    if bits > 8192 {
        return Err(format!(
            "RSA modulus of {bits} bits is too large (at most 8192)"
        ));
    }
    if n.last().is_some_and(|b| b & 1 == 0) {
        return Err("RSA modulus is even".into());
    }
    let e = strip_zeros(e);
    let value = (e.len() <= 5).then(|| e.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)));
    match value {
        Some(v) if (3..(1 << 33)).contains(&v) && v & 1 == 1 => Ok(()),
        _ => Err("RSA exponent must be odd, from 3 to 2^33 - 1".into()),
    }
}

/// The key material of one JWK, or why mfagate cannot verify with it.
fn parse_jwk(jwk: &Jwk) -> Result<(Option<Algorithm>, KeyMaterial), String> {
    if member(jwk, "use")?.is_some_and(|u| u != "sig") {
        return Err("use is not \"sig\"".into());
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verify = ops
            .as_array()
            .ok_or("key_ops is not an array")?
            .iter()
            .any(|o| o == "verify");
        if !verify {
            return Err("key_ops lacks \"verify\"".into());
        }
    }
    let alg = match member(jwk, "alg")? {
        None => None,
        Some(a) => match Algorithm::from_name(a) {
            Some(a) => Some(a),
            None => return Err(format!("alg {a} is not supported")),
        },
    };
    let material = match member(jwk, "kty")? {
        Some("RSA") => {
            let n = bytes(jwk, "n")?;
            let e = bytes(jwk, "e")?;
            check_rsa(&n, &e)?;
            KeyMaterial::Rsa { n, e }
        }
        Some("EC") => {
            let crv = member(jwk, "crv")?;
            if crv != Some("P-256") {
                return Err(format!("curve {crv:?} is not supported"));
            }
            let x = bytes(jwk, "x")?;
            let y = bytes(jwk, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("P-256 coordinates must be 32 bytes".into());
            }
            // aws-lc would refuse the key later, WebCrypto only when a token
            // arrives: check here, alike in every build.
            if !crate::p256_point::on_curve(&x, &y) {
                return Err("the point is not on the P-256 curve".into());
            }
            KeyMaterial::EcP256 { x, y }
        }
        Some("oct") => {
            let k = bytes(jwk, "k")?;
            if k.len() < 32 {
                return Err(format!(
                    "an HS256 secret of {} bytes is too short (at least 32, RFC 7518 §3.2)",
                    k.len()
                ));
            }
            KeyMaterial::Oct { k }
        }
        other => return Err(format!("kty {other:?} is not supported")),
    };
    Ok((alg, material))
}

impl KeySet {
    /// An empty set: every signed token is then refused with `key_not_found`.
    pub fn empty() -> KeySet {
        KeySet {
            generation: next_generation(),
            ..KeySet::default()
        }
    }

    /// No key set is available yet (for example every fetch of the JWKS
    /// failed so far): every token is refused with `keys_unavailable` (503,
    /// `Retry-After: retry_after`), never with "sign in again". `why` goes
    /// to the decision's `detail`, for logs.
    pub fn unavailable(why: impl Into<String>, retry_after: u32) -> KeySet {
        KeySet {
            unavailable: Some((why.into(), retry_after)),
            generation: next_generation(),
            ..KeySet::default()
        }
    }

    /// These keys, as published by the OpenID configuration whose `issuer`
    /// is `issuer` (templated `{tenantid}` for multi-tenant authorities):
    /// tokens must then carry that issuer, with their `tid` substituted.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> KeySet {
        self.issuer = Some(issuer.into());
        self.generation = next_generation();
        self
    }

    /// Which set this is: unique per set built in this process.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The OpenID configuration's issuer, if the keys came with one.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Why no keys are available, and when to retry (see [`KeySet::unavailable`]).
    pub fn unavailability(&self) -> Option<(&str, u32)> {
        self.unavailable.as_ref().map(|(w, s)| (w.as_str(), *s))
    }

    /// Parses a JWK Set document. Only a document that is not a JWK Set at
    /// all is an error; unusable keys in it are skipped (see [`KeySet`]).
    pub fn from_json(json: &str) -> Result<KeySet> {
        let raw: RawJwks = serde_json::from_str(json).map_err(|e| {
            // serde's message may quote a value of the document, which
            // can be a secret: say where, never what.
            let at = format!("line {}, column {}", e.line(), e.column());
            jwks_err(if e.is_data() {
                format!("the document is not a JWK Set {{\"keys\": [...]}} ({at})")
            } else {
                format!("the JWK Set is not valid JSON ({at})")
            })
        })?;
        let mut set = KeySet {
            generation: next_generation(),
            ..KeySet::default()
        };
        let mut duplicates: Vec<String> = Vec::new();
        for (idx, jwk) in raw.keys.iter().enumerate() {
            let Some(jwk) = jwk.as_object() else {
                set.skipped.push(format!("#{idx}: not a JSON object"));
                continue;
            };
            let kid = match member(jwk, "kid") {
                Ok(k) => k.map(str::to_owned),
                Err(why) => {
                    set.skipped.push(format!("#{idx}: {why}"));
                    continue;
                }
            };
            let label = kid.clone().unwrap_or_else(|| format!("#{idx}"));
            let unusable = |set: &mut KeySet, why: String| {
                set.skipped.push(format!("{label}: {why}"));
                if let Some(k) = &kid {
                    set.unusable.entry(k.clone()).or_insert(why);
                }
            };
            // An issuer that is not a string would switch the key-issuer
            // check off: the key is not used instead.
            let issuer = match member(jwk, "issuer") {
                Ok(i) => i
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(str::to_owned),
                Err(why) => {
                    unusable(&mut set, why);
                    continue;
                }
            };
            let (alg, material) = match parse_jwk(jwk) {
                Ok(x) => x,
                Err(why) => {
                    unusable(&mut set, why);
                    continue;
                }
            };
            let prepared = match Prepared::new(&material) {
                Ok(p) => p,
                Err(why) => {
                    unusable(&mut set, why);
                    continue;
                }
            };
            if let Some(k) = &kid {
                if set.by_kid.contains_key(k) || set.unusable.contains_key(k) {
                    duplicates.push(k.clone());
                    continue;
                }
                set.by_kid.insert(k.clone(), set.keys.len());
            }
            set.keys.push(Key {
                kid,
                alg,
                issuer,
                material,
                prepared,
            });
        }
        // Two keys under one kid: neither can be told from the other.
        for k in duplicates {
            let why = "two keys of the set have this kid".to_owned();
            set.skipped.push(format!("{k}: {why}"));
            if let Some(i) = set.by_kid.remove(&k) {
                set.keys.remove(i);
                for v in set.by_kid.values_mut() {
                    if *v > i {
                        *v -= 1;
                    }
                }
            }
            set.unusable.insert(k, why);
        }
        Ok(set)
    }

    /// The usable keys, in the set's order; [`Pending::key_index`] indexes
    /// this.
    ///
    /// [`Pending::key_index`]: crate::Pending::key_index
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// How many keys are usable (skipped ones not counted).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is usable: every signed token is then refused.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys that were left out, with why.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Selects the key for a token: by `kid`; without a `kid`, only when
    /// exactly one key fits the algorithm. Returns the key's index.
    pub fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<usize, crate::reason::Refusal> {
        use crate::reason::Reason;
        use crate::reason::Refusal;
        if let Some((why, _)) = &self.unavailable {
            return Err(Refusal::new(
                Reason::KeysUnavailable,
                format!("no key set is available: {why}"),
            ));
        }
        let (idx, key) = match kid {
            // `by_kid` indexes `keys`; were it ever to name no key, the
            // token is refused as naming none.
            Some(kid) => match self
                .by_kid
                .get(kid)
                .and_then(|&i| Some((i, self.keys.get(i)?)))
            {
                Some(found) => found,
                None => {
                    return Err(match self.unusable.get(kid) {
                        Some(why) => Refusal::new(
                            Reason::KeyUnusable,
                            format!("key {kid:?} was skipped: {why}"),
                        ),
                        None => {
                            Refusal::new(Reason::KeyNotFound, format!("no key has kid {kid:?}"))
                        }
                    })
                }
            },
            None => {
                let mut fitting = self.keys.iter().enumerate().filter(|(_, k)| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(found), None) => found,
                    _ => {
                        return Err(Refusal::new(
                            Reason::KeyNotFound,
                            "the token has no kid and the key set does not have exactly one key for its algorithm",
                        ))
                    }
                }
            }
        };
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
    fn refuses_garbage_and_skips_unusable_keys() {
        assert_eq!(
            KeySet::from_json("nope").unwrap_err().code,
            ErrorCode::JwksInvalid
        );
        assert_eq!(
            KeySet::from_json(r#"{"keys":{}}"#).unwrap_err().code,
            ErrorCode::JwksInvalid
        );
        let good = r#"{"kty":"oct","kid":"g","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE"}"#;
        let set = KeySet::from_json(&format!(
            r#"{{"keys":[{{"kty":"oct","kid":"s","k":"c2hvcnQ"}},{{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}},{{"kty":"EC","crv":"P-256","kid":"e","x":"!","y":"AA"}},42,{good}]}}"#
        ))
        .unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.skipped().len(), 4);
        use crate::reason::Reason;
        for kid in ["s", "r", "e"] {
            assert_eq!(
                set.select(Some(kid), Algorithm::HS256).unwrap_err().reason,
                Reason::KeyUnusable,
                "{kid}"
            );
        }
        assert_eq!(
            set.select(Some("other"), Algorithm::HS256)
                .unwrap_err()
                .reason,
            Reason::KeyNotFound
        );
        assert_eq!(set.select(Some("g"), Algorithm::HS256), Ok(0));
    }

    #[test]
    fn two_keys_with_one_kid_are_both_unusable() {
        let k = r#"{"kty":"oct","kid":"d","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE"}"#;
        let g = r#"{"kty":"oct","kid":"g","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE"}"#;
        let set = KeySet::from_json(&format!(r#"{{"keys":[{k},{g},{k}]}}"#)).unwrap();
        assert_eq!(set.len(), 1);
        use crate::reason::Reason;
        assert_eq!(
            set.select(Some("d"), Algorithm::HS256).unwrap_err().reason,
            Reason::KeyUnusable
        );
        assert_eq!(set.select(Some("g"), Algorithm::HS256), Ok(0));
    }

    #[test]
    fn an_unavailable_set_refuses_every_token_the_same_way() {
        let set = KeySet::unavailable("the JWKS endpoint answered 500", 30);
        use crate::reason::Reason;
        let e = set.select(Some("any"), Algorithm::RS256).unwrap_err();
        assert_eq!(e.reason, Reason::KeysUnavailable);
        assert!(e.detail.contains("answered 500"));
        assert_eq!(
            set.unavailability(),
            Some(("the JWKS endpoint answered 500", 30))
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
