//! The gate's life, the core's (`mfagate::KeyFeed`, `mfagate::Engine`):
//! `lib/jwks.js` only performs the GETs the feed asks for, shares the fetch
//! in flight between requests and calls `onError`. Every rule (timing, rate
//! limits, URL rules, limits, parsing, discovery, option defaults and
//! checks) is the core's.

use crate::{clock, fields_of, policy_from, throw, NativeError, NativeGate, NativeTokenCache};
use mfagate::{Engine, Fetch, KeyFeed, Poll, RefreshOptions, Refresher, Spelling};
use napi::bindgen_prelude::{Buffer, Object, Unknown};
use napi::Env;
use napi_derive::napi;
use std::sync::Arc;

/// The options `lib/jwks.js` reads itself; the core refuses any other key
/// it does not know.
const OWN_OPTIONS: [&str; 5] = ["jwksUri", "fetch", "onError", "now", "cache"];

/// A GET to perform, then report with `fetched` or `failed`.
#[napi(object)]
pub struct FetchOrder {
    /// Pass it back with the result. The feed's ids stay far below 2^53
    /// (it never replaces its refresher), so a JS number holds them.
    pub id: f64,
    pub url: String,
    /// The whole fetch (answer and body) may take this long.
    pub timeout_ms: f64,
    /// Stop reading beyond this many bytes (and report a failure).
    pub max_bytes: f64,
}

/// What to do before deciding (again): perform `fetch` if there is one,
/// then wait for the fetch in flight when `wait`; null (not a step):
/// decide now.
#[napi(object)]
pub struct FeedStep {
    pub fetch: Option<FetchOrder>,
    pub wait: bool,
}

fn order(f: Fetch) -> FetchOrder {
    FetchOrder {
        id: f.id as f64,
        url: f.url,
        timeout_ms: f.timeout_ms as f64,
        max_bytes: f.max_bytes as f64,
    }
}

fn step(p: Poll) -> Option<FeedStep> {
    match p {
        Poll::Ready => None,
        Poll::Fetch { fetch, wait } => Some(FeedStep {
            fetch: Some(order(fetch)),
            wait,
        }),
        Poll::Wait => Some(FeedStep {
            fetch: None,
            wait: true,
        }),
    }
}

/// A JWKS source kept fresh (`mfagate::KeyFeed::refreshing`).
#[napi]
pub struct NativeKeyFeed {
    inner: Arc<KeyFeed>,
}

impl NativeKeyFeed {
    fn read<R: Default>(&self, f: impl FnOnce(&Refresher) -> R) -> R {
        self.inner.with_refresher(f).unwrap_or_default()
    }
}

#[napi]
impl NativeKeyFeed {
    /// `url`: a JWK Set URL, an OpenID configuration URL or an authority.
    /// `options`: the JwksGate options, the refresh ones read by the core
    /// (`RefreshOptions::from_fields`). Throws `request_invalid` (an option
    /// unknown or out of range) or `jwks_url_invalid`.
    #[napi(constructor)]
    pub fn new(env: Env, url: String, options: Object) -> napi::Result<Self> {
        let built = fields_of(&options)
            .and_then(|f| {
                RefreshOptions::from_fields(
                    f.iter().map(|(k, v)| (k.as_str(), v.field())),
                    Spelling::Camel,
                    &OWN_OPTIONS,
                )
            })
            .and_then(|o| KeyFeed::refreshing(&url, o));
        match built {
            Ok(feed) => Ok(NativeKeyFeed {
                inner: Arc::new(feed),
            }),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// Before deciding at `now` (ms, monotonic): null to decide now, or a
    /// step (see [`FeedStep`]).
    #[napi]
    pub fn poll(&self, now: f64) -> Option<FeedStep> {
        step(self.inner.poll(clock(now)))
    }

    /// Fetch now unless one was tried less than `minRefreshSeconds` ago:
    /// null (too soon), or a step.
    #[napi]
    pub fn refresh(&self, now: f64) -> Option<FeedStep> {
        self.inner.refresh(clock(now)).and_then(step)
    }

    /// Fetch `id` answered `status` with `body`: the next fetch of the same
    /// attempt (a configuration came: its key set), or null. Throws
    /// `jwks_fetch_failed` (the last good keys stay in use).
    #[napi]
    pub fn fetched(
        &self,
        env: Env,
        id: f64,
        now: f64,
        status: u32,
        body: Buffer,
    ) -> napi::Result<Option<FetchOrder>> {
        let status = u16::try_from(status).unwrap_or(0);
        match self.inner.fetched(clock(id), clock(now), status, &body) {
            Ok(next) => Ok(next.map(order)),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// Fetch `id` got no answer (network, timeout, body over the limit):
    /// the error to report, code `jwks_fetch_failed`.
    #[napi]
    pub fn failed(&self, id: f64, now: f64, why: String) -> NativeError {
        NativeError::from(&self.inner.failed(clock(id), clock(now), &why))
    }

    /// Moves with every good key set (0 before the first).
    #[napi(getter)]
    pub fn version(&self) -> f64 {
        self.inner.version() as f64
    }

    #[napi(getter)]
    pub fn has_keys(&self) -> bool {
        self.read(|r| r.has_keys())
    }

    /// Attempts started (a configuration and its key set are one attempt).
    #[napi(getter)]
    pub fn fetches(&self) -> f64 {
        self.read(|r| r.fetches()) as f64
    }

    /// Why the last fetch failed, or null after a good one.
    #[napi(getter)]
    pub fn last_error(&self) -> Option<NativeError> {
        self.read(|r| r.last_error().map(NativeError::from))
    }

    /// The key set's URL: the source itself, or (once fetched) the
    /// configuration's `jwks_uri`.
    #[napi(getter)]
    pub fn jwks_url(&self) -> Option<String> {
        self.read(|r| r.jwks_url().map(str::to_owned))
    }

    /// The OpenID configuration's `issuer`, once fetched.
    #[napi(getter)]
    pub fn issuer(&self) -> Option<String> {
        self.read(|r| r.issuer().map(str::to_owned))
    }
}

/// A policy over a feed's keys, with an optional token cache
/// (`mfagate::Engine`).
#[napi]
pub struct NativeEngine {
    inner: Engine,
}

#[napi]
impl NativeEngine {
    /// Throws the core's policy errors.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "string | object")] policy: Unknown,
        feed: &NativeKeyFeed,
        cache: Option<&NativeTokenCache>,
    ) -> napi::Result<Self> {
        match policy_from(&env, policy) {
            Ok(p) => Ok(NativeEngine {
                inner: Engine::new(
                    p,
                    Arc::clone(&feed.inner),
                    cache.map(|c| Arc::clone(&c.inner)),
                ),
            }),
            Err(e) => Err(throw(&env, &e)),
        }
    }

    /// The gate of the current snapshot at `now` (ms): the same gate, not a
    /// copy, for as long as the keys stay; before the first good set one
    /// refusing every token `keys_unavailable`, with the Retry-After of `now`.
    #[napi]
    pub fn gate(&self, now: f64) -> NativeGate {
        NativeGate {
            inner: Arc::clone(self.inner.snapshot(clock(now)).shared_gate()),
        }
    }

    /// Once per request decided `key_not_found` with the keys of `version`:
    /// null when the decision stands, else the step to take before deciding
    /// again (`{fetch: null, wait: false}`: newer keys are in use already).
    /// `Engine::after`'s rule; it is asked through the feed because the
    /// decision came back packed, its reason read on the JS side.
    #[napi]
    pub fn after_key_not_found(&self, version: f64, now: f64) -> Option<FeedStep> {
        self.inner
            .feed()
            .unknown_kid(clock(version), clock(now))
            .map(|p| {
                step(p).unwrap_or(FeedStep {
                    fetch: None,
                    wait: false,
                })
            })
    }
}
