//! The `Gate` class: a policy and a JWK Set, deciding requests, with
//! RS256/PS256/ES256 verified by WebCrypto through the core's two-phase API.

use crate::convert::{
    decision_value, json_text, key_set_from, policy_from, read_request, serde_value,
};
use crate::errors::crypto_error;
use crate::webcrypto::{
    error_message, subtle, webcrypto_params, KeyCache, Slot, SubtleCrypto, Thenable,
    REJECTED_IS_FALSE,
};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use mfagate::{Algorithm, Pending, RequestSpec, Step};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub(crate) struct Shared {
    pub(crate) gate: mfagate::Gate,
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

/// A policy and a JWK Set, built once; decides requests.
#[wasm_bindgen]
pub struct Gate {
    pub(crate) shared: Rc<Shared>,
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
        Ok(Gate {
            shared: Rc::new(Shared {
                gate: match tokens {
                    Some(c) => gate.with_cache(c),
                    None => gate,
                },
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

    /// Whether this gate remembers verified tokens in a TokenCache.
    #[wasm_bindgen(getter, js_name = hasCache)]
    pub fn has_cache(&self) -> bool {
        self.shared.gate.cache().is_some()
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
