//! The whole decision on a really signed token: the input is its claims,
//! signed with the test HS256 key, then decided through `evaluate` (JWS,
//! signature, claims, kind, roles, MFA) on every kind of rule.
#![no_main]

#[path = "../common.rs"]
mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use mfagate::Request;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static GATES: OnceLock<Vec<mfagate::Gate>> = OnceLock::new();
    static KEY: OnceLock<aws_lc_rs::hmac::Key> = OnceLock::new();
    let gates = GATES.get_or_init(common::gates);
    let Some((&sel, data)) = data.split_first() else { return };
    let Some(s) = common::setting(gates, sel) else { return };
    let key = KEY.get_or_init(|| {
        let secret = URL_SAFE_NO_PAD.decode(common::HS_SECRET_B64.trim()).unwrap_or_default();
        aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret)
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"hs-1"}"#),
        URL_SAFE_NO_PAD.encode(data)
    );
    let tag = aws_lc_rs::hmac::sign(key, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let auth = format!("Bearer {token}");
    let req = Request::new(s.path, common::NOW).method(s.method).authorization(&auth);
    let d = s.gate.evaluate(&req);
    common::check(s.gate, &d, &s.gate.evaluate(&req));
    // The same claims, verified by the caller instead: the same decision
    // (a token past the size limit never reaches its claims).
    if let (Ok(json), false) = (std::str::from_utf8(data), d.reason == mfagate::Reason::TokenTooLarge) {
        let by_claims = s.gate.evaluate_claims_json(json, &req);
        assert_eq!(common::without_detail(&d), common::without_detail(&by_claims), "signed and verified-claims decisions differ");
    }
});
