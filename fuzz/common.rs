//! What every target shares: the gates under test and the properties every
//! decision must hold, whatever the input.
#![allow(dead_code)]

use mfagate::{Decision, Gate, KeySet, Outcome, Policy, Reason, TokenKind};

pub const NOW: i64 = 1_767_225_600;
pub const PARTNER: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
pub const ADMINS: &str = "a1a1a1a1-0000-4000-8000-000000000001";
pub const CLIENT: &str = "23ec45a3-5127-4185-9eff-c8887839e6ab";
pub const HS_SECRET_B64: &str = include_str!("../tests/keys/hs256-secret.b64url");
const JWKS: &str = include_str!("../tests/keys/jwks.json");

/// Paths of every kind of rule: the API, role-gated pages, the 2026
/// dashboard, the default, and spellings routers read differently.
pub const PATHS: [&str; 8] = [
    "/v1/customers",
    "/commerce/customers",
    "/dashboard/billing/invoices",
    "/dashboard/overview",
    "/dashboard/support/csp/customers/1",
    "/",
    "/V1/Customers",
    "/commerce%2Fcustomers",
];

fn deployment() -> serde_json::Value {
    serde_json::json!({
        "token": {"audiences": ["https://api.partnercenter.microsoft.com", CLIENT],
                  "partner_tenants": [PARTNER], "algorithms": ["RS256", "ES256", "HS256"]},
        "roles": {"groups": {"admin_agent": [ADMINS]}},
        "exceptions": [{"tenant": PARTNER, "user": "svc@contoso.com", "reason": "third_party_mfa_not_recognized",
                        "expires": "2027-01-01T00:00:00Z", "reference": "fuzz"}]
    })
}

/// The gates every target decides with: the 2020 and 2026 editions.
pub fn gates() -> Vec<Gate> {
    ["partner-center-2020", "partner-center-2026"]
        .iter()
        .filter_map(|name| {
            let p = Policy::builtin(name).ok()?.with_overrides(&deployment()).ok()?;
            Some(Gate::new(p, KeySet::from_json(JWKS).ok()?))
        })
        .collect()
}

/// One decision's setting, from the input's first byte: which gate, which
/// path, which method. Choosing per input (rather than trying every
/// setting each time) keeps thousands of executions a second.
pub struct Setting<'g> {
    pub gate: &'g Gate,
    pub path: &'static str,
    pub method: &'static str,
    /// For the token target: the token as a session cookie, not a header.
    pub session: bool,
}

pub fn setting(gates: &[Gate], selector: u8) -> Option<Setting<'_>> {
    const METHODS: [&str; 4] = ["GET", "HEAD", "POST", "OPTIONS"];
    let gate = gates.get(usize::from(selector & 1))?;
    Some(Setting {
        gate,
        path: PATHS[usize::from(selector >> 1) % PATHS.len()],
        method: METHODS[usize::from(selector >> 4) % METHODS.len()],
        session: selector & 0x40 != 0,
    })
}

/// A decision's JSON form without `detail` (words for logs, which may name
/// a different first problem on two paths to the same refusal).
pub fn without_detail(d: &Decision) -> serde_json::Value {
    let mut v = d.to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("detail");
    }
    v
}

/// Whether `token` is signed by a key of the test set, checked without the
/// gate: its own base64, JSON and aws-lc calls. An allow on a rule that
/// asks for a credential needs this to be true.
pub fn independently_verified(token: &str) -> bool {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(header), Ok(sig)) = (URL_SAFE_NO_PAD.decode(h), URL_SAFE_NO_PAD.decode(s)) else {
        return false;
    };
    // Only `alg`: the rest is skipped (iteratively: headers may be deep).
    #[derive(serde::Deserialize)]
    struct Alg {
        alg: String,
    }
    let Ok(header) = serde_json::from_slice::<Alg>(&header) else { return false };
    let input = format!("{h}.{p}");
    let jwks: serde_json::Value = serde_json::from_str(JWKS).unwrap_or_default();
    let member = |kid: &str, m: &str| -> Vec<u8> {
        jwks["keys"]
            .as_array()
            .and_then(|ks| ks.iter().find(|k| k["kid"] == kid))
            .and_then(|k| k[m].as_str())
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .unwrap_or_default()
    };
    match Some(header.alg.as_str()) {
        Some("RS256") => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, include_bytes!("../tests/keys/rsa-signing-1.pub.der"))
            .verify(input.as_bytes(), &sig)
            .is_ok(),
        Some("ES256") => {
            let mut point = vec![4u8];
            point.extend(member("ec-1", "x"));
            point.extend(member("ec-1", "y"));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).verify(input.as_bytes(), &sig).is_ok()
        }
        Some("HS256") => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &member("hs-1", "k"));
            aws_lc_rs::hmac::verify(&key, input.as_bytes(), &sig).is_ok()
        }
        _ => false,
    }
}

/// The properties of a decision that hold for any input. Panics (which
/// libFuzzer reports) when one does not.
pub fn check(gate: &Gate, d: &Decision, again: &Decision) {
    assert_eq!(d.to_value(), again.to_value(), "the same input twice gave two decisions");
    assert_eq!(d.is_allowed(), d.http.status == 200, "allow is exactly a 200: {d:?}");
    if d.outcome != Outcome::Allow {
        return;
    }
    let rule = d
        .rule
        .as_deref()
        .and_then(|id| gate.policy().rules().iter().find(|r| &*r.id == id));
    let Some(rule) = rule else {
        panic!("an allow names no rule of the policy: {d:?}");
    };
    if rule.public {
        assert_eq!(d.reason, Reason::PublicRoute, "{d:?}");
        return;
    }
    let kind = d.token_kind.unwrap_or(TokenKind::Unrecognized);
    assert_ne!(kind, TokenKind::Unrecognized, "an unrecognized token was allowed: {d:?}");
    let proved = matches!(d.mfa.evidence, Some("amr" | "federated" | "acrs"));
    if kind == TokenKind::DelegatedAdmin {
        assert!(proved, "a delegated admin without MFA evidence was allowed: {d:?}");
    }
    if rule.mfa && kind.is_user() {
        let excepted = d.reason == Reason::ExceptionApplied && d.exception.is_some();
        assert!(proved || excepted, "a user without MFA evidence or exception passed an MFA rule: {d:?}");
    }
    if d.reason == Reason::AppOnlyExempt {
        assert_eq!(kind, TokenKind::AppOnly, "{d:?}");
    }
    if !rule.roles.is_empty() {
        assert!(d.roles.intersects(rule.roles), "a role-gated rule allowed without its roles: {d:?}");
    }
}
