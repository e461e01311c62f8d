//! Splitting and decoding a compact JWS (RFC 7515 §7.1) without trusting it.

use crate::reason::{Reason, Refusal};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;

/// Signature algorithms mfagate can verify. Which ones a gate accepts is
/// pinned by the policy, never by the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what Entra signs its tokens with.
    RS256,
    /// RSASSA-PSS with SHA-256, with an RSA key (for issuers other than Entra,
    /// which uses RS256).
    PS256,
    /// ECDSA with SHA-256, with an EC P-256 key (signatures in the 64-byte
    /// `r‖s` form of RFC 7518 §3.4).
    ES256,
    /// HMAC with SHA-256 over a shared secret (an `oct` key): whoever can
    /// verify can also sign, so `policy lint` warns when it is pinned.
    HS256,
}

impl Algorithm {
    /// The algorithm a JOSE `alg` names, exactly (case-sensitive, as RFC
    /// 7518 has it); `None` for any other, `none` included.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "RS256" => Some(Algorithm::RS256),
            "PS256" => Some(Algorithm::PS256),
            "ES256" => Some(Algorithm::ES256),
            "HS256" => Some(Algorithm::HS256),
            _ => None,
        }
    }

    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
            Algorithm::HS256 => "HS256",
        }
    }
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "crate::claims::opt_str")]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::claims::opt_str")]
    typ: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// The parts of a token needed to verify it.
#[derive(Debug)]
pub(crate) struct Jws<'t> {
    pub(crate) alg: Algorithm,
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'t str,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

/// Strict base64url without padding (RFC 7515 §2), SIMD-accelerated: it is
/// the largest non-crypto cost of a decision.
fn b64(segment: &str, what: &str) -> Result<Vec<u8>, Refusal> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .map_err(|e| {
            Refusal::new(
                Reason::TokenMalformed,
                format!("{what} is not base64url: {e}"),
            )
        })
}

/// Splits, decodes and checks the header of a compact JWS. `allowed` is the
/// policy's pinned list of algorithms; `select` picks the key for the
/// header's `kid` and algorithm (called while the header is still borrowed,
/// so nothing is copied). Returns the token's parts and the key's index.
pub(crate) fn parse<'t>(
    token: &'t str,
    max_bytes: usize,
    allowed: &[Algorithm],
    select: impl FnOnce(Option<&str>, Algorithm) -> Result<usize, Refusal>,
) -> Result<(Jws<'t>, usize), Refusal> {
    if token.len() > max_bytes {
        return Err(Refusal::new(
            Reason::TokenTooLarge,
            format!("token is {} bytes; the limit is {max_bytes}", token.len()),
        ));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let n = token.split('.').count();
        return Err(Refusal::new(
            Reason::TokenMalformed,
            format!("a compact JWS has 3 dot-separated segments; this token has {n}"),
        ));
    };
    if h.is_empty() || p.is_empty() {
        return Err(Refusal::new(
            Reason::TokenMalformed,
            "empty header or payload segment",
        ));
    }
    let header_bytes = b64(h, "header")?;
    if header_bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Refusal::new(
            Reason::TokenMalformed,
            "the header is not a JSON object",
        ));
    }
    let header: RawHeader = serde_json::from_slice(&header_bytes).map_err(|e| {
        Refusal::new(
            Reason::TokenMalformed,
            format!("header is not valid JSON: {e}"),
        )
    })?;
    if header.crit.is_some() {
        return Err(Refusal::new(
            Reason::TokenMalformed,
            "header has a crit parameter, which mfagate does not understand",
        ));
    }
    if let Some(typ) = &header.typ {
        if !typ.eq_ignore_ascii_case("JWT") && !typ.eq_ignore_ascii_case("at+jwt") {
            return Err(Refusal::new(
                Reason::TokenTypeUnsupported,
                format!("header typ is {typ:?}; expected \"JWT\""),
            ));
        }
    }
    let alg = Algorithm::from_name(&header.alg)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| {
            Refusal::new(
                Reason::AlgorithmNotAllowed,
                format!(
                    "header alg is {:?}; the policy allows {}",
                    header.alg,
                    allowed
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let key = select(header.kid.as_deref(), alg)?;
    if s.is_empty() {
        return Err(Refusal::new(
            Reason::TokenMalformed,
            "the signature segment is empty",
        ));
    }
    let signature = b64(s, "signature")?;
    let payload = b64(p, "payload")?;
    let jws = Jws {
        alg,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload,
        signature,
    };
    Ok((jws, key))
}

/// Decodes header and payload without checking anything: for `inspect`.
pub(crate) fn decode_unverified(token: &str) -> Result<(serde_json::Value, Vec<u8>), Refusal> {
    let mut parts = token.split('.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return Err(Refusal::new(
            Reason::TokenMalformed,
            "not a dot-separated JWT",
        ));
    };
    let header: serde_json::Value = serde_json::from_slice(&b64(h, "header")?).map_err(|e| {
        Refusal::new(
            Reason::TokenMalformed,
            format!("header is not valid JSON: {e}"),
        )
    })?;
    Ok((header, b64(p, "payload")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn enc(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    const ALL: &[Algorithm] = &[Algorithm::RS256, Algorithm::HS256];

    fn any_key(_: Option<&str>, _: Algorithm) -> Result<usize, Refusal> {
        Ok(0)
    }

    #[test]
    fn refuses_wrong_segment_counts() {
        for t in ["a", "a.b", "a.b.c.d", ""] {
            let err = parse(t, 16384, ALL, any_key).unwrap_err();
            assert_eq!(err.reason, Reason::TokenMalformed, "{t}");
        }
    }

    #[test]
    fn refuses_alg_none_and_unpinned() {
        let t = format!("{}.{}.sig", enc(r#"{"alg":"none"}"#), enc("{}"));
        assert_eq!(
            parse(&t, 16384, ALL, any_key).unwrap_err().reason,
            Reason::AlgorithmNotAllowed
        );
        let t = format!("{}.{}.c2ln", enc(r#"{"alg":"PS256"}"#), enc("{}"));
        assert_eq!(
            parse(&t, 16384, ALL, any_key).unwrap_err().reason,
            Reason::AlgorithmNotAllowed
        );
    }

    #[test]
    fn refuses_duplicate_header_members_and_crit() {
        let t = format!(
            "{}.{}.c2ln",
            enc(r#"{"alg":"RS256","alg":"HS256"}"#),
            enc("{}")
        );
        assert_eq!(
            parse(&t, 16384, ALL, any_key).unwrap_err().reason,
            Reason::TokenMalformed
        );
        let t = format!(
            "{}.{}.c2ln",
            enc(r#"{"alg":"RS256","crit":["x"]}"#),
            enc("{}")
        );
        assert_eq!(
            parse(&t, 16384, ALL, any_key).unwrap_err().reason,
            Reason::TokenMalformed
        );
    }

    #[test]
    fn size_limit_comes_before_decoding() {
        let t = "x".repeat(20);
        assert_eq!(
            parse(&t, 10, ALL, any_key).unwrap_err().reason,
            Reason::TokenTooLarge
        );
    }

    #[test]
    fn keeps_signing_input_exact() {
        let t = format!("{}.{}.c2ln", enc(r#"{"alg":"RS256","kid":"k"}"#), enc("{}"));
        let mut seen = None;
        let (jws, _) = parse(&t, 16384, ALL, |kid, _| {
            seen = kid.map(str::to_owned);
            Ok(0)
        })
        .unwrap();
        assert_eq!(jws.signing_input, &t[..t.rfind('.').unwrap()]);
        assert_eq!(seen.as_deref(), Some("k"));
        assert_eq!(jws.signature, b"sig");
    }
}
