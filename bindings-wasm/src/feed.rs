//! The core's key feed and engine (`mfagate::KeyFeed`, `mfagate::Engine`),
//! driven by the package's JwksCache and JwksGate (js/jwks.js), which only
//! perform the GETs the feed asks for and keep the promises. Every rule
//! (when to fetch, rate limits, URL rules, limits, defaults and option
//! checks, discovery, which gate decides) is the core's.

use crate::cache::cache_option;
use crate::convert::{obj, policy_from, read_fields, Owned};
use crate::errors::core_error;
use crate::gate::Gate;
use mfagate::{Poll, RefreshOptions, Snapshot, Spelling};
use std::cell::RefCell;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// A millisecond time or id from JavaScript (a number) as the core's u64.
fn js_u64(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// The options JwksCache reads itself.
const OWN: &[&str] = &["fetch", "onError", "now"];

/// The refresh options of a JwksCache's options object. A refusal names the
/// option in JavaScript's code style before the core's words: every check
/// is of one option alone, so the first option refused on its own is it.
fn refresh_options(options: &JsValue) -> Result<RefreshOptions, JsValue> {
    let fields = read_fields(options)?;
    let read = |f: &[(String, Owned)]| {
        RefreshOptions::from_fields(
            f.iter().map(|(k, v)| (k.as_str(), v.field())),
            Spelling::Camel,
            OWN,
        )
    };
    read(&fields).map_err(|e| {
        let named = fields
            .iter()
            .find(|f| read(std::slice::from_ref(*f)).is_err())
            .map(|(k, _)| mfagate::Error::new(e.code, format!("`{k}`: {}", e.message), &e.hint));
        core_error(named.as_ref().unwrap_or(&e))
    })
}

/// A GET to perform: `{id, url, timeoutMs, maxBytes}`.
fn fetch_value(f: &mfagate::Fetch) -> JsValue {
    obj(&[
        ("id", JsValue::from_f64(f.id as f64)),
        ("url", JsValue::from_str(&f.url)),
        ("timeoutMs", JsValue::from_f64(f.timeout_ms as f64)),
        ("maxBytes", JsValue::from_f64(f.max_bytes as f64)),
    ])
}

/// What to do: a fetch to perform, "wait" for the one in flight, true to
/// decide (again) now, null for nothing (the decision stands).
fn step_value(p: Option<Poll>) -> JsValue {
    match p {
        None => JsValue::NULL,
        Some(Poll::Ready) => JsValue::TRUE,
        Some(Poll::Wait) => JsValue::from_str("wait"),
        Some(Poll::Fetch { fetch, .. }) => fetch_value(&fetch),
    }
}

/// The core `KeyFeed`. Not part of the public API: `JwksCache` drives it.
#[wasm_bindgen(js_name = "__KeyFeed")]
pub struct KeyFeed {
    inner: Arc<mfagate::KeyFeed>,
}

impl KeyFeed {
    fn read<R: Default>(&self, f: impl FnOnce(&mfagate::Refresher) -> R) -> R {
        self.inner.with_refresher(f).unwrap_or_default()
    }
}

#[wasm_bindgen(js_class = "__KeyFeed")]
impl KeyFeed {
    /// `options`: a JwksCache's options object. Throws `UsageError`
    /// `jwks_url_invalid` for a URL mfagate will not fetch from,
    /// `request_invalid` for an option unknown, of another type or out of
    /// range.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: &JsValue) -> Result<KeyFeed, JsValue> {
        let opts = refresh_options(options)?;
        mfagate::KeyFeed::refreshing(url, opts)
            .map(|f| KeyFeed { inner: Arc::new(f) })
            .map_err(|e| core_error(&e))
    }

    /// Before deciding at `nowMs`: true (decide now), a fetch, or "wait".
    pub fn poll(&self, now_ms: f64) -> JsValue {
        step_value(Some(self.inner.poll(js_u64(now_ms))))
    }

    /// Fetch now unless one was tried less than the minimum refresh
    /// interval ago: a fetch, "wait", or null.
    pub fn refresh(&self, now_ms: f64) -> JsValue {
        step_value(self.inner.refresh(js_u64(now_ms)))
    }

    /// A token named a kid the keys of `version` lack: true (newer keys are
    /// in use), a fetch, "wait", or null (the decision stands).
    #[wasm_bindgen(js_name = unknownKid)]
    pub fn unknown_kid(&self, version: f64, now_ms: f64) -> JsValue {
        step_value(self.inner.unknown_kid(js_u64(version), js_u64(now_ms)))
    }

    /// Fetch `id` answered `status` with `body`: the next fetch of the same
    /// attempt (a configuration came: its key set), or null; throws
    /// `JwksError` `jwks_fetch_failed` when it failed.
    pub fn fetched(
        &self,
        id: f64,
        now_ms: f64,
        status: u16,
        body: &[u8],
    ) -> Result<JsValue, JsValue> {
        match self.inner.fetched(js_u64(id), js_u64(now_ms), status, body) {
            Ok(next) => Ok(next.as_ref().map_or(JsValue::NULL, fetch_value)),
            Err(e) => Err(core_error(&e)),
        }
    }

    /// Fetch `id` got no answer (network, timeout, body over the limit):
    /// returns the `JwksError` to report.
    pub fn failed(&self, id: f64, now_ms: f64, why: &str) -> JsValue {
        core_error(&self.inner.failed(js_u64(id), js_u64(now_ms), why))
    }

    #[wasm_bindgen(js_name = retryAfter)]
    pub fn retry_after(&self, now_ms: f64) -> u32 {
        self.read(|r| r.retry_after(js_u64(now_ms)))
    }

    /// Moves with every good key set (0 before the first).
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.inner.version() as f64
    }

    #[wasm_bindgen(getter, js_name = hasKeys)]
    pub fn has_keys(&self) -> bool {
        self.inner.ready()
    }

    #[wasm_bindgen(getter, js_name = lastError)]
    pub fn last_error(&self) -> JsValue {
        self.read(|r| r.last_error().cloned())
            .map_or(JsValue::NULL, |e| core_error(&e))
    }

    #[wasm_bindgen(getter)]
    pub fn fetches(&self) -> f64 {
        self.read(|r| r.fetches()) as f64
    }

    #[wasm_bindgen(getter)]
    pub fn failures(&self) -> f64 {
        self.read(|r| r.failures()) as f64
    }

    #[wasm_bindgen(getter, js_name = jwksUrl)]
    pub fn jwks_url(&self) -> Option<String> {
        self.read(|r| r.jwks_url().map(str::to_owned))
    }

    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> Option<String> {
        self.read(|r| r.issuer().map(str::to_owned))
    }
}

/// The core `Engine` over a feed: a policy and a TokenCache kept across key
/// sets. Not part of the public API: `JwksGate` drives it.
#[wasm_bindgen(js_name = "__Engine")]
pub struct Engine {
    inner: mfagate::Engine,
    /// The snapshot of the gate handed out last: JavaScript keeps that gate
    /// (and the WebCrypto keys it imported) until the snapshot changes.
    handed: RefCell<Option<Arc<Snapshot>>>,
}

#[wasm_bindgen(js_class = "__Engine")]
impl Engine {
    /// Throws `PolicyError`, or `UsageError` for options other than
    /// `{cache: TokenCache}`.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &JsValue, feed: &KeyFeed, options: &JsValue) -> Result<Engine, JsValue> {
        let policy = policy_from(policy)?;
        let cache = cache_option(options)?;
        Ok(Engine {
            inner: mfagate::Engine::new(policy, Arc::clone(&feed.inner), cache),
            handed: RefCell::new(None),
        })
    }

    /// The gate to decide with at `nowMs`, or undefined while it is the
    /// one handed out last. Before the first good key set every call hands
    /// out a new one, refusing every token `keys_unavailable` (version 0).
    pub fn gate(&self, now_ms: f64) -> Option<Gate> {
        let snap = self.inner.snapshot(js_u64(now_ms));
        let mut handed = self.handed.borrow_mut();
        if handed.as_ref().is_some_and(|h| Arc::ptr_eq(h, &snap)) {
            return None;
        }
        let gate = Gate::over(Arc::clone(snap.shared_gate()));
        *handed = Some(snap);
        Some(gate)
    }

    /// The feed version of the gate handed out last.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.handed
            .borrow()
            .as_ref()
            .map_or(0.0, |s| s.keys_version() as f64)
    }
}
