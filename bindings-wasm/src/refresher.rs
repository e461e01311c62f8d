//! The JWKS refresher: the core's sans-IO state machine, driven by the
//! package's JwksCache (js/jwks.js), which only performs the GETs it asks for.

use crate::convert::obj;
use crate::errors::{core_error, usage};
use crate::gate::{Gate, Shared};
use crate::webcrypto::KeyCache;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

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
                gate: {
                    let g = mfagate::Gate::with_shared_keys(
                        template.shared.gate.policy().clone(),
                        keys,
                    );
                    match template.shared.gate.cache() {
                        Some(c) => g.with_cache(std::sync::Arc::clone(c)),
                        None => g,
                    }
                },
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
