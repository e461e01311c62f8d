//! The `Gate` class: a policy and a JWK Set, deciding requests, with
//! RS256/PS256/ES256 verified by WebCrypto through the core's two-phase API.

use crate::convert::{
    json_text, key_set_from, policy_from, read_request, request_from_parts, serde_value, utf8,
};
use crate::errors::crypto_error;
use crate::pack;
use crate::webcrypto::{error_message, subtle, webcrypto_params, KeyCache, Slot, SubtleCrypto};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use mfagate::{Algorithm, Pending, RequestSpec, Step};
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub(crate) struct Shared {
    /// Shared with an engine's snapshot for a JwksGate's gates.
    pub(crate) gate: Arc<mfagate::Gate>,
    pub(crate) cache: KeyCache,
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
        pending: Box<Pending>,
        read: Function,
    ) -> Result<JsValue, JsValue> {
        let alg = pending.algorithm();
        let unavailable =
            |why: String| decoded(&read, &self.gate.complete_unavailable(&pending, &why));
        let Some((import, params)) = webcrypto_params(alg) else {
            return unavailable(format!(
                "{} is not verified through WebCrypto",
                alg.as_str()
            ));
        };
        let subtle = match subtle() {
            Ok(s) => s,
            Err(e) => return unavailable(error_message(&e)),
        };
        let key = match self.key(&subtle, pending.key_index(), alg, &import).await {
            Ok(k) => k,
            Err(e) => return unavailable(error_message(&e)),
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
        decoded(&read, &self.gate.complete(&pending, valid))
    }
}

thread_local! {
    /// `js/gate.js`'s reader of packed decisions (`Gate.__setReader`).
    static READER: std::cell::RefCell<Option<Function>> = const { std::cell::RefCell::new(None) };
}

fn reader() -> Result<Function, JsValue> {
    READER.with(|r| r.borrow().clone()).ok_or_else(|| {
        crate::errors::usage(
            "mfagate: Gate.prototype.evaluate is not the package's own",
            "import the package's entry module (mfagate-wasm), not its glue",
        )
    })
}

/// A decision decided after an `await`, read by `js/gate.js`'s reader
/// (`read`) in the same turn as it is packed (see `pack`), so that the
/// promise resolves to the decision itself, with no further hop.
fn decoded(read: &Function, d: &mfagate::Decision) -> Result<JsValue, JsValue> {
    read.call1(&JsValue::NULL, &JsValue::from_str(&pack::decision(d)))
}

/// A policy and a JWK Set, built once; decides requests.
#[wasm_bindgen]
pub struct Gate {
    pub(crate) shared: Rc<Shared>,
}

/// A decision waiting for WebCrypto's answer: what `Gate.__complete`
/// finishes it with. Its own `Rc` keeps the gate's state alive should the
/// gate be freed in the meantime (a JwksGate replaces its gates).
struct Waiting {
    shared: Rc<Shared>,
    pending: Box<Pending>,
}

/// The waiting decisions, by index (a slab: freed slots are reused).
#[derive(Default)]
struct Slab {
    slots: Vec<Option<Waiting>>,
    free: Vec<usize>,
}

impl Slab {
    fn insert(&mut self, w: Waiting) -> usize {
        if let Some(i) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = Some(w);
                return i;
            }
        }
        self.slots.push(Some(w));
        self.slots.len() - 1
    }

    fn take(&mut self, i: usize) -> Option<Waiting> {
        let w = self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        Some(w)
    }
}

thread_local! {
    static WAITING: std::cell::RefCell<Slab> = std::cell::RefCell::new(Slab::default());
    /// The promise of the decision `__decide` just said is waiting, until
    /// `Gate.__pending` takes it.
    static HANDED: std::cell::RefCell<Option<JsValue>> = const { std::cell::RefCell::new(None) };
}

/// `__decide`'s answer for a decision that waits: a unit no packed decision
/// starts with (those are ASCII), then the index in `WAITING` plus one, or
/// 0 when the promise resolves to the decision itself.
fn waiting(promise: JsValue, id: usize) -> String {
    HANDED.with(|h| *h.borrow_mut() = Some(promise));
    format!("\u{80}{id}")
}

impl Gate {
    /// A handle to `gate`, with its own WebCrypto keys (imported on first
    /// use: the key indexes are those of its key set).
    pub(crate) fn over(gate: Arc<mfagate::Gate>) -> Gate {
        Gate {
            shared: Rc::new(Shared {
                gate,
                cache: KeyCache::default(),
            }),
        }
    }

    /// RS256, PS256 and ES256 signatures are verified by WebCrypto (keys
    /// imported once, cached); HS256, and tokens a TokenCache holds, are
    /// decided at once, with no promise of the module's. Once the key is
    /// imported, a verification costs one promise and one call back in
    /// (`js/gate.js` chains it), no closure of the module's.
    fn decide_request(&self, req: RequestSpec) -> Result<String, JsValue> {
        let pending = match self.shared.gate.prepare(&req.as_request()) {
            Step::Done(d) => return Ok(pack::decision(&d)),
            Step::Verify(pending) => pending,
        };
        let alg = pending.algorithm();
        match (
            self.shared.cache.lookup(pending.key_index(), alg),
            webcrypto_params(alg),
            subtle(),
        ) {
            (Some(Ok(key)), Some((_, params)), Ok(subtle)) => {
                let sig = Uint8Array::from(pending.signature());
                let data = Uint8Array::from(pending.signing_input());
                let verified: JsValue = match subtle.verify(&params, &key, &sig, &data) {
                    Ok(p) => p.into(),
                    // A synchronous throw is a rejection too.
                    Err(e) => Promise::reject(&e).into(),
                };
                let id = WAITING.with(|w| {
                    w.borrow_mut().insert(Waiting {
                        shared: Rc::clone(&self.shared),
                        pending,
                    })
                });
                Ok(waiting(verified, id + 1))
            }
            _ => {
                let read = reader()?;
                let shared = Rc::clone(&self.shared);
                let p = wasm_bindgen_futures::future_to_promise(shared.finish(pending, read));
                Ok(waiting(p.into(), 0))
            }
        }
    }
}

#[wasm_bindgen]
impl Gate {
    /// `new Gate(policy, jwks)`: `policy` is a policy spec (a built-in name,
    /// `{builtin, overrides}` or `{policy, overrides}`); `jwks` a JWK Set as
    /// an object or JSON text (null for none). Throws `PolicyError` or
    /// `JwksError`.
    /// `options`: `{cache}`, a TokenCache remembering verified tokens
    /// (opt-in).
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &JsValue, jwks: &JsValue, options: &JsValue) -> Result<Gate, JsValue> {
        let policy = policy_from(policy)?;
        let keys = key_set_from(jwks)?;
        let tokens = crate::cache::cache_option(options)?;
        let gate = mfagate::Gate::new(policy, keys);
        Ok(Gate::over(Arc::new(match tokens {
            Some(c) => gate.with_cache(c),
            None => gate,
        })))
    }

    /// The core's own JSON of the decision on `request` (`Decision::to_json`),
    /// the host's signature check given as `signature_valid`: what the
    /// package's tests compare every decision `js/gate.js` reads with.
    #[wasm_bindgen(js_name = "__decisionJson")]
    pub fn decision_json(
        &self,
        request: &JsValue,
        signature_valid: bool,
    ) -> Result<String, JsValue> {
        let req = read_request(request)?;
        let d = match self.shared.gate.prepare(&req.as_request()) {
            Step::Done(d) => *d,
            Step::Verify(p) => self.shared.gate.complete(&p, signature_valid),
        };
        Ok(d.to_json())
    }

    /// The promise of the decision `__decide` just said is waiting: of
    /// WebCrypto's answer (then `__complete`), or of the decision itself.
    #[wasm_bindgen(js_name = "__pending")]
    pub fn take_pending() -> JsValue {
        HANDED
            .with(|h| h.borrow_mut().take())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Finishes waiting decision `id` with WebCrypto's answer: the packed
    /// decision.
    #[wasm_bindgen(js_name = "__complete")]
    pub fn complete_waiting(id: u32, signature_valid: bool) -> Result<String, JsValue> {
        let w = (id as usize)
            .checked_sub(1)
            .and_then(|i| WAITING.with(|w| w.borrow_mut().take(i)))
            .ok_or_else(|| {
                crate::errors::usage(
                    format!("mfagate: no decision is waiting as #{id}"),
                    "report this: the package's JavaScript and WebAssembly do not match",
                )
            })?;
        let d = w.shared.gate.complete(&w.pending, signature_valid);
        Ok(pack::decision(&d))
    }

    /// Called once by `js/gate.js` with its reader of packed decisions.
    #[wasm_bindgen(js_name = "__setReader")]
    pub fn set_reader(read: Function) {
        READER.with(|r| *r.borrow_mut() = Some(read));
    }

    /// The request's fields as `js/gate.js` passes them (see
    /// `request_from_parts`): the packed decision (a string) when it is
    /// decided at once, else a promise of it. Throws `UsageError` for an
    /// unusable request. `Gate.prototype.evaluate` is `js/gate.js`'s.
    #[wasm_bindgen(js_name = "__decide")]
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &self,
        text: &[u8],
        method: i32,
        path: i32,
        host: i32,
        authorization: i32,
        token: i32,
        now: Option<f64>,
        mfa_registered: Option<bool>,
        validate_mfa: Option<bool>,
    ) -> Result<String, JsValue> {
        let lens = [method, path, host, authorization, token];
        let req = request_from_parts(text, lens, now, mfa_registered, validate_mfa)?;
        self.decide_request(req)
    }

    /// As `__decide`, for a request of any other shape: read key by key,
    /// so that the core names what is wrong with it.
    #[wasm_bindgen(js_name = "__decideObject")]
    pub fn decide_object(&self, request: &JsValue) -> Result<String, JsValue> {
        self.decide_request(read_request(request)?)
    }

    /// Decides on claims already verified: `text` holds the claims' JSON
    /// (`claims` bytes), then the request's fields as for `__decide`.
    /// Returns the packed decision.
    #[wasm_bindgen(js_name = "__claims")]
    #[allow(clippy::too_many_arguments)]
    pub fn claims(
        &self,
        text: &[u8],
        claims: u32,
        method: i32,
        path: i32,
        host: i32,
        authorization: i32,
        token: i32,
        now: Option<f64>,
        mfa_registered: Option<bool>,
        validate_mfa: Option<bool>,
    ) -> Result<String, JsValue> {
        let (json, rest) = text.split_at((claims as usize).min(text.len()));
        let lens = [method, path, host, authorization, token];
        let req = request_from_parts(rest, lens, now, mfa_registered, validate_mfa)?;
        let d = self
            .shared
            .gate
            .evaluate_claims_json(&utf8(json), &req.as_request());
        Ok(pack::decision(&d))
    }

    /// As `__claims`, for claims or a request of any other shape.
    #[wasm_bindgen(js_name = "__claimsObject")]
    pub fn claims_object(&self, claims: &JsValue, request: &JsValue) -> Result<String, JsValue> {
        let req = read_request(request)?;
        let text = json_text(claims, "the claims")?;
        let d = self
            .shared
            .gate
            .evaluate_claims_json(&text, &req.as_request());
        Ok(pack::decision(&d))
    }

    /// Whether this gate remembers verified tokens in a TokenCache.
    #[wasm_bindgen(getter, js_name = hasCache)]
    pub fn has_cache(&self) -> bool {
        self.shared.gate.cache().is_some()
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
