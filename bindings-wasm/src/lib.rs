//! mfagate for WebAssembly: the core gate, with RS256/PS256/ES256 signatures
//! verified by the host's WebCrypto (`crypto.subtle`) through the core's
//! two-phase API, and HS256 verified in the module.
//!
//! Thin by design: conversion and idiom only. Every rule, reason code and
//! message comes from the `mfagate` crate. Requests cross as their few
//! strings (`js/gate.js` reads the object, the core checks it) and decisions
//! as one packed string (`pack`) that `js/gate.js` reads into exactly the
//! core's JSON form, spelled as in every runtime.

mod cache;
mod convert;
mod errors;
mod feed;
mod gate;
mod pack;
mod webcrypto;

pub use cache::TokenCache;
pub use errors::register_error_classes;
pub use feed::{Engine, KeyFeed};
pub use gate::Gate;

use convert::{json_text, obj, policy_from, serde_value};
use errors::core_error;
use js_sys::Array;
use wasm_bindgen::prelude::*;
use webcrypto::{capture_webcrypto, WEBCRYPTO};

/// Runs once, when the module is instantiated (on `require`/`import` in Node
/// and with bundlers, in `init()`/`initSync()` for the web build).
#[wasm_bindgen(start)]
pub fn start() {
    WEBCRYPTO.with(|w| {
        w.get_or_init(capture_webcrypto);
    });
}

/// Checks a JWK Set; returns `{keys, kids, skipped}` or throws `JwksError`.
#[wasm_bindgen(js_name = parseJwks)]
pub fn parse_jwks(jwks: &JsValue) -> Result<JsValue, JsValue> {
    let set =
        mfagate::KeySet::from_json(&json_text(jwks, "the JWK Set")?).map_err(|e| core_error(&e))?;
    let kids: Array = set
        .keys()
        .iter()
        .filter_map(|k| k.kid.as_deref().map(JsValue::from_str))
        .collect();
    let skipped: Array = set.skipped().iter().map(|s| JsValue::from_str(s)).collect();
    Ok(obj(&[
        ("keys", JsValue::from_f64(set.len() as f64)),
        ("kids", kids.into()),
        ("skipped", skipped.into()),
    ]))
}

/// Explains a token without verifying its signature (for the inspector):
/// its kind, MFA evidence, roles, and what every rule of the policy would
/// decide. Resolves to `{inspection, refusal}`: `refusal` (`{reason, detail,
/// message}`) when the token cannot be read at all. Throws `PolicyError`.
#[wasm_bindgen]
pub fn inspect(token: &str, policy: &JsValue, now: Option<f64>) -> Result<JsValue, JsValue> {
    let policy = policy_from(policy)?;
    let now = now.filter(|n| n.is_finite()).map(|n| n.floor() as i64);
    let (inspection, refusal) = match mfagate::inspect::inspect(token, &policy, now) {
        Ok(i) => (
            serde_json::to_value(&i).unwrap_or(serde_json::Value::Null),
            serde_json::Value::Null,
        ),
        Err(r) => {
            let msg = mfagate::messages::message(r.reason, false);
            let refusal = serde_json::json!({"reason": r.reason.as_str(), "detail": r.detail, "message": msg});
            (serde_json::Value::Null, refusal)
        }
    };
    Ok(serde_value(
        &serde_json::json!({"inspection": inspection, "refusal": refusal}),
    ))
}

/// `sessionCookie(cookieHeader, name)`: the value of the session cookie
/// `name`, or null; several cookies of that name come back joined with ", "
/// (the gate then refuses them as `credential_ambiguous`).
#[wasm_bindgen(js_name = sessionCookie)]
pub fn session_cookie(cookie_header: Option<String>, name: &str) -> Option<String> {
    mfagate::session_cookie(cookie_header.as_deref().unwrap_or(""), name)
}

/// `validateMfaHeader(value)`: Partner Center's `ValidateMfa` request
/// header as the request's `validate_mfa` (`true` in any case, spaces
/// ignored, is true; another value is false; no header is undefined).
#[wasm_bindgen(js_name = validateMfaHeader)]
pub fn validate_mfa_header(value: Option<String>) -> Option<bool> {
    mfagate::validate_mfa_header(value.as_deref())
}

/// The built-in policy names.
#[wasm_bindgen(js_name = builtinPolicies)]
pub fn builtin_policies() -> Array {
    mfagate::BUILTIN_NAMES
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect()
}

/// The package version (the core's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
