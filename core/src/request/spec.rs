//! The owned request every binding builds, with the one set of checks and
//! messages for what a caller may pass.
//!
//! Bindings hand over each field exactly as their runtime received it
//! ([`Field`]); nothing is checked or defaulted before this module sees it,
//! so a misspelt key, a wrong type or a millisecond clock reads the same in
//! Python, Node, WASM and the conformance vectors.

use crate::{Error, ErrorCode, Request};

/// The request keys, spelled the same in every runtime and in the vectors.
pub const REQUEST_KEYS: [&str; 8] = [
    "method",
    "path",
    "host",
    "authorization",
    "token",
    "now",
    "mfa_registered",
    "validate_mfa",
];

/// The largest `now` accepted: 99,999,999,999 seconds is the year 5138, so
/// any millisecond clock of this era (about 1.8e12) lands above it and is
/// refused with a hint instead of being read as a date in the far future.
pub const NOW_MAX: i64 = 99_999_999_999;

const HINT: &str = "a request is {path, method?, host?, authorization?, token?, now?, \
mfa_registered?, validate_mfa?} (see docs/bindings.md)";

/// One request field as the host runtime handed it over, before any check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    /// Not given, `None`, `null` or `undefined`: the key's default.
    Absent,
    /// A string.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
    /// An integer (Python `int`; one beyond `i64` comes as [`Field::Number`]).
    Integer(i64),
    /// A floating-point number (every JavaScript number).
    Number(f64),
    /// Any other value, named the way its runtime names its type, with an
    /// article (`"a list"`, `"an object"`): refused with that name.
    Other(&'a str),
}

/// An owned request: what conformance vectors and bindings build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestSpec {
    /// HTTP method; `GET` when not given.
    pub method: String,
    /// The request path, as the server received it.
    pub path: String,
    /// The Host header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The Authorization header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// A raw session token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Unix seconds.
    pub now: i64,
    /// Whether the user has an MFA method registered, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_registered: Option<bool>,
    /// The request's `ValidateMfa` header asked for `isMfaCompliant`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate_mfa: Option<bool>,
}

fn invalid(message: String, hint: &str) -> Error {
    Error::new(ErrorCode::RequestInvalid, message, hint)
}

fn kind(f: &Field<'_>) -> &'static str {
    match f {
        Field::Absent => "absent",
        Field::Text(_) => "a string",
        Field::Bool(_) => "a boolean",
        Field::Integer(_) | Field::Number(_) => "a number",
        Field::Other(_) => "another type",
    }
}

pub(crate) fn type_name<'a>(f: &Field<'a>) -> &'a str {
    match f {
        Field::Other(name) => name,
        other => kind(other),
    }
}

fn text(key: &str, f: Field<'_>) -> Result<Option<String>, Error> {
    match f {
        Field::Absent => Ok(None),
        Field::Text(s) => Ok(Some(s.to_owned())),
        other => Err(invalid(
            format!(
                "request.{key} must be a string or absent, not {}",
                type_name(&other)
            ),
            HINT,
        )),
    }
}

fn flag(key: &str, f: Field<'_>) -> Result<Option<bool>, Error> {
    match f {
        Field::Absent => Ok(None),
        Field::Bool(b) => Ok(Some(b)),
        other => Err(invalid(
            format!(
                "request.{key} must be a boolean or absent, not {}",
                type_name(&other)
            ),
            "pass true, false, or leave it out when unknown",
        )),
    }
}

const NOW_HINT: &str = "pass whole Unix seconds (Python: int(time.time()); \
JavaScript: Math.floor(Date.now() / 1000)), or leave now out for the system clock";

fn seconds(n: i64) -> Result<i64, Error> {
    if n < 0 {
        return Err(invalid(
            format!("request.now is {n}, before 1970: it must be Unix seconds from 0 to {NOW_MAX}"),
            NOW_HINT,
        ));
    }
    if n > NOW_MAX {
        let unit = if n / 1000 <= NOW_MAX {
            "milliseconds"
        } else if n / 1_000_000 <= NOW_MAX {
            "microseconds"
        } else {
            "not a time"
        };
        let message = if unit == "not a time" {
            format!("request.now is {n}, beyond Unix seconds (at most {NOW_MAX})")
        } else {
            format!("request.now is {n}, which looks like {unit}, not Unix seconds")
        };
        return Err(invalid(message, NOW_HINT));
    }
    Ok(n)
}

fn now_of(f: Field<'_>, clock: Option<&dyn Fn() -> i64>) -> Result<i64, Error> {
    match f {
        Field::Absent => match clock {
            Some(c) => Ok(c()),
            None => Err(invalid(
                "request.now is required here".into(),
                "give now as Unix seconds (conformance vectors always do)",
            )),
        },
        Field::Integer(n) => seconds(n),
        // Every JavaScript number is a double; a whole one within i64 is an
        // integer. 2^63 itself is not representable in i64, hence `<`.
        Field::Number(x)
            if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.223_372_036_854_775e18 =>
        {
            seconds(x as i64)
        }
        Field::Number(x) if x.is_finite() && x.fract() == 0.0 => Err(invalid(
            format!("request.now is {x}, beyond Unix seconds (at most {NOW_MAX})"),
            NOW_HINT,
        )),
        Field::Number(x) => Err(invalid(
            format!("request.now must be whole Unix seconds, not {x}"),
            NOW_HINT,
        )),
        other => Err(invalid(
            format!(
                "request.now must be an integer (Unix seconds), not {}",
                type_name(&other)
            ),
            NOW_HINT,
        )),
    }
}

/// `mfaRegistered` → `mfa_registered`, for the hint on a camelCase key.
fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn unknown_key(key: &str) -> Error {
    let s = snake(key);
    let lower = key.to_ascii_lowercase();
    let near = REQUEST_KEYS
        .iter()
        .find(|k| **k == s || **k == lower || k.replace('_', "") == lower.replace(['_', '-'], ""));
    let hint = match near {
        Some(k) => {
            format!("the request key is `{k}`: keys are snake_case, the same in every runtime")
        }
        None => format!("the keys are {}", REQUEST_KEYS.join(", ")),
    };
    invalid(format!("unknown request key {key:?}"), &hint)
}

impl RequestSpec {
    /// Builds a request from the fields a binding received, in any order.
    /// `clock` gives `now` when the caller left it out; with `None`, `now`
    /// is required. Every check and message is here: an unknown key, a
    /// value of the wrong type, a missing `path`, a `now` out of range or in
    /// milliseconds are refused with [`ErrorCode::RequestInvalid`].
    pub fn from_fields<'a, I>(
        fields: I,
        clock: Option<&dyn Fn() -> i64>,
    ) -> Result<RequestSpec, Error>
    where
        I: IntoIterator<Item = (&'a str, Field<'a>)>,
    {
        let mut method = None;
        let mut path = None;
        let mut host = None;
        let mut authorization = None;
        let mut token = None;
        let mut now = Field::Absent;
        let mut mfa_registered = None;
        let mut validate_mfa = None;
        for (key, value) in fields {
            match key {
                "method" => method = text(key, value)?,
                "path" => {
                    path = match value {
                        Field::Text(s) => Some(s.to_owned()),
                        Field::Absent => None,
                        other => {
                            return Err(invalid(
                                format!("request.path must be a string, not {}", type_name(&other)),
                                HINT,
                            ))
                        }
                    }
                }
                "host" => host = text(key, value)?,
                "authorization" => authorization = text(key, value)?,
                "token" => token = text(key, value)?,
                "now" => now = value,
                "mfa_registered" => mfa_registered = flag(key, value)?,
                "validate_mfa" => validate_mfa = flag(key, value)?,
                other => return Err(unknown_key(other)),
            }
        }
        let Some(path) = path else {
            return Err(invalid("request.path is required".into(), HINT));
        };
        Ok(RequestSpec {
            method: method.unwrap_or_else(|| "GET".to_owned()),
            path,
            host,
            authorization,
            token,
            now: now_of(now, clock)?,
            mfa_registered,
            validate_mfa,
        })
    }

    /// Builds a request from its JSON form (an object with the request
    /// keys), with the checks of [`RequestSpec::from_fields`].
    pub fn from_json_value(
        value: &serde_json::Value,
        clock: Option<&dyn Fn() -> i64>,
    ) -> Result<RequestSpec, Error> {
        use serde_json::Value;
        let Value::Object(map) = value else {
            return Err(RequestSpec::not_an_object(json_type(value)));
        };
        let fields = map.iter().map(|(k, v)| {
            let f = match v {
                Value::Null => Field::Absent,
                Value::String(s) => Field::Text(s),
                Value::Bool(b) => Field::Bool(*b),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => Field::Integer(i),
                    None => Field::Number(n.as_f64().unwrap_or(f64::NAN)),
                },
                Value::Array(_) => Field::Other("an array"),
                Value::Object(_) => Field::Other("an object"),
            };
            (k.as_str(), f)
        });
        RequestSpec::from_fields(fields, clock)
    }

    /// The refusal of a request that is not an object at all, with the
    /// runtime's name of what it was (`"a string"`, `"null"`).
    pub fn not_an_object(type_name: &str) -> Error {
        invalid(
            format!("a request must be an object, not {type_name}"),
            HINT,
        )
    }

    /// The borrowed request the gate decides on.
    /// An owned copy of `req` (a pending two-phase step keeps its request).
    pub fn from_request(req: &Request<'_>) -> RequestSpec {
        RequestSpec {
            method: req.method.to_owned(),
            path: req.path.to_owned(),
            host: req.host.map(str::to_owned),
            authorization: req.authorization.map(str::to_owned),
            token: req.token.map(str::to_owned),
            now: req.now,
            mfa_registered: req.mfa_registered,
            validate_mfa: req.validate_mfa,
        }
    }

    /// The request, borrowed from this spec.
    pub fn as_request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            host: self.host.as_deref(),
            authorization: self.authorization.as_deref(),
            token: self.token.as_deref(),
            now: self.now,
            mfa_registered: self.mfa_registered,
            validate_mfa: self.validate_mfa,
        }
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Conformance vectors spell requests in JSON; they go through the same
/// checks, with `now` required.
impl<'de> serde::Deserialize<'de> for RequestSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        RequestSpec::from_json_value(&v, None).map_err(serde::de::Error::custom)
    }
}

/// Reads the `ValidateMfa` request header Partner Center defines for the
/// 2026 rules: `true` (any case, surrounding spaces ignored) asks for
/// `isMfaCompliant`; anything else, or no header, does not.
pub fn validate_mfa_header(value: Option<&str>) -> Option<bool> {
    value.map(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::{Field, RequestSpec, NOW_MAX};
    use crate::ErrorCode;

    fn build(fields: &[(&str, Field<'_>)]) -> Result<RequestSpec, crate::Error> {
        RequestSpec::from_fields(fields.iter().copied(), Some(&|| 1_767_225_600))
    }

    #[test]
    fn defaults_and_clock() {
        let r = build(&[("path", Field::Text("/v1/customers"))]).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.now, 1_767_225_600);
        assert_eq!(r.validate_mfa, None);
        let none = RequestSpec::from_fields([("path", Field::Text("/"))], None).unwrap_err();
        assert!(none.message.contains("now is required"), "{none}");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_right_spelling() {
        let e = build(&[
            ("path", Field::Text("/")),
            ("mfaRegistered", Field::Bool(true)),
        ])
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::RequestInvalid);
        assert!(e.message.contains("mfaRegistered"), "{e}");
        assert!(e.hint.contains("`mfa_registered`"), "{}", e.hint);
        let e = build(&[
            ("path", Field::Text("/")),
            ("ValidateMfa", Field::Bool(true)),
        ])
        .unwrap_err();
        assert!(e.hint.contains("`validate_mfa`"), "{}", e.hint);
        let e = build(&[("path", Field::Text("/")), ("cookie", Field::Text("x"))]).unwrap_err();
        assert!(e.hint.contains("method, path"), "{}", e.hint);
    }

    #[test]
    fn now_in_seconds_only() {
        let ms = build(&[
            ("path", Field::Text("/")),
            ("now", Field::Number(1_767_225_600_123.0)),
        ])
        .unwrap_err();
        assert!(ms.message.contains("milliseconds"), "{ms}");
        let us = build(&[
            ("path", Field::Text("/")),
            ("now", Field::Integer(1_767_225_600_123_456)),
        ])
        .unwrap_err();
        assert!(us.message.contains("microseconds"), "{us}");
        let neg = build(&[("path", Field::Text("/")), ("now", Field::Integer(-1))]).unwrap_err();
        assert!(neg.message.contains("before 1970"), "{neg}");
        let frac = build(&[("path", Field::Text("/")), ("now", Field::Number(1.5))]).unwrap_err();
        assert!(frac.message.contains("whole"), "{frac}");
        let nan =
            build(&[("path", Field::Text("/")), ("now", Field::Number(f64::NAN))]).unwrap_err();
        assert_eq!(nan.code, ErrorCode::RequestInvalid);
        let huge = build(&[("path", Field::Text("/")), ("now", Field::Number(1e300))]).unwrap_err();
        assert!(huge.message.contains("beyond"), "{huge}");
        let b = build(&[("path", Field::Text("/")), ("now", Field::Bool(true))]).unwrap_err();
        assert!(b.message.contains("boolean"), "{b}");
        let edge = build(&[("path", Field::Text("/")), ("now", Field::Integer(NOW_MAX))]).unwrap();
        assert_eq!(edge.now, NOW_MAX);
        assert!(build(&[
            ("path", Field::Text("/")),
            ("now", Field::Integer(NOW_MAX + 1))
        ])
        .is_err());
        let js = build(&[
            ("path", Field::Text("/")),
            ("now", Field::Number(1_767_225_600.0)),
        ])
        .unwrap();
        assert_eq!(js.now, 1_767_225_600);
    }

    #[test]
    fn types_are_named() {
        let e = build(&[("path", Field::Other("a list"))]).unwrap_err();
        assert!(
            e.message.contains("path must be a string, not a list"),
            "{e}"
        );
        let e = build(&[("token", Field::Integer(3))]).unwrap_err();
        assert!(e.message.contains("token must be a string"), "{e}");
        let e = build(&[("mfa_registered", Field::Text("yes"))]).unwrap_err();
        assert!(e.message.contains("boolean"), "{e}");
        let e = build(&[("method", Field::Text("GET"))]).unwrap_err();
        assert!(e.message.contains("path is required"), "{e}");
    }

    #[test]
    fn json_form_goes_through_the_same_checks() {
        let v = serde_json::json!({"path": "/", "now": 1_767_225_600, "validate_mfa": true});
        let r = RequestSpec::from_json_value(&v, None).unwrap();
        assert_eq!(r.validate_mfa, Some(true));
        let bad: Result<RequestSpec, _> =
            serde_json::from_str(r#"{"path": "/", "now": 1767225600, "Now": 1}"#);
        assert!(bad.unwrap_err().to_string().contains("unknown request key"));
        let ms: Result<RequestSpec, _> =
            serde_json::from_str(r#"{"path": "/", "now": 1767225600000}"#);
        assert!(ms.unwrap_err().to_string().contains("milliseconds"));
    }

    #[test]
    fn validate_mfa_header_values() {
        use super::validate_mfa_header as h;
        assert_eq!(h(Some("true")), Some(true));
        assert_eq!(h(Some(" TRUE ")), Some(true));
        assert_eq!(h(Some("false")), Some(false));
        assert_eq!(h(Some("1")), Some(false));
        assert_eq!(h(None), None);
    }
}
