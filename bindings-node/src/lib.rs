//! Node binding of mfagate (napi-rs). Conversion and idiom only: every rule,
//! reason code and message comes from the core crate.
//!
//! The generated `index.js` / `index.d.ts` expose [`NativeGate`], and the
//! key feed and engine a `JwksGate` drives (`src/feed.rs`); the public API
//! (error classes, middleware, JWKS cache) is the hand-written `lib/`.

use mfagate::{
    CacheOptions, Decision, Error as CoreError, ErrorCode, Field, Gate, KeySet, Policy,
    RequestSpec, TokenCache,
};
use napi::bindgen_prelude::{
    AsyncTask, Either, External, JsObjectValue, JsValue, Object, Unknown, Utf16String,
};
use napi::{Env, Status, Task, ValueType};
use napi_derive::napi;
use std::cell::RefCell;
use std::sync::Arc;

mod feed;
mod pack;

/// Throws a JS `Error` carrying the core error's `code`, `family`, `hint`,
/// `line` and `docUrl`; `lib/errors.js` turns it into the matching subclass.
fn throw(env: &Env, e: &CoreError) -> napi::Error {
    let thrown = env
        .create_error(napi::Error::new(Status::GenericFailure, e.message.clone()))
        .and_then(|mut obj| {
            obj.set_named_property("code", e.code.as_str())?;
            obj.set_named_property("family", e.code.family())?;
            obj.set_named_property("hint", e.hint.as_str())?;
            obj.set_named_property("line", e.line.and_then(|l| u32::try_from(l).ok()))?;
            obj.set_named_property("docUrl", e.code.doc_url())?;
            obj.set_named_property("mfagateNative", true)?;
            env.throw(obj)
        });
    match thrown {
        Ok(()) => napi::Error::new(Status::PendingException, e.message.clone()),
        Err(_) => napi::Error::new(Status::GenericFailure, e.to_string()),
    }
}

/// A core error as a plain object `lib/errors.js` turns into its class
/// (for errors handed over as values, not thrown).
#[napi(object)]
pub struct NativeError {
    pub code: String,
    pub family: String,
    pub message: String,
    pub hint: String,
    pub line: Option<u32>,
    pub doc_url: String,
    pub mfagate_native: bool,
}

impl From<&CoreError> for NativeError {
    fn from(e: &CoreError) -> Self {
        NativeError {
            code: e.code.as_str().to_owned(),
            family: e.code.family().to_owned(),
            message: e.message.clone(),
            hint: e.hint.clone(),
            line: e.line.and_then(|l| u32::try_from(l).ok()),
            doc_url: e.code.doc_url(),
            mfagate_native: true,
        }
    }
}

/// A JWK Set given as JSON text or as an object.
fn jwks_text(env: &Env, jwks: Unknown<'_>) -> Result<String, CoreError> {
    let bad = |m: String| {
        CoreError::new(
            ErrorCode::JwksInvalid,
            m,
            "pass the JWK Set as JSON text or as an object {keys: [...]}",
        )
    };
    match jwks.get_type() {
        Ok(ValueType::String) => env
            .from_js_value::<String, _>(jwks)
            .map_err(|e| bad(format!("the JWK Set could not be read: {e}"))),
        Ok(ValueType::Object) => env
            .from_js_value::<serde_json::Value, _>(jwks)
            .map(|v| v.to_string())
            .map_err(|e| bad(format!("the JWK Set could not be read: {e}"))),
        _ => Err(bad("the JWK Set must be a string or an object".into())),
    }
}

fn policy_from(env: &Env, spec: Unknown<'_>) -> Result<Policy, CoreError> {
    let value = env
        .from_js_value::<serde_json::Value, _>(spec)
        .map_err(|e| {
            CoreError::new(
                ErrorCode::PolicyInvalid,
                format!("the policy spec could not be read: {e}"),
                "pass a built-in name, {builtin, overrides} or {policy, overrides}",
            )
        })?;
    Policy::from_spec(&value)
}

/// A request field as read from the JS object, owned so the object can be
/// let go: the core's [`Field`] is built from it, and the core does every
/// check (unknown keys, types, `now`).
enum Owned {
    Absent,
    Text(String),
    Bool(bool),
    Number(f64),
    Other(&'static str),
}

impl Owned {
    fn field(&self) -> Field<'_> {
        match self {
            Owned::Absent => Field::Absent,
            Owned::Text(s) => Field::Text(s),
            Owned::Bool(b) => Field::Bool(*b),
            Owned::Number(n) => Field::Number(*n),
            Owned::Other(t) => Field::Other(t),
        }
    }
}

fn js_type(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Function => "a function",
        ValueType::BigInt => "a bigint",
        _ => "an object",
    }
}

fn native(e: napi::Error) -> CoreError {
    CoreError::new(
        ErrorCode::RequestInvalid,
        format!("the request could not be read: {e}"),
        "pass a plain object (see docs/bindings.md)",
    )
}

/// The request (owned, so it can cross threads) from the JS request object:
/// each own or inherited enumerable key read as it is, then the core's one
/// constructor, `RequestSpec::from_fields`, with the system clock for `now`.
fn request_of(request: Either<Object<'_>, Unknown<'_>>) -> Result<RequestSpec, CoreError> {
    let obj = match request {
        Either::A(o) => o,
        Either::B(u) => {
            let t = u.get_type().map_or("an unreadable value", js_type);
            return Err(RequestSpec::not_an_object(t));
        }
    };
    if obj.is_array().map_err(native)? {
        return Err(RequestSpec::not_an_object("an array"));
    }
    let fields = fields_of(&obj)?;
    RequestSpec::from_fields(
        fields.iter().map(|(k, v)| (k.as_str(), v.field())),
        Some(&mfagate::system_now),
    )
}

/// Whether UTF-16 units are all ASCII (one pass the compiler vectorizes).
fn ascii(s: &[u16]) -> bool {
    s.iter().fold(0, |acc, &u| acc | u) < 0x80
}

thread_local! {
    /// Where the ASCII strings of a request are narrowed to UTF-8 for the
    /// core's constructor (which copies them): reused, so a request costs no
    /// allocation of its own.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The request from its fields given one by one (`lib/gate.js` passes them
/// so when every key of the request object is a request key and every value
/// a string, number or boolean where the core reads one): reading a JS
/// object key by key through N-API costs more than the decision. The same
/// constructor as [`request_of`], so the same checks and messages.
///
/// Strings come as UTF-16: V8 hands a string over that way with one copy,
/// where its UTF-8 form takes a pass to measure and another to write. Read
/// the way N-API's own UTF-8 reading does it (a lone surrogate becomes
/// U+FFFD).
fn request_from(
    texts: [Option<Utf16String>; 5],
    now: Option<f64>,
    mfa_registered: Option<bool>,
    validate_mfa: Option<bool>,
) -> Result<RequestSpec, CoreError> {
    fn text(v: Option<&str>) -> Field<'_> {
        v.map_or(Field::Absent, Field::Text)
    }
    let flag = |v: Option<bool>| v.map_or(Field::Absent, Field::Bool);
    let build = |t: [Option<&str>; 5]| {
        RequestSpec::from_fields(
            [
                ("method", text(t[0])),
                ("path", text(t[1])),
                ("host", text(t[2])),
                ("authorization", text(t[3])),
                ("token", text(t[4])),
                ("now", now.map_or(Field::Absent, Field::Number)),
                ("mfa_registered", flag(mfa_registered)),
                ("validate_mfa", flag(validate_mfa)),
            ],
            Some(&mfagate::system_now),
        )
    };
    let all_ascii = texts.iter().flatten().all(|t| ascii(t));
    let narrowed = all_ascii
        .then(|| {
            SCRATCH.with(|cell| {
                let mut buf = cell.try_borrow_mut().ok()?;
                buf.clear();
                let mut ends = [None; 5];
                for (end, t) in ends.iter_mut().zip(&texts) {
                    if let Some(t) = t {
                        buf.extend(t.iter().map(|&u| u as u8));
                        *end = Some(buf.len());
                    }
                }
                let all = std::str::from_utf8(&buf).ok()?;
                let mut at = 0;
                let fields = ends.map(|end| {
                    end.and_then(|end| {
                        let s = all.get(at..end);
                        at = end;
                        s
                    })
                });
                Some(build(fields))
            })
        })
        .flatten();
    match narrowed {
        Some(built) => built,
        None => {
            let owned = texts.map(|t| t.map(|t| String::from_utf16_lossy(&t)));
            build(owned.each_ref().map(|t| t.as_deref()))
        }
    }
}

/// `NativeGate.evaluatePacked` of the gate behind `gate` (its `handle()`),
/// the request given as its fields in `REQUEST_KEYS` order (see
/// [`request_from`]).
#[allow(clippy::too_many_arguments)] // one per request key
#[napi]
pub fn evaluate_fields(
    env: Env,
    #[napi(ts_arg_type = "ExternalObject<'GateHandle'>")] gate: &External<Arc<Gate>>,
    method: Option<Utf16String>,
    path: Option<Utf16String>,
    host: Option<Utf16String>,
    authorization: Option<Utf16String>,
    token: Option<Utf16String>,
    now: Option<f64>,
    mfa_registered: Option<bool>,
    validate_mfa: Option<bool>,
) -> napi::Result<Utf16String> {
    let req = request_from(
        [method, path, host, authorization, token],
        now,
        mfa_registered,
        validate_mfa,
    )
    .map_err(|e| throw(&env, &e))?;
    Ok(Utf16String::from(pack::decision(
        &gate.evaluate(&req.as_request()),
    )))
}

/// The same on the libuv thread pool.
#[allow(clippy::too_many_arguments)] // one per request key
#[napi(ts_return_type = "Promise<string>")]
pub fn evaluate_fields_async(
    env: Env,
    #[napi(ts_arg_type = "ExternalObject<'GateHandle'>")] gate: &External<Arc<Gate>>,
    method: Option<Utf16String>,
    path: Option<Utf16String>,
    host: Option<Utf16String>,
    authorization: Option<Utf16String>,
    token: Option<Utf16String>,
    now: Option<f64>,
    mfa_registered: Option<bool>,
    validate_mfa: Option<bool>,
) -> napi::Result<AsyncTask<Evaluation>> {
    let req = request_from(
        [method, path, host, authorization, token],
        now,
        mfa_registered,
        validate_mfa,
    )
    .map_err(|e| throw(&env, &e))?;
    Ok(AsyncTask::new(Evaluation {
        gate: Arc::clone(gate),
        req,
    }))
}

/// Each own enumerable key of a JS object, with its value read as it is.
fn fields_of(obj: &Object<'_>) -> Result<Vec<(String, Owned)>, CoreError> {
    let keys = Object::keys(obj).map_err(native)?;
    let mut fields = Vec::with_capacity(keys.len());
    for key in keys {
        let value = match obj.get::<Unknown>(&key).map_err(native)? {
            None => Owned::Absent,
            Some(u) => match u.get_type().map_err(native)? {
                ValueType::Undefined | ValueType::Null => Owned::Absent,
                ValueType::String => obj
                    .get::<String>(&key)
                    .map_err(native)?
                    .map_or(Owned::Absent, Owned::Text),
                ValueType::Boolean => obj
                    .get::<bool>(&key)
                    .map_err(native)?
                    .map_or(Owned::Absent, Owned::Bool),
                ValueType::Number => obj
                    .get::<f64>(&key)
                    .map_err(native)?
                    .map_or(Owned::Absent, Owned::Number),
                ValueType::Object => {
                    let is_array = obj
                        .get::<Object>(&key)
                        .map_err(native)?
                        .map(|o| o.is_array())
                        .transpose()
                        .map_err(native)?
                        .unwrap_or(false);
                    Owned::Other(if is_array { "an array" } else { "an object" })
                }
                other => Owned::Other(js_type(other)),
            },
        };
        fields.push((key, value));
    }
    Ok(fields)
}

/// The core's verified-token cache (`mfagate::TokenCache`); the public
/// wrapper is `TokenCache` in `lib/cache.js`.
#[napi]
pub struct NativeTokenCache {
    inner: Arc<TokenCache>,
}

/// A cache's counters.
#[napi(object)]
pub struct CacheStats {
    pub hits: f64,
    pub misses: f64,
    pub entries: f64,
    pub bytes: f64,
}

#[napi]
impl NativeTokenCache {
    /// `options`: `{maxEntries?, maxBytes?}` (or their snake_case names),
    /// checked by the core (`CacheOptions::from_fields`): throws
    /// `request_invalid`.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "object | undefined")] options: Either<Object, Unknown>,
    ) -> napi::Result<Self> {
        let built = match options {
            Either::A(o) => fields_of(&o).and_then(|f| {
                CacheOptions::from_fields(f.iter().map(|(k, v)| (k.as_str(), v.field())))
            }),
            Either::B(u) => match u.get_type() {
                Ok(ValueType::Undefined | ValueType::Null) => Ok(CacheOptions::default()),
                t => Err(CoreError::new(
                    ErrorCode::RequestInvalid,
                    format!(
                        "cache options must be an object, not {}",
                        t.map_or("an unreadable value", js_type)
                    ),
                    "pass {maxEntries, maxBytes}",
                )),
            },
        }
        .and_then(TokenCache::try_new);
        match built {
            Ok(c) => Ok(NativeTokenCache { inner: Arc::new(c) }),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// The bounds: `[maxEntries, maxBytes]`.
    #[napi(getter)]
    pub fn bounds(&self) -> Vec<f64> {
        let o = self.inner.options();
        vec![o.max_entries as f64, o.max_bytes as f64]
    }

    /// Hits, misses, entries and bytes.
    #[napi]
    pub fn stats(&self) -> CacheStats {
        let s = self.inner.stats();
        CacheStats {
            hits: s.hits as f64,
            misses: s.misses as f64,
            entries: s.entries as f64,
            bytes: s.bytes as f64,
        }
    }

    /// Forgets every token.
    #[napi]
    pub fn clear(&self) {
        self.inner.clear();
    }
}

/// A gate: a policy and a JWK Set, built once. The public wrapper is
/// `Gate` in `lib/index.js`.
#[napi]
pub struct NativeGate {
    inner: Arc<Gate>,
}

#[napi]
impl NativeGate {
    /// `policy`: a built-in name, `{builtin, overrides}` or `{policy, overrides}`.
    /// `jwks`: a JWK Set as JSON text or as an object.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "string | object")] policy: Unknown,
        #[napi(ts_arg_type = "string | object")] jwks: Unknown,
    ) -> napi::Result<Self> {
        let built = policy_from(&env, policy).and_then(|p| {
            jwks_text(&env, jwks)
                .and_then(|t| KeySet::from_json(&t))
                .map(|k| Gate::new(p, k))
        });
        match built {
            Ok(inner) => Ok(NativeGate {
                inner: Arc::new(inner),
            }),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// The gate as an external value for [`evaluate_fields`], the per-request
    /// path: a plain function given an external costs a fraction of a class
    /// method call (napi-rs tracks every `&self` borrow in a global map).
    #[napi(ts_return_type = "ExternalObject<'GateHandle'>")]
    pub fn handle(&self) -> External<Arc<Gate>> {
        External::new(Arc::clone(&self.inner))
    }

    /// The same gate remembering verified tokens in `cache`.
    #[napi]
    pub fn with_cache(&self, cache: &NativeTokenCache) -> NativeGate {
        NativeGate {
            inner: Arc::new(Gate::clone(&self.inner).with_cache(Arc::clone(&cache.inner))),
        }
    }

    /// The same policy with another JWK Set (for key rotation).
    #[napi]
    pub fn with_keys(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string | object")] jwks: Unknown,
    ) -> napi::Result<NativeGate> {
        match jwks_text(&env, jwks).and_then(|t| KeySet::from_json(&t)) {
            Ok(keys) => Ok(self.keeping_cache(Gate::new(self.inner.policy().clone(), keys))),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// The same policy while no key set is available yet (every fetch of the
    /// JWKS failed so far): tokens get `keys_unavailable` (503).
    #[napi]
    pub fn without_keys(&self, why: String, retry_after: u32) -> NativeGate {
        self.keeping_cache(Gate::new(
            self.inner.policy().clone(),
            KeySet::unavailable(why, retry_after),
        ))
    }

    /// Decides a request on the calling thread; returns the decision packed
    /// for `lib/decision.js` (see `src/pack.rs`).
    #[napi]
    pub fn evaluate_packed(
        &self,
        env: Env,
        #[napi(ts_arg_type = "object")] request: Either<Object, Unknown>,
    ) -> napi::Result<Utf16String> {
        let req = request_of(request).map_err(|e| throw(&env, &e))?;
        Ok(Utf16String::from(pack::decision(
            &self.inner.evaluate(&req.as_request()),
        )))
    }

    /// The same on the libuv thread pool.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn evaluate_packed_async(
        &self,
        env: Env,
        #[napi(ts_arg_type = "object")] request: Either<Object, Unknown>,
    ) -> napi::Result<AsyncTask<Evaluation>> {
        let req = request_of(request).map_err(|e| throw(&env, &e))?;
        Ok(AsyncTask::new(Evaluation {
            gate: Arc::clone(&self.inner),
            req,
        }))
    }

    /// The decision as the core's own JSON text (`Decision::to_json`), for
    /// audit logs, and the reference the tests compare decisions with.
    #[napi]
    pub fn evaluate_json(
        &self,
        env: Env,
        #[napi(ts_arg_type = "object")] request: Either<Object, Unknown>,
    ) -> napi::Result<String> {
        let req = request_of(request).map_err(|e| throw(&env, &e))?;
        Ok(self.inner.evaluate(&req.as_request()).to_json())
    }

    /// Whether `other` is this very gate (shared, not a copy); for the tests.
    #[napi]
    pub fn is_same(&self, other: &NativeGate) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The policy's name (for example `partner-center-2020`).
    #[napi(getter)]
    pub fn policy_name(&self) -> String {
        self.inner.policy().name().to_owned()
    }

    /// The `kid`s of the usable keys (null for a key without one).
    #[napi(getter)]
    pub fn key_ids(&self) -> Vec<Option<String>> {
        self.inner
            .keys()
            .keys()
            .iter()
            .map(|k| k.kid.clone())
            .collect()
    }

    /// Keys of the JWK Set that were left out, with why.
    #[napi(getter)]
    pub fn skipped_keys(&self) -> Vec<String> {
        self.inner.keys().skipped().to_vec()
    }
}

impl NativeGate {
    /// `g` with this gate's token cache, if it has one.
    fn keeping_cache(&self, g: Gate) -> NativeGate {
        NativeGate {
            inner: Arc::new(match self.inner.cache() {
                Some(c) => g.with_cache(Arc::clone(c)),
                None => g,
            }),
        }
    }
}

/// An evaluation run off the main thread.
pub struct Evaluation {
    gate: Arc<Gate>,
    req: RequestSpec,
}

impl Task for Evaluation {
    type Output = Decision;
    type JsValue = Utf16String;

    fn compute(&mut self) -> napi::Result<Decision> {
        Ok(self.gate.evaluate(&self.req.as_request()))
    }

    fn resolve(&mut self, _env: Env, d: Decision) -> napi::Result<Utf16String> {
        Ok(Utf16String::from(pack::decision(&d)))
    }
}

/// A JavaScript clock reading (milliseconds) as the feed's: negative
/// or non-finite readings count as 0.
fn clock(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now.floor().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// The session cookie `name` from a Cookie header; several cookies of that
/// name come back joined with ", " (the core then refuses them as
/// `credential_ambiguous`).
#[napi]
pub fn session_cookie(cookie_header: String, name: String) -> Option<String> {
    mfagate::session_cookie(&cookie_header, &name)
}

/// Partner Center's `ValidateMfa` request header as the request's
/// `validate_mfa` (the core's reading: `true` in any case is true).
#[napi]
pub fn validate_mfa_header(value: Option<String>) -> Option<bool> {
    mfagate::validate_mfa_header(value.as_deref())
}

/// The names `Gate` accepts as a built-in policy.
#[napi]
pub fn builtin_policies() -> Vec<&'static str> {
    mfagate::BUILTIN_NAMES.to_vec()
}

/// The messages a decision can carry, as `[en, fr, pt-BR]`, in the order
/// packed decisions index them (see `src/pack.rs`).
#[napi]
pub fn message_table() -> Vec<Vec<&'static str>> {
    pack::message_table()
        .iter()
        .map(|m| vec![m.en, m.fr, m.pt_br])
        .collect()
}

/// Where error codes are documented (one anchor per code).
#[napi]
pub fn errors_doc() -> &'static str {
    mfagate::error::ERRORS_DOC
}

/// Every core error code with its family, for `lib/errors.js`.
#[napi]
pub fn error_families() -> Vec<Vec<&'static str>> {
    ErrorCode::ALL
        .iter()
        .map(|c| vec![c.as_str(), c.family()])
        .collect()
}
