//! The attack corpus (issue 11): tokens built to slip past a JWT check,
//! each with the reference that names the attack. Every one is refused with
//! a precise reason, or, where the attack is a decoy the gate must ignore
//! (a `jku`, an `x5c`), decided on the configured key alone.

use crate::fixtures::*;
use crate::mint::{b64, compact, sign, Keys, Sig, RSA_KID};
use base64::Engine;
use serde_json::json;

const API: &str = "/v1/customers";
const CUSTOMERS: &str = "/commerce/customers";
const RFC8725_ALG: &str = "RFC 8725 §3.1 (perform algorithm verification); OWASP JWT cheat sheet, \"none\" hashing algorithm";
const RFC8725_CONFUSION: &str = "RFC 8725 §2.1 and §3.1: an RSA public key used as an HMAC secret";
const RFC8725_HEADERS: &str =
    "RFC 8725 §3.10 (do not trust received claims); RFC 7515 §4.1.2-§4.1.6";
const DUPLICATES: &str = "RFC 7519 §4 (claim names MUST be unique; reject or take the last) and RFC 7515 §4 (header parameter names MUST be unique): mfagate rejects";
const CANONICAL: &str =
    "RFC 7515 §2 (base64url without padding) and RFC 4648 §3.5 (canonical encoding)";
const NUMERIC: &str = "RFC 7519 §2 (NumericDate: a JSON numeric value, non-integer allowed)";
const DEPTH: &str = "OWASP JWT cheat sheet (parser attacks): a depth bomb must neither crash the decoder nor be read as a claim; claims mfagate does not read are skipped iteratively (serde_json's IgnoredAny)";
const CONFUSABLE: &str =
    "Unicode TR #39 (confusables): claim values are compared exactly, as Entra issues them";

fn mfa_user() -> C {
    app_user(CONTOSO, Some(&["pwd", "mfa"]))
}

/// The RSA public key as PEM (SPKI): the other form a confused HS256
/// verifier is fed.
fn rsa_public_pem(keys: &Keys) -> Vec<u8> {
    let body = base64::engine::general_purpose::STANDARD.encode(keys.rsa_public_der());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
    .into_bytes()
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let h = header("RS256", Some(RSA_KID));
    let payload = mfa_user().value().to_string();
    let good = rs256(keys, &mfa_user());
    let sig_segment = good.rsplit('.').next().unwrap_or("").to_owned();
    let input = &good[..good.len() - sig_segment.len() - 1];
    let t = |c: C| rs256(keys, &c);
    let refused = |id: &str, source: &str, desc: &str, token: &str, reason: &str| {
        Case::new(id, source, desc)
            .api("GET", API, token)
            .expect(invalid(reason))
    };
    let rs_and_hs = pc_with("2020", json!({"token": {"algorithms": ["RS256", "HS256"]}}));

    // A signature segment whose last character carries non-zero unused
    // bits: it decodes to the same bytes in a lax decoder.
    let non_canonical = {
        let mut s = sig_segment.clone();
        let last = s.pop().unwrap_or('A');
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet
            .iter()
            .position(|&c| c as char == last)
            .unwrap_or(0);
        // 256 bytes = 341 chars + 1: the last char holds 2 bits, 4 unused.
        let tweaked = alphabet[(idx & !0xf) | ((idx + 1) & 0xf)] as char;
        s.push(tweaked);
        format!("{input}.{s}")
    };

    // exp spelt as written (serde_json would print 1767228600.0).
    let with_exp = |spelling: &str| {
        mfa_user()
            .with("exp", "__exp__")
            .value()
            .to_string()
            .replace("\"__exp__\"", spelling)
    };
    // Deep enough to exhaust a recursive decoder's stack (or its limit of
    // 128), within the 16 KiB token limit.
    let depth = 4000;
    let bomb = format!("{}{}", "[".repeat(depth), "]".repeat(depth));

    let mut v = Vec::new();
    for (spelling, id) in [
        ("None", "attack-alg-none-capitalised"),
        ("NONE", "attack-alg-none-upper"),
        ("nOnE", "attack-alg-none-mixed"),
        ("none ", "attack-alg-none-trailing-space"),
    ] {
        let token = format!(
            "{}.{}.",
            b64(format!(r#"{{"typ":"JWT","alg":"{spelling}"}}"#).as_bytes()),
            b64(payload.as_bytes())
        );
        v.push(refused(
            id,
            RFC8725_ALG,
            &format!("alg {spelling:?}, no signature"),
            &token,
            "algorithm_not_allowed",
        ));
    }
    v.extend([
        refused("attack-alg-trailing-space", RFC8725_ALG, "\"RS256 \" is not RS256: names are compared exactly", &compact(r#"{"typ":"JWT","alg":"RS256 ","kid":"rsa-1"}"#, &payload, Sig::Rs256(&keys.rsa)), "algorithm_not_allowed"),
        refused("attack-alg-array", RFC8725_ALG, "alg as an array", &compact(r#"{"typ":"JWT","alg":["RS256"],"kid":"rsa-1"}"#, &payload, Sig::Rs256(&keys.rsa)), "token_malformed"),
        Case::new("attack-hs256-with-rsa-pem", RFC8725_CONFUSION, "HS256 signed with the RSA public key as PEM text, HS256 pinned too: the RSA key never verifies HMAC")
            .policy(rs_and_hs.clone())
            .api("GET", API, &sign(&header("HS256", Some(RSA_KID)), &mfa_user().value(), Sig::Hs256(&rsa_public_pem(keys))))
            .expect(invalid("key_algorithm_mismatch")),
        refused("attack-hs256-with-rsa-pem-rs-pinned", RFC8725_CONFUSION, "The same token where only RS256 is pinned", &sign(&header("HS256", Some(RSA_KID)), &mfa_user().value(), Sig::Hs256(&rsa_public_pem(keys))), "algorithm_not_allowed"),
        Case::new("attack-x5c-ignored", RFC8725_HEADERS, "An x5c certificate chain in the header is ignored: the configured key verifies")
            .api("GET", API, &sign(&json!({"typ": "JWT", "alg": "RS256", "kid": RSA_KID, "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"], "x5t": "abc"}), &mfa_user().value(), Sig::Rs256(&keys.rsa)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        refused("attack-jwk-with-our-kid", RFC8725_HEADERS, "The attacker's own key embedded as jwk, under our kid: verified with our key, so refused", &sign(&json!({"typ": "JWT", "alg": "RS256", "kid": RSA_KID, "jwk": {"kty": "RSA", "kid": RSA_KID, "n": "AQAB", "e": "AQAB"}}), &mfa_user().value(), Sig::Rs256(&keys.rotated)), "signature_invalid"),
        refused("attack-x5u-with-our-kid", RFC8725_HEADERS, "An x5u naming the attacker's certificate, signed with the attacker's key: never fetched, so refused", &sign(&json!({"typ": "JWT", "alg": "RS256", "kid": RSA_KID, "x5u": "https://attacker.example/cert.pem"}), &mfa_user().value(), Sig::Rs256(&keys.rotated)), "signature_invalid"),
        refused("attack-header-duplicate-escaped", DUPLICATES, "alg twice, once spelt with a JSON escape (\\u0061lg): refused, never one picked", &compact(r#"{"typ":"JWT","alg":"RS256","\u0061lg":"none","kid":"rsa-1"}"#, &payload, Sig::Rs256(&keys.rsa)), "token_malformed"),
        refused("attack-claim-duplicate-escaped-tid", DUPLICATES, "tid twice, the second escaped (\\u0074id) and naming another tenant", &compact(&h.to_string(), &payload.replacen('{', &format!("{{\"\\u0074id\":\"{FABRIKAM}\","), 1), Sig::Rs256(&keys.rsa)), "claim_invalid"),
        refused("attack-non-canonical-base64-signature", CANONICAL, "The signature's last character with non-zero unused bits: a lax decoder reads the same bytes; refused", &non_canonical, "token_malformed"),
        refused("attack-payload-trailing-garbage", "RFC 8259 §2 (one JSON text); RFC 7519 §7.2", "The payload is a claims object followed by more text", &compact(&h.to_string(), &format!("{payload}x"), Sig::Rs256(&keys.rsa)), "token_malformed"),
        refused("attack-payload-second-object", "RFC 8259 §2 (one JSON text); RFC 7519 §7.2", "The payload is two claims objects (the second with more rights)", &compact(&h.to_string(), &format!("{payload}{{\"amr\":[\"mfa\"]}}"), Sig::Rs256(&keys.rsa)), "token_malformed"),
        Case::new("attack-depth-bomb-in-claims", DEPTH, &format!("A signed token with an unread claim nested {depth} arrays deep: skipped without recursion, decided normally"))
            .api("GET", API, &compact(&h.to_string(), &payload.replacen('{', &format!("{{\"x\":{bomb},"), 1), Sig::Rs256(&keys.rsa)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("attack-depth-bomb-in-header", DEPTH, &format!("A header parameter nested {depth} arrays deep: skipped without recursion, decided normally"))
            .api("GET", API, &compact(&format!(r#"{{"typ":"JWT","alg":"RS256","kid":"rsa-1","x":{bomb}}}"#), &payload, Sig::Rs256(&keys.rsa)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        refused("attack-depth-bomb-in-amr", DEPTH, &format!("amr nested {depth} arrays deep: amr is an array of strings"), &compact(&h.to_string(), &payload.replacen("\"amr\":[\"pwd\",\"mfa\"]", &format!("\"amr\":{bomb}"), 1), Sig::Rs256(&keys.rsa)), "claim_invalid"),
        refused("attack-depth-bomb-unsigned", DEPTH, "The same depth in a token signed with another key: refused at the signature, before any claim is read", &compact(&h.to_string(), &payload.replacen('{', &format!("{{\"x\":{bomb},"), 1), Sig::Rs256(&keys.rotated)), "signature_invalid"),
        refused("attack-nbf-as-string", NUMERIC, "nbf as a string of digits", &t(mfa_user().with("nbf", (NOW - 60).to_string())), "claim_invalid"),
        refused("attack-iat-as-string", NUMERIC, "iat as a string of digits", &t(mfa_user().with("iat", (NOW - 60).to_string())), "claim_invalid"),
        Case::new("attack-exp-exponent-future", NUMERIC, "exp in exponent notation (1.7672286e9, 50 minutes ahead): a NumericDate like any other, allowed")
            .api("GET", API, &compact(&h.to_string(), &with_exp("1.7672286e9"), Sig::Rs256(&keys.rsa)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        refused("attack-exp-exponent-past", NUMERIC, "exp in exponent notation, an hour ago", &compact(&h.to_string(), &with_exp("1.767222e9"), Sig::Rs256(&keys.rsa)), "token_expired"),
        refused("attack-exp-huge", NUMERIC, "exp 1e300: not a usable time", &t(mfa_user().with("exp", 1e300)), "claim_invalid"),
        refused("attack-exp-negative", NUMERIC, "exp before 1970", &t(mfa_user().with("exp", -1)), "token_expired"),
        refused("attack-nbf-huge", NUMERIC, "nbf 1e300", &t(mfa_user().with("nbf", 1e300)), "claim_invalid"),
        Case::new("attack-amr-cyrillic-a", CONFUSABLE, "amr \"mfа\" with a Cyrillic а (U+0430): not \"mfa\"")
            .api("GET", API, &t(app_user(CONTOSO, Some(&["pwd", "mf\u{0430}"]))))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("attack-amr-uppercase", CONFUSABLE, "amr \"MFA\": Entra writes \"mfa\"; values are case-sensitive")
            .api("GET", API, &t(app_user(CONTOSO, Some(&["pwd", "MFA"]))))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("attack-amr-fullwidth", CONFUSABLE, "amr \"ｍｆａ\" in fullwidth letters")
            .api("GET", API, &t(app_user(CONTOSO, Some(&["pwd", "\u{ff4d}\u{ff46}\u{ff41}"]))))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("attack-group-confusable", CONFUSABLE, "The admin agents' group ID with a Cyrillic а in place of an a: no role")
            .page(CUSTOMERS, &t(id_token(CONTOSO, Some(&["pwd", "mfa"]), &[&G_ADMIN.replacen('a', "\u{0430}", 1)], &[])))
            .expect(forbidden("role_not_permitted", "id_token", "customers")),
    ]);
    v
}
