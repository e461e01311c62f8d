//! The shared request checks (tests/requests/checks.json), as Rust reads a
//! request's JSON form. Every binding runs the same file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfagate::{ErrorCode, RequestSpec};
use serde_json::Value;

#[test]
fn shared_request_checks() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/requests/checks.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut failed = Vec::new();
    for c in cases {
        let id = c["id"].as_str().unwrap();
        let got = RequestSpec::from_json_value(&c["request"], Some(&|| 1_767_225_600));
        match (c["error"].as_str(), got) {
            (None, Ok(_)) => {}
            (None, Err(e)) => failed.push(format!("{id}: refused: {e}")),
            (Some(want), Ok(_)) => failed.push(format!("{id}: accepted, wanted {want:?}")),
            (Some(want), Err(e)) => {
                let hint_ok = c["hint"].as_str().is_none_or(|h| e.hint.contains(h));
                if e.code != ErrorCode::RequestInvalid || !e.message.contains(want) || !hint_ok {
                    failed.push(format!("{id}: got {e}, wanted {want:?} / {:?}", c["hint"]));
                }
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
