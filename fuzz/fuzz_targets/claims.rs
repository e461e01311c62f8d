//! Any bytes as the claims of a verified token: claim types, kinds, roles,
//! MFA evidence, exceptions, on every kind of rule of two editions.
#![no_main]

#[path = "../common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mfagate::Request;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static GATES: OnceLock<Vec<mfagate::Gate>> = OnceLock::new();
    let gates = GATES.get_or_init(common::gates);
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(json) = std::str::from_utf8(rest) else { return };
    let Some(s) = common::setting(gates, sel) else { return };
    let req = Request::new(s.path, common::NOW).method(s.method);
    let d = s.gate.evaluate_claims_json(json, &req);
    common::check(s.gate, &d, &s.gate.evaluate_claims_json(json, &req));
});
