//! Values between JavaScript and the core: policy specs, JWK Sets and
//! requests (checked by the core). Decisions cross packed (`pack`).

use crate::errors::{core_error, set, usage};
use js_sys::{Array, Object, Reflect, JSON};
use mfagate::{ErrorCode, Field, Policy, RequestSpec};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// JSON text of a value given either as a string (taken as JSON text) or as
/// any other JSON-able value.
pub(crate) fn json_text(v: &JsValue, what: &str) -> Result<String, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(s);
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            usage(
                format!("{what} cannot be turned into JSON"),
                "pass a JSON string or a plain object",
            )
        })
}

/// A policy spec: a string is read by the core's one rule
/// (`Policy::from_spec_str`: a built-in name or JSON text; WebAssembly has
/// no files), an object is `{builtin|policy, overrides}`.
pub(crate) fn policy_from(spec: &JsValue) -> Result<Policy, JsValue> {
    let parsed = match spec.as_string() {
        Some(s) => Policy::from_spec_str(&s),
        None => {
            let text = json_text(spec, "the policy spec")?;
            mfagate::policy::parse_json(&text).and_then(|v| Policy::from_spec(&v))
        }
    };
    parsed.map_err(|e| core_error(&e))
}

pub(crate) fn key_set_from(jwks: &JsValue) -> Result<mfagate::KeySet, JsValue> {
    if jwks.is_undefined() || jwks.is_null() {
        return Ok(mfagate::KeySet::empty());
    }
    mfagate::KeySet::from_json(&json_text(jwks, "the JWK Set")?).map_err(|e| core_error(&e))
}

/// A request field read from the JS object, owned so that the core's
/// [`Field`] can borrow it. Every check is the core's (`RequestSpec::from_fields`).
pub(crate) enum Owned {
    Absent,
    Text(String),
    Bool(bool),
    Number(f64),
    Other(&'static str),
}

impl Owned {
    fn of(v: JsValue) -> Owned {
        if v.is_undefined() || v.is_null() {
            Owned::Absent
        } else if let Some(s) = v.as_string() {
            Owned::Text(s)
        } else if let Some(b) = v.as_bool() {
            Owned::Bool(b)
        } else if let Some(n) = v.as_f64() {
            Owned::Number(n)
        } else {
            Owned::Other(js_type(&v))
        }
    }

    pub(crate) fn field(&self) -> Field<'_> {
        match self {
            Owned::Absent => Field::Absent,
            Owned::Text(s) => Field::Text(s),
            Owned::Bool(b) => Field::Bool(*b),
            Owned::Number(n) => Field::Number(*n),
            Owned::Other(t) => Field::Other(t),
        }
    }
}

/// What a value is, as JavaScript names it, for messages.
pub(crate) fn js_type(v: &JsValue) -> &'static str {
    if v.is_undefined() {
        "undefined"
    } else if v.is_null() {
        "null"
    } else if v.is_string() {
        "a string"
    } else if v.as_bool().is_some() {
        "a boolean"
    } else if v.as_f64().is_some() {
        "a number"
    } else if v.is_function() {
        "a function"
    } else if v.is_symbol() {
        "a symbol"
    } else if v.is_bigint() {
        "a bigint"
    } else if Array::is_array(v) {
        "an array"
    } else {
        "an object"
    }
}

/// The request from a JS object: its own enumerable keys, read as they are,
/// then the core's one constructor with the host's clock for `now` (the
/// core has no clock on wasm32).
pub(crate) fn read_request(v: &JsValue) -> Result<RequestSpec, JsValue> {
    if !v.is_object() || v.is_function() || Array::is_array(v) {
        return Err(core_error(&RequestSpec::not_an_object(js_type(v))));
    }
    let fields = read_fields(v)?;
    let clock = || (js_sys::Date::now() / 1000.0).floor() as i64;
    RequestSpec::from_fields(
        fields.iter().map(|(k, f)| (k.as_str(), f.field())),
        Some(&clock),
    )
    .map_err(|e| core_error(&e))
}

/// Text that `TextEncoder` wrote: valid UTF-8, so this borrows (the lossy
/// reading is only a fallback; it is several times slower on wasm32).
pub(crate) fn utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The request as the package's JavaScript layer passes it when every key
/// is a request key with a value of a type the key can take: the strings
/// `method`, `path`, `host`, `authorization` and `token` as UTF-8 in `text`,
/// one after another, each with its byte length in `lens` (-1 when absent);
/// `now` and the two flags as they are. Any other request goes through
/// [`read_request`]. The checks are the core's, as there.
pub(crate) fn request_from_parts(
    text: &[u8],
    lens: [i32; 5],
    now: Option<f64>,
    mfa_registered: Option<bool>,
    validate_mfa: Option<bool>,
) -> Result<RequestSpec, JsValue> {
    let mut strs: [Option<std::borrow::Cow<'_, str>>; 5] = [None, None, None, None, None];
    let mut at = 0usize;
    for (slot, len) in strs.iter_mut().zip(lens) {
        let Ok(len) = usize::try_from(len) else {
            continue;
        };
        let bytes = at
            .checked_add(len)
            .and_then(|end| text.get(at..end))
            .ok_or_else(|| {
                usage(
                    "mfagate: the request's fields were passed with wrong lengths",
                    "report this: the package's JavaScript and WebAssembly do not match",
                )
            })?;
        *slot = Some(utf8(bytes));
        at += len;
    }
    fn text_field<'a>(s: &'a Option<std::borrow::Cow<'_, str>>) -> Field<'a> {
        s.as_deref().map_or(Field::Absent, Field::Text)
    }
    let fields = [
        ("method", text_field(&strs[0])),
        ("path", text_field(&strs[1])),
        ("host", text_field(&strs[2])),
        ("authorization", text_field(&strs[3])),
        ("token", text_field(&strs[4])),
        ("now", now.map_or(Field::Absent, Field::Number)),
        (
            "mfa_registered",
            mfa_registered.map_or(Field::Absent, Field::Bool),
        ),
        (
            "validate_mfa",
            validate_mfa.map_or(Field::Absent, Field::Bool),
        ),
    ];
    let clock = || (js_sys::Date::now() / 1000.0).floor() as i64;
    RequestSpec::from_fields(fields, Some(&clock)).map_err(|e| core_error(&e))
}

/// Each own enumerable key of a JS object, with its value read as it is.
pub(crate) fn read_fields(v: &JsValue) -> Result<Vec<(String, Owned)>, JsValue> {
    let keys = Object::keys(v.unchecked_ref::<Object>());
    let mut fields = Vec::with_capacity(keys.length() as usize);
    for k in keys.iter() {
        let value = Reflect::get(v, &k).map_err(|e| {
            core_error(&mfagate::Error::new(
                ErrorCode::RequestInvalid,
                format!(
                    "the request could not be read: {}",
                    crate::webcrypto::error_message(&e)
                ),
                "pass a plain object (see docs/bindings.md)",
            ))
        })?;
        fields.push((k.as_string().unwrap_or_default(), Owned::of(value)));
    }
    Ok(fields)
}

thread_local! {
    /// Plain objects, null for None, numbers (not BigInt) for integers: the
    /// core's JSON form, built directly (no JSON text in between).
    static PLAIN: serde_wasm_bindgen::Serializer =
        const { serde_wasm_bindgen::Serializer::json_compatible() };
}

pub(crate) fn plain<T: serde::Serialize + ?Sized>(v: &T) -> JsValue {
    PLAIN.with(|ser| v.serialize(ser)).unwrap_or_else(|e| {
        JsValue::from_str(&format!("mfagate: cannot convert to JavaScript: {e}"))
    })
}

pub(crate) fn serde_value(v: &serde_json::Value) -> JsValue {
    plain(v)
}

pub(crate) fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o: JsValue = Object::new().into();
    for (k, v) in pairs {
        set(&o, k, v);
    }
    o
}
