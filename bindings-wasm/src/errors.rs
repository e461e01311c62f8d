//! Errors: real `Error` objects of the package's classes, with `.code`,
//! `.hint`, `.line` and `.docUrl` (also `.doc_url`), all from the core's catalogue.

use js_sys::{Array, Function, Object, Reflect};
use mfagate::ErrorCode;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The error classes, registered by the package's entry module
/// (`MfagateError` and its `PolicyError`, `JwksError`, `UsageError`).
struct Classes {
    base: Function,
    policy: Function,
    key: Function,
    usage: Function,
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
}

/// Registers the error classes the module throws. Called once by the
/// package's entry module; not part of the public API.
#[wasm_bindgen(js_name = "__registerErrorClasses")]
pub fn register_error_classes(base: Function, policy: Function, key: Function, usage: Function) {
    CLASSES.with(|c| {
        *c.borrow_mut() = Some(Classes {
            base,
            policy,
            key,
            usage,
        })
    });
}

pub(crate) fn set(obj: &JsValue, k: &str, v: &JsValue) {
    // Setting a property on a fresh Error or plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(k), v);
}

/// A thrown error: an instance of the class for `family` when the entry
/// module registered them, else a plain `Error`; `.code`, `.hint`, `.line`
/// and `.docUrl` set either way.
pub(crate) fn js_error(
    family: &str,
    code: &str,
    message: &str,
    hint: &str,
    line: Option<usize>,
    doc_url: Option<String>,
) -> JsValue {
    let details = Object::new();
    let d: &JsValue = details.as_ref();
    set(d, "code", &JsValue::from_str(code));
    set(d, "hint", &JsValue::from_str(hint));
    set(
        d,
        "line",
        &line.map_or(JsValue::NULL, |l| JsValue::from_f64(l as f64)),
    );
    set(
        d,
        "docUrl",
        &doc_url.map_or(JsValue::NULL, |u| JsValue::from_str(&u)),
    );
    let built = CLASSES.with(|c| {
        c.borrow().as_ref().and_then(|c| {
            let class = match family {
                "policy" => &c.policy,
                "key" => &c.key,
                "usage" => &c.usage,
                _ => &c.base,
            };
            let args = Array::of2(&JsValue::from_str(message), d);
            Reflect::construct(class, &args).ok()
        })
    });
    match built {
        Some(e) => e,
        None => {
            let e: JsValue = js_sys::Error::new(message).into();
            for k in ["code", "hint", "line", "docUrl"] {
                if let Ok(v) = Reflect::get(d, &JsValue::from_str(k)) {
                    set(&e, k, &v);
                }
            }
            if let Ok(v) = Reflect::get(d, &JsValue::from_str("docUrl")) {
                set(&e, "doc_url", &v);
            }
            e
        }
    }
}

pub(crate) fn core_error(e: &mfagate::Error) -> JsValue {
    js_error(
        e.code.family(),
        e.code.as_str(),
        &e.message,
        &e.hint,
        e.line,
        Some(e.code.doc_url()),
    )
}

pub(crate) fn usage(message: impl AsRef<str>, hint: &str) -> JsValue {
    let code = ErrorCode::RequestInvalid;
    js_error(
        code.family(),
        code.as_str(),
        message.as_ref(),
        hint,
        None,
        Some(code.doc_url()),
    )
}

/// A failure of the host's crypto (`crypto_unavailable`, in the core's
/// catalogue).
pub(crate) fn crypto_error(message: impl AsRef<str>) -> JsValue {
    let code = ErrorCode::CryptoUnavailable;
    js_error(
        code.family(),
        code.as_str(),
        message.as_ref(),
        "run where WebCrypto (globalThis.crypto.subtle) exists: a browser page over https or 127.0.0.1, a worker, or Node 20+",
        None,
        Some(code.doc_url()),
    )
}
