//! mfagate for WebAssembly: the core gate, with RS256/PS256/ES256 signatures
//! verified by the host's WebCrypto (`crypto.subtle`) through the core's
//! two-phase API, and HS256 verified in the module.
//!
//! Thin by design: conversion and idiom only. Every rule, reason code and
//! message comes from the `mfagate` crate. Decisions cross into JavaScript as
//! exactly the core's JSON form, built by serde-wasm-bindgen straight from the
//! core's `Decision` (no JSON text in between), spelled as in every runtime.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use mfagate::{Algorithm, ErrorCode, Pending, Policy, RequestSpec, Step};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

// ---------------------------------------------------------------------------
// Errors: real `Error` objects of the package's classes, with `.code`.
// ---------------------------------------------------------------------------

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

fn set(obj: &JsValue, k: &str, v: &JsValue) {
    // Setting a property on a fresh Error or plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(k), v);
}

/// A thrown error: an instance of the class for `family` when the entry
/// module registered them, else a plain `Error`; `.code`, `.hint`, `.line`
/// and `.doc_url` set either way.
fn js_error(
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
        "doc_url",
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
            for k in ["code", "hint", "line", "doc_url"] {
                if let Ok(v) = Reflect::get(d, &JsValue::from_str(k)) {
                    set(&e, k, &v);
                }
            }
            e
        }
    }
}

fn core_error(e: &mfagate::Error) -> JsValue {
    js_error(
        e.code.family(),
        e.code.as_str(),
        &e.message,
        &e.hint,
        e.line,
        Some(e.code.doc_url()),
    )
}

fn usage(message: impl AsRef<str>, hint: &str) -> JsValue {
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

/// A failure of the host's crypto (binding-level code `crypto_unavailable`).
fn crypto_error(message: impl AsRef<str>) -> JsValue {
    js_error(
        "base",
        "crypto_unavailable",
        message.as_ref(),
        "run where WebCrypto (globalThis.crypto.subtle) exists: a browser page over https or 127.0.0.1, a worker, or Node 20+",
        None,
        None,
    )
}

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

/// JSON text of a value given either as a string (taken as JSON text) or as
/// any other JSON-able value.
fn json_text(v: &JsValue, what: &str) -> Result<String, JsValue> {
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

/// A policy spec: a built-in name (a string that is not JSON text), or an
/// object `{builtin|policy, overrides}` (also as JSON text).
fn policy_from(spec: &JsValue) -> Result<Policy, JsValue> {
    let value: serde_json::Value = match spec.as_string() {
        Some(s) if s.trim_start().starts_with('{') => serde_json::from_str(&s).map_err(|e| {
            core_error(&mfagate::Error::new(
                ErrorCode::PolicySyntax,
                format!("the policy spec is not valid JSON: {e}"),
                "pass a built-in name, or {\"builtin\": name} / {\"policy\": {...}} with optional \"overrides\"",
            ))
        })?,
        Some(name) => serde_json::Value::String(name),
        None => {
            let text = json_text(spec, "the policy spec")?;
            serde_json::from_str(&text).map_err(|e| usage(format!("the policy spec is not JSON: {e}"), ""))?
        }
    };
    Policy::from_spec(&value).map_err(|e| core_error(&e))
}

fn key_set_from(jwks: &JsValue) -> Result<mfagate::KeySet, JsValue> {
    if jwks.is_undefined() || jwks.is_null() {
        return Ok(mfagate::KeySet::empty());
    }
    mfagate::KeySet::from_json(&json_text(jwks, "the JWK Set")?).map_err(|e| core_error(&e))
}

const REQUEST_KEYS: [&str; 8] = [
    "method",
    "path",
    "host",
    "authorization",
    "token",
    "now",
    "mfa_registered",
    "validate_mfa",
];
const REQUEST_HINT: &str =
    "a request is {path, method?, host?, authorization?, token?, now?, mfa_registered?, validate_mfa?} (see docs/bindings.md)";

thread_local! {
    /// The request keys as JavaScript strings, made once (each lookup would
    /// otherwise decode the name again).
    static KEY_NAMES: Vec<JsValue> = REQUEST_KEYS.iter().map(|k| JsValue::from_str(k)).collect();
}

/// The request's values, in REQUEST_KEYS order.
fn request_values(v: &JsValue) -> Result<[JsValue; 8], JsValue> {
    KEY_NAMES.with(|names| {
        let mut out: [JsValue; 8] = Default::default();
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = Reflect::get(v, name)
                .map_err(|_| usage("the request cannot be read", REQUEST_HINT))?;
        }
        Ok(out)
    })
}

fn opt_string(v: &JsValue, k: &str) -> Result<Option<String>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| {
        usage(
            format!("request.{k} must be a string or null"),
            REQUEST_HINT,
        )
    })
}

/// A boolean request key: true, false, or unset (undefined or null).
fn opt_bool(v: &JsValue, k: &str) -> Result<Option<bool>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool().map(Some).ok_or_else(|| {
        usage(
            format!("request.{k} must be a boolean or null"),
            REQUEST_HINT,
        )
    })
}

fn read_request(v: &JsValue) -> Result<RequestSpec, JsValue> {
    if !v.is_object() {
        return Err(usage("the request must be an object", REQUEST_HINT));
    }
    let [method, path, host, authorization, token, now_v, reg_v, vmfa_v] = request_values(v)?;
    // Unknown keys are refused, as in the core's RequestSpec: a misspelt
    // `authorisation` must not silently become "no credential". Cheap test
    // first (how many keys), the names only when it fails.
    let present = [
        &method,
        &path,
        &host,
        &authorization,
        &token,
        &now_v,
        &reg_v,
        &vmfa_v,
    ]
    .iter()
    .filter(|x| !x.is_undefined())
    .count();
    let keys = Object::keys(v.unchecked_ref::<Object>());
    if keys.length() as usize > present {
        for k in keys.iter() {
            let k = k.as_string().unwrap_or_default();
            if !REQUEST_KEYS.contains(&k.as_str()) {
                return Err(usage(format!("unknown request key {k:?}"), REQUEST_HINT));
            }
        }
    }
    let path = opt_string(&path, "path")?
        .ok_or_else(|| usage("request.path is required", REQUEST_HINT))?;
    let now = if now_v.is_undefined() || now_v.is_null() {
        // The core has no clock on wasm32: the host's clock, in seconds.
        (js_sys::Date::now() / 1000.0).floor() as i64
    } else {
        match now_v.as_f64() {
            Some(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 => n as i64,
            _ => {
                return Err(usage(
                    "request.now must be an integer (Unix seconds)",
                    REQUEST_HINT,
                ))
            }
        }
    };
    let mfa_registered = opt_bool(&reg_v, "mfa_registered")?;
    let validate_mfa = opt_bool(&vmfa_v, "validate_mfa")?;
    Ok(RequestSpec {
        method: opt_string(&method, "method")?.unwrap_or_else(|| "GET".to_owned()),
        path,
        host: opt_string(&host, "host")?,
        authorization: opt_string(&authorization, "authorization")?,
        token: opt_string(&token, "token")?,
        now,
        mfa_registered,
        validate_mfa,
    })
}

thread_local! {
    /// Plain objects, null for None, numbers (not BigInt) for integers: the
    /// core's JSON form, built directly (no JSON text in between).
    static PLAIN: serde_wasm_bindgen::Serializer =
        const { serde_wasm_bindgen::Serializer::json_compatible() };
}

fn plain<T: serde::Serialize + ?Sized>(v: &T) -> JsValue {
    PLAIN.with(|ser| v.serialize(ser)).unwrap_or_else(|e| {
        JsValue::from_str(&format!("mfagate: cannot convert to JavaScript: {e}"))
    })
}

/// A decision as a plain object of exactly the core's JSON form.
fn decision_value(d: &mfagate::Decision) -> JsValue {
    plain(d)
}

fn serde_value(v: &serde_json::Value) -> JsValue {
    plain(v)
}

// ---------------------------------------------------------------------------
// WebCrypto
// ---------------------------------------------------------------------------

#[wasm_bindgen]
extern "C" {
    type SubtleCrypto;

    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &SubtleCrypto,
        format: &str,
        key: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn verify(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;
}

thread_local! {
    /// WebCrypto as it was when the module was initialised (see `start`):
    /// `None` when there was none.
    static WEBCRYPTO: std::cell::OnceCell<Option<JsValue>> = const { std::cell::OnceCell::new() };
    /// WebCrypto's parameter objects per algorithm, made once (WebCrypto
    /// only reads them).
    static PARAMS: RefCell<Vec<(Algorithm, JsValue, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// `.catch` handler that turns a rejected verify into `false`.
    static REJECTED_IS_FALSE: Closure<dyn FnMut(JsValue) -> JsValue> = Closure::new(|_: JsValue| JsValue::FALSE);
}

#[wasm_bindgen]
extern "C" {
    /// A promise, with `then`/`catch` handlers whose return values are kept.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_value(this: &Thenable, on_fulfilled: &JsValue) -> Thenable;
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_value(this: &Thenable, on_rejected: &JsValue) -> Thenable;
}

/// Runs once, when the module is instantiated (on `require`/`import` in Node
/// and with bundlers, in `init()`/`initSync()` for the web build).
#[wasm_bindgen(start)]
pub fn start() {
    WEBCRYPTO.with(|w| {
        w.get_or_init(capture_webcrypto);
    });
}

/// `globalThis.crypto.subtle`'s `importKey` and `verify` as they are now,
/// bound to it, on a frozen object of the module's own. Signatures are then
/// verified by these functions whatever code running later in the isolate
/// does to `globalThis.crypto`, `crypto.subtle` or its methods.
fn capture_webcrypto() -> Option<JsValue> {
    let get = |o: &JsValue, k: &str| {
        Reflect::get(o, &JsValue::from_str(k))
            .ok()
            .filter(JsValue::is_object)
    };
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let captured = Object::new();
    for name in ["importKey", "verify"] {
        let f = Reflect::get(&subtle, &JsValue::from_str(name))
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        set(&captured, name, &f.bind0(&subtle));
    }
    Some(Object::freeze(&captured).into())
}

/// The WebCrypto captured at initialisation.
fn subtle() -> Result<SubtleCrypto, JsValue> {
    WEBCRYPTO
        .with(|w| w.get_or_init(capture_webcrypto).clone())
        .map(JsCast::unchecked_into)
        .ok_or_else(|| {
            crypto_error("globalThis.crypto.subtle was not available when mfagate was initialised")
        })
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o: JsValue = Object::new().into();
    for (k, v) in pairs {
        set(&o, k, v);
    }
    o
}

/// WebCrypto's parameters for importing a key for `alg`, and for verifying.
fn make_params(alg: Algorithm) -> Option<(JsValue, JsValue)> {
    let s = JsValue::from_str;
    match alg {
        Algorithm::RS256 => {
            let imp = obj(&[("name", s("RSASSA-PKCS1-v1_5")), ("hash", s("SHA-256"))]);
            Some((imp, obj(&[("name", s("RSASSA-PKCS1-v1_5"))])))
        }
        Algorithm::PS256 => {
            let imp = obj(&[("name", s("RSA-PSS")), ("hash", s("SHA-256"))]);
            Some((
                imp,
                obj(&[
                    ("name", s("RSA-PSS")),
                    ("saltLength", JsValue::from_f64(32.0)),
                ]),
            ))
        }
        Algorithm::ES256 => {
            let imp = obj(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))]);
            Some((imp, obj(&[("name", s("ECDSA")), ("hash", s("SHA-256"))])))
        }
        Algorithm::HS256 => None,
    }
}

fn webcrypto_params(alg: Algorithm) -> Option<(JsValue, JsValue)> {
    PARAMS.with(|p| {
        if let Some((_, i, v)) = p.borrow().iter().find(|(a, _, _)| *a == alg) {
            return Some((i.clone(), v.clone()));
        }
        let (i, v) = make_params(alg)?;
        p.borrow_mut().push((alg, i.clone(), v.clone()));
        Some((i, v))
    })
}

/// One imported key: the import's promise until it settles, then the key.
enum Slot {
    Importing(Promise),
    Ready(JsValue),
}

/// Keys imported into WebCrypto, once per (key index, algorithm).
#[derive(Default)]
struct KeyCache {
    slots: RefCell<Vec<(usize, Algorithm, Slot)>>,
}

impl KeyCache {
    fn lookup(&self, idx: usize, alg: Algorithm) -> Option<Result<JsValue, Promise>> {
        self.slots
            .borrow()
            .iter()
            .find(|(i, a, _)| *i == idx && *a == alg)
            .map(|(_, _, s)| match s {
                Slot::Ready(k) => Ok(k.clone()),
                Slot::Importing(p) => Err(p.clone()),
            })
    }

    fn put(&self, idx: usize, alg: Algorithm, slot: Slot) {
        let mut slots = self.slots.borrow_mut();
        slots.retain(|(i, a, _)| !(*i == idx && *a == alg));
        slots.push((idx, alg, slot));
    }

    fn forget(&self, idx: usize, alg: Algorithm) {
        self.slots
            .borrow_mut()
            .retain(|(i, a, _)| !(*i == idx && *a == alg));
    }
}

struct Shared {
    gate: mfagate::Gate,
    cache: KeyCache,
}

impl Shared {
    /// The WebCrypto key for a pending verification, imported on first use.
    async fn key(
        &self,
        subtle: &SubtleCrypto,
        idx: usize,
        alg: Algorithm,
        import: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let promise = match self.cache.lookup(idx, alg) {
            Some(Ok(k)) => return Ok(k),
            Some(Err(p)) => p,
            None => {
                let jwk = self
                    .gate
                    .keys()
                    .keys()
                    .get(idx)
                    .and_then(|k| k.public_jwk())
                    .ok_or_else(|| {
                        crypto_error(format!("key #{idx} has no public JWK to import"))
                    })?;
                let usages = Array::of1(&JsValue::from_str("verify"));
                let p = subtle.import_key("jwk", &serde_value(&jwk), import, false, &usages)?;
                self.cache.put(idx, alg, Slot::Importing(p.clone()));
                p
            }
        };
        match JsFuture::from(promise).await {
            Ok(k) => {
                self.cache.put(idx, alg, Slot::Ready(k.clone()));
                Ok(k)
            }
            Err(e) => {
                self.cache.forget(idx, alg);
                let why = Reflect::get(&e, &JsValue::from_str("message"))
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| "unknown error".into());
                Err(crypto_error(format!(
                    "WebCrypto refused to import key #{idx} for {}: {why}",
                    alg.as_str()
                )))
            }
        }
    }

    /// Verifies a pending signature with WebCrypto and finishes the decision.
    /// Without usable WebCrypto the decision is `verification_unavailable`
    /// (a refusal), never an exception: decisions are values.
    async fn finish(
        self: Rc<Self>,
        pending: Pending,
        req: RequestSpec,
    ) -> Result<JsValue, JsValue> {
        let alg = pending.algorithm();
        let unavailable =
            |why: String| decision_value(&self.gate.complete_unavailable(&pending, &why));
        let Some((import, params)) = webcrypto_params(alg) else {
            return Ok(unavailable(format!(
                "{} is not verified through WebCrypto",
                alg.as_str()
            )));
        };
        let subtle = match subtle() {
            Ok(s) => s,
            Err(e) => return Ok(unavailable(error_message(&e))),
        };
        let key = match self.key(&subtle, pending.key_index(), alg, &import).await {
            Ok(k) => k,
            Err(e) => return Ok(unavailable(error_message(&e))),
        };
        let sig = Uint8Array::from(pending.signature());
        let data = Uint8Array::from(pending.signing_input());
        // A rejection here can only come from the token's bytes (the key
        // imported): the signature does not verify.
        let valid = match subtle.verify(&params, &key, &sig, &data) {
            Ok(p) => JsFuture::from(p)
                .await
                .map(|v| v.as_bool() == Some(true))
                .unwrap_or(false),
            Err(_) => false,
        };
        Ok(decision_value(&self.gate.complete(
            &pending,
            &req.as_request(),
            valid,
        )))
    }
}

/// The `message` of a thrown JavaScript error.
fn error_message(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "WebCrypto is not usable".into())
}

// ---------------------------------------------------------------------------
// The gate
// ---------------------------------------------------------------------------

/// A policy and a JWK Set, built once; decides requests.
#[wasm_bindgen]
pub struct Gate {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl Gate {
    /// `new Gate(policy, jwks)`: `policy` is a policy spec (a built-in name,
    /// `{builtin, overrides}` or `{policy, overrides}`); `jwks` a JWK Set as
    /// an object or JSON text (null for none). Throws `PolicyError` or
    /// `JwksError`.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &JsValue, jwks: &JsValue) -> Result<Gate, JsValue> {
        let policy = policy_from(policy)?;
        let keys = key_set_from(jwks)?;
        Ok(Gate {
            shared: Rc::new(Shared {
                gate: mfagate::Gate::new(policy, keys),
                cache: KeyCache::default(),
            }),
        })
    }

    /// `Gate.withoutKeys(policy, why, retryAfterSeconds)`: the policy while
    /// no key set is available yet (every JWKS fetch failed so far): every
    /// token is refused with `keys_unavailable` (503, Retry-After), never
    /// "sign in again". Throws `PolicyError`.
    #[wasm_bindgen(js_name = withoutKeys)]
    pub fn without_keys(policy: &JsValue, why: &str, retry_after: u32) -> Result<Gate, JsValue> {
        let policy = policy_from(policy)?;
        Ok(Gate {
            shared: Rc::new(Shared {
                gate: mfagate::Gate::new(policy, mfagate::KeySet::unavailable(why, retry_after)),
                cache: KeyCache::default(),
            }),
        })
    }

    /// Decides a request; resolves to the decision. RS256, PS256 and ES256
    /// signatures are verified by WebCrypto (keys imported once, cached);
    /// HS256 in the module.
    pub fn evaluate(&self, request: &JsValue) -> Promise {
        let req = match read_request(request) {
            Ok(r) => r,
            Err(e) => return Promise::reject(&e),
        };
        match self.shared.gate.prepare(&req.as_request()) {
            Step::Done(d) => Promise::resolve(&decision_value(&d)),
            Step::Verify(pending) => {
                let alg = pending.algorithm();
                match (
                    self.shared.cache.lookup(pending.key_index(), alg),
                    webcrypto_params(alg),
                    subtle(),
                ) {
                    // The key is imported already: one verify, one callback.
                    (Some(Ok(key)), Some((_, params)), Ok(subtle)) => {
                        let sig = Uint8Array::from(pending.signature());
                        let data = Uint8Array::from(pending.signing_input());
                        let verified: Thenable = match subtle.verify(&params, &key, &sig, &data) {
                            Ok(p) => REJECTED_IS_FALSE
                                .with(|f| p.unchecked_ref::<Thenable>().catch_value(f.as_ref())),
                            // A synchronous throw is a rejection too.
                            Err(_) => Promise::resolve(&JsValue::FALSE).unchecked_into(),
                        };
                        let shared = Rc::clone(&self.shared);
                        let done = Closure::once_into_js(move |valid: JsValue| -> JsValue {
                            decision_value(&shared.gate.complete(
                                &pending,
                                &req.as_request(),
                                valid.as_bool() == Some(true),
                            ))
                        });
                        verified.then_value(&done).unchecked_into()
                    }
                    _ => {
                        let shared = Rc::clone(&self.shared);
                        wasm_bindgen_futures::future_to_promise(shared.finish(pending, req))
                    }
                }
            }
        }
    }

    /// Decides a request on claims already verified (for example those an
    /// app validated at sign-in), given as JSON text or an object.
    /// Everything but the signature is checked.
    #[wasm_bindgen(js_name = evaluateClaims)]
    pub fn evaluate_claims(&self, claims: &JsValue, request: &JsValue) -> Result<JsValue, JsValue> {
        let req = read_request(request)?;
        let text = json_text(claims, "the claims")?;
        let d = self
            .shared
            .gate
            .evaluate_claims_json(&text, &req.as_request());
        Ok(decision_value(&d))
    }

    /// The policy's name.
    #[wasm_bindgen(getter, js_name = policyName)]
    pub fn policy_name(&self) -> String {
        self.shared.gate.policy().name().to_owned()
    }

    /// The number of usable keys.
    #[wasm_bindgen(getter, js_name = keyCount)]
    pub fn key_count(&self) -> usize {
        self.shared.gate.keys().len()
    }

    /// The `kid`s of the usable keys (keys without one are left out).
    #[wasm_bindgen(getter)]
    pub fn kids(&self) -> Array {
        self.shared
            .gate
            .keys()
            .keys()
            .iter()
            .filter_map(|k| k.kid.as_deref().map(JsValue::from_str))
            .collect()
    }

    /// Keys of the JWK Set that were left out, with why.
    #[wasm_bindgen(getter)]
    pub fn skipped(&self) -> Array {
        self.shared
            .gate
            .keys()
            .skipped()
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The JWKS refresher: the core's sans-IO state machine, driven by the
// package's JwksCache (js/jwks.js), which only performs the GETs it asks for.
// ---------------------------------------------------------------------------

/// A millisecond time or id from JavaScript (a number) as the core's u64.
fn js_u64(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// The core `Refresher`. Not part of the public API: `JwksCache` drives it.
#[wasm_bindgen(js_name = "__Refresher")]
pub struct JwksRefresher {
    inner: mfagate::Refresher,
}

#[wasm_bindgen(js_class = "__Refresher")]
impl JwksRefresher {
    /// Durations in seconds. Throws `UsageError` `jwks_url_invalid` for a
    /// URL mfagate will not fetch from, `request_invalid` for options out of
    /// range.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        ttl: f64,
        min_refresh_interval: f64,
        timeout: f64,
        max_bytes: f64,
        max_keys: f64,
    ) -> Result<JwksRefresher, JsValue> {
        let count = |v: f64| {
            (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX))
                .then_some(v as usize)
                .ok_or_else(|| {
                    usage(
                        format!("maxBytes and maxKeys must be whole numbers (got {v})"),
                        "the defaults are 262144 bytes and 64 keys",
                    )
                })
        };
        let opts = mfagate::RefreshOptions {
            ttl,
            min_refresh_interval,
            timeout,
            max_bytes: count(max_bytes)?,
            max_keys: count(max_keys)?,
        };
        mfagate::Refresher::new(url, opts)
            .map(|inner| JwksRefresher { inner })
            .map_err(|e| core_error(&e))
    }

    /// What to do at `nowMs`: a fetch `{id, url, document, timeoutMs,
    /// maxBytes}` (`document` is "configuration" or "key_set"), the string
    /// "in_flight", or null (nothing to do).
    pub fn next(&mut self, now_ms: f64) -> JsValue {
        match self.inner.next(js_u64(now_ms)) {
            mfagate::Next::Fetch(f) => obj(&[
                ("id", JsValue::from_f64(f.id as f64)),
                ("url", JsValue::from_str(&f.url)),
                (
                    "document",
                    JsValue::from_str(match f.document {
                        mfagate::Document::Configuration => "configuration",
                        mfagate::Document::KeySet => "key_set",
                    }),
                ),
                ("timeoutMs", JsValue::from_f64(f.timeout_ms as f64)),
                ("maxBytes", JsValue::from_f64(f.max_bytes as f64)),
            ]),
            mfagate::Next::InFlight => JsValue::from_str("in_flight"),
            mfagate::Next::Idle => JsValue::NULL,
        }
    }

    /// Fetch `id` answered `status` with `body`: true when a new key set is
    /// in use, false when there is more to fetch (the configuration
    /// arrived); throws `JwksError` `jwks_fetch_failed` when it failed.
    pub fn fetched(
        &mut self,
        id: f64,
        now_ms: f64,
        status: u16,
        body: &[u8],
    ) -> Result<bool, JsValue> {
        self.inner
            .fetched(js_u64(id), js_u64(now_ms), status, body)
            .map_err(|e| core_error(&e))
    }

    /// Fetch `id` got no answer (network, timeout, body over the limit):
    /// returns the `JwksError` to report.
    pub fn failed(&mut self, id: f64, now_ms: f64, why: &str) -> JsValue {
        core_error(&self.inner.failed(js_u64(id), js_u64(now_ms), why))
    }

    /// A token named an unknown `kid`: true when fresher keys may come.
    #[wasm_bindgen(js_name = unknownKid)]
    pub fn unknown_kid(&mut self, now_ms: f64) -> bool {
        self.inner.unknown_kid(js_u64(now_ms))
    }

    /// A gate of `template`'s policy over the current key set (shared, not
    /// copied): the last good set, or before the first one a set that
    /// refuses every token with `keys_unavailable`.
    pub fn gate(&self, template: &Gate, now_ms: f64) -> Gate {
        let keys = self.inner.key_set_at(js_u64(now_ms));
        Gate {
            shared: Rc::new(Shared {
                gate: mfagate::Gate::with_shared_keys(template.shared.gate.policy().clone(), keys),
                cache: KeyCache::default(),
            }),
        }
    }

    #[wasm_bindgen(js_name = retryAfter)]
    pub fn retry_after(&self, now_ms: f64) -> u32 {
        self.inner.retry_after(js_u64(now_ms))
    }

    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.inner.version() as f64
    }

    #[wasm_bindgen(getter, js_name = hasKeys)]
    pub fn has_keys(&self) -> bool {
        self.inner.has_keys()
    }

    #[wasm_bindgen(getter, js_name = lastError)]
    pub fn last_error(&self) -> JsValue {
        self.inner.last_error().map_or(JsValue::NULL, core_error)
    }

    #[wasm_bindgen(getter)]
    pub fn fetches(&self) -> f64 {
        self.inner.fetches() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn failures(&self) -> f64 {
        self.inner.failures() as f64
    }

    #[wasm_bindgen(getter, js_name = jwksUrl)]
    pub fn jwks_url(&self) -> Option<String> {
        self.inner.jwks_url().map(str::to_owned)
    }

    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> Option<String> {
        self.inner.issuer().map(str::to_owned)
    }
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
