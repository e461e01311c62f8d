//! `TokenCache`: the core's verified-token cache (`mfagate::TokenCache`),
//! given to `new Gate(policy, jwks, { cache })`. The core checks the bounds;
//! the hash key is 128 bits of `crypto.getRandomValues` (the standard
//! library has no randomness on wasm32).

use crate::convert::{js_type, obj, read_fields};
use crate::errors::{core_error, crypto_error, usage};
use js_sys::{Function, Reflect, Uint8Array};
use mfagate::{CacheOptions, ErrorCode};
use std::sync::Arc;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// 128 random bits from the host, or `crypto_unavailable`: a cache keyed by
/// a predictable hash would let a client aim collisions at it.
fn random_key() -> Result<(u64, u64), JsValue> {
    let none =
        || crypto_error("a TokenCache needs globalThis.crypto.getRandomValues for its hash key");
    let crypto =
        Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(|_| none())?;
    let get = Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(none)?;
    let buf = Uint8Array::new_with_length(16);
    get.call1(&crypto, &buf).map_err(|_| none())?;
    let mut b = [0u8; 16];
    buf.copy_to(&mut b);
    let (lo, hi) = b.split_at(8);
    let word = |s: &[u8]| s.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    Ok((word(lo), word(hi)))
}

/// A bounded cache of verified tokens, shared by the gates given it.
#[wasm_bindgen]
pub struct TokenCache {
    inner: Arc<mfagate::TokenCache>,
}

/// A TokenCache's shared state, handed from a TokenCache to a Gate (and
/// consumed by it): only a real TokenCache can make one.
#[wasm_bindgen(js_name = "__CacheHandle")]
pub struct CacheHandle {
    inner: Arc<mfagate::TokenCache>,
}

#[wasm_bindgen]
impl TokenCache {
    /// `new TokenCache({maxEntries?, maxBytes?})`: throws UsageError
    /// `request_invalid` for bounds that are not whole numbers or too small,
    /// `crypto_unavailable` without `crypto.getRandomValues`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<TokenCache, JsValue> {
        let opts = if options.is_undefined() || options.is_null() {
            CacheOptions::default()
        } else if options.is_object() && !options.is_function() && !js_sys::Array::is_array(options)
        {
            let fields = read_fields(options)?;
            CacheOptions::from_fields(fields.iter().map(|(k, f)| (k.as_str(), f.field())))
                .map_err(|e| core_error(&e))?
        } else {
            return Err(core_error(&mfagate::Error::new(
                ErrorCode::RequestInvalid,
                format!("cache options must be an object, not {}", js_type(options)),
                "pass {maxEntries, maxBytes}",
            )));
        };
        opts.check().map_err(|e| core_error(&e))?;
        let inner = mfagate::TokenCache::with_hash_key(opts, random_key()?);
        Ok(TokenCache {
            inner: Arc::new(inner),
        })
    }

    #[wasm_bindgen(getter, js_name = maxEntries)]
    pub fn max_entries(&self) -> f64 {
        self.inner.options().max_entries as f64
    }

    #[wasm_bindgen(getter, js_name = maxBytes)]
    pub fn max_bytes(&self) -> f64 {
        self.inner.options().max_bytes as f64
    }

    /// `{hits, misses, entries, bytes}`, for metrics.
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        obj(&[
            ("hits", JsValue::from_f64(s.hits as f64)),
            ("misses", JsValue::from_f64(s.misses as f64)),
            ("entries", JsValue::from_f64(s.entries as f64)),
            ("bytes", JsValue::from_f64(s.bytes as f64)),
        ])
    }

    /// Forgets every token.
    pub fn clear(&self) {
        self.inner.clear();
    }

    #[wasm_bindgen(js_name = "__handle")]
    pub fn handle(&self) -> CacheHandle {
        CacheHandle {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// The cache of a Gate's options (`{cache}`; undefined, null or no `cache`
/// for none): a TypeError-like UsageError for anything but a TokenCache.
pub(crate) fn cache_option(options: &JsValue) -> Result<Option<Arc<mfagate::TokenCache>>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let bad = |what: &str| {
        usage(
            format!("the Gate's options must be {{cache}} with a TokenCache, not {what}"),
            "pass new Gate(policy, jwks, { cache: new TokenCache({ maxEntries, maxBytes }) })",
        )
    };
    if !options.is_object() {
        return Err(bad(js_type(options)));
    }
    for (k, _) in read_fields(options)? {
        if k != "cache" {
            return Err(bad(&format!("an object with the key {k:?}")));
        }
    }
    let cache =
        Reflect::get(options, &JsValue::from_str("cache")).map_err(|_| bad("unreadable"))?;
    if cache.is_undefined() || cache.is_null() {
        return Ok(None);
    }
    let handle = Reflect::get(&cache, &JsValue::from_str("__handle"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call0(&cache).ok())
        .and_then(|h| CacheHandle::try_from_js_value(h).ok())
        .ok_or_else(|| bad(&format!("a cache that is {}", js_type(&cache))))?;
    Ok(Some(handle.inner))
}
