//! Node binding of mfagate (napi-rs). Conversion and idiom only: every rule,
//! reason code and message comes from the core crate.
//!
//! The generated `index.js` / `index.d.ts` expose [`NativeGate`]; the public
//! API (error classes, middleware, JWKS cache) is the hand-written `lib/`.

use mfagate::{Decision, Error as CoreError, ErrorCode, Gate, KeySet, Policy, RequestSpec};
use napi::bindgen_prelude::{AsyncTask, JsObjectValue, Unknown, Utf16String};
use napi::{Env, Status, Task, ValueType};
use napi_derive::napi;

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

fn usage(message: String) -> CoreError {
    CoreError::new(
        ErrorCode::RequestInvalid,
        message,
        "pass {path, method?, host?, authorization?, token?, now?, mfa_registered?, validate_mfa?} (see docs/bindings.md)",
    )
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

/// The request (owned, so it can cross threads) from the positional arguments `lib/gate.js` passes (it has
/// checked their types and gives their messages; this is the backstop).
fn request_from_args(
    method: Option<String>,
    path: String,
    host: Option<String>,
    authorization: Option<String>,
    token: Option<String>,
    now: Option<f64>,
    mfa_registered: Option<bool>,
    validate_mfa: Option<bool>,
) -> Result<RequestSpec, CoreError> {
    let now = match now {
        None => mfagate::system_now(),
        Some(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 => n as i64,
        Some(_) => {
            return Err(usage(
                "request.now must be an integer (Unix seconds) or omitted".into(),
            ))
        }
    };
    Ok(RequestSpec {
        method: method.unwrap_or_else(|| "GET".to_owned()),
        path,
        host,
        authorization,
        token,
        now,
        mfa_registered,
        validate_mfa,
    })
}

/// A gate: a policy and a JWK Set, built once. The public wrapper is
/// `Gate` in `lib/index.js`.
#[napi]
pub struct NativeGate {
    inner: Gate,
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
            Ok(inner) => Ok(NativeGate { inner }),
            Err(e) => Err(throw(&env, &e)),
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
            Ok(keys) => Ok(NativeGate {
                inner: Gate::new(self.inner.policy().clone(), keys),
            }),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// The same policy while no key set is available yet (every fetch of the
    /// JWKS failed so far): tokens get `keys_unavailable` (503).
    #[napi]
    pub fn without_keys(&self, why: String, retry_after: u32) -> NativeGate {
        NativeGate {
            inner: Gate::new(
                self.inner.policy().clone(),
                KeySet::unavailable(why, retry_after),
            ),
        }
    }

    /// Decides a request on the calling thread; returns the decision packed
    /// for `lib/decision.js` (see `src/pack.rs`).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_packed(
        &self,
        env: Env,
        method: Option<String>,
        path: String,
        host: Option<String>,
        authorization: Option<String>,
        token: Option<String>,
        now: Option<f64>,
        mfa_registered: Option<bool>,
        validate_mfa: Option<bool>,
    ) -> napi::Result<Utf16String> {
        let req = request_from_args(
            method,
            path,
            host,
            authorization,
            token,
            now,
            mfa_registered,
            validate_mfa,
        )
        .map_err(|e| throw(&env, &e))?;
        Ok(Utf16String::from(pack::decision(
            &self.inner.evaluate(&req.as_request()),
        )))
    }

    /// The same on the libuv thread pool.
    #[napi(ts_return_type = "Promise<string>")]
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_packed_async(
        &self,
        env: Env,
        method: Option<String>,
        path: String,
        host: Option<String>,
        authorization: Option<String>,
        token: Option<String>,
        now: Option<f64>,
        mfa_registered: Option<bool>,
        validate_mfa: Option<bool>,
    ) -> napi::Result<AsyncTask<Evaluation>> {
        let req = request_from_args(
            method,
            path,
            host,
            authorization,
            token,
            now,
            mfa_registered,
            validate_mfa,
        )
        .map_err(|e| throw(&env, &e))?;
        Ok(AsyncTask::new(Evaluation {
            gate: self.inner.clone(),
            req,
        }))
    }

    /// The decision as the core's own JSON text (`Decision::to_json`), for
    /// audit logs, and the reference the tests compare decisions with.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_json(
        &self,
        env: Env,
        method: Option<String>,
        path: String,
        host: Option<String>,
        authorization: Option<String>,
        token: Option<String>,
        now: Option<f64>,
        mfa_registered: Option<bool>,
        validate_mfa: Option<bool>,
    ) -> napi::Result<String> {
        let req = request_from_args(
            method,
            path,
            host,
            authorization,
            token,
            now,
            mfa_registered,
            validate_mfa,
        )
        .map_err(|e| throw(&env, &e))?;
        Ok(self.inner.evaluate(&req.as_request()).to_json())
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

/// An evaluation run off the main thread.
pub struct Evaluation {
    gate: Gate,
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

/// The names `Gate` accepts as a built-in policy.
/// The session cookie `name` from a Cookie header; several cookies of that
/// name come back joined with ", " (the core then refuses them as
/// `credential_ambiguous`).
#[napi]
pub fn session_cookie(cookie_header: String, name: String) -> Option<String> {
    mfagate::session_cookie(&cookie_header, &name)
}

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
