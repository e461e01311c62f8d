//! Any bytes as a bearer token or a session token: JWS parsing, key
//! selection and every refusal before the signature. Beyond public routes,
//! only a token a key of the set really signed may pass.
#![no_main]

#[path = "../common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mfagate::{Outcome, Reason, Request};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static GATES: OnceLock<Vec<mfagate::Gate>> = OnceLock::new();
    let gates = GATES.get_or_init(common::gates);
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Some(s) = common::setting(gates, sel) else { return };
    let auth = format!("Bearer {text}");
    let req = Request::new(s.path, common::NOW).method(s.method);
    let req = if s.session { req.token(text) } else { req.authorization(&auth) };
    let d = s.gate.evaluate(&req);
    common::check(s.gate, &d, &s.gate.evaluate(&req));
    if d.outcome == Outcome::Allow && d.reason != Reason::PublicRoute {
        assert!(common::independently_verified(text.trim()), "an unsigned token passed: {d:?}");
    }
});
