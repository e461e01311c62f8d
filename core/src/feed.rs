//! Where a gate's keys come from, shared between threads and between gates:
//! a fixed [`KeySet`], or one kept fresh by the sans-IO [`Refresher`].
//!
//! A [`KeyFeed`] is the one place a fetched key set becomes the keys in use:
//! every good set gets a new [`KeyFeed::version`], and an [`crate::Engine`]
//! reading the feed rebuilds its gate when the version moves, so no gate
//! keeps deciding with keys its feed has replaced. Bindings keep only the
//! HTTP GET (the URL, timeout and size limit of each [`Fetch`], no
//! redirects) and their way of waiting (a thread, a promise, a task).

use crate::error::{Error, ErrorCode, Result};
use crate::keys::KeySet;
use crate::refresh::{Fetch, Next, RefreshOptions, Refresher};
use crate::request::spec::type_name;
use crate::request::Field;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// What a binding does before it decides a request (see [`KeyFeed::poll`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Decide now with the keys in use.
    Ready,
    /// Perform this GET and report it ([`KeyFeed::fetched`] or
    /// [`KeyFeed::failed`]). When `wait` is true no usable keys exist yet:
    /// decide only once the fetch is reported (every token would be
    /// refused `keys_unavailable` until then); else the fetch may run in
    /// the background while requests go on with the current keys.
    Fetch {
        /// The GET to perform.
        fetch: Fetch,
        /// Decide only after reporting it.
        wait: bool,
    },
    /// A fetch is in flight and no usable keys exist yet: wait until it is
    /// reported (or for [`KeyFeed::wait_bound_ms`]), then poll again.
    Wait,
}

#[derive(Debug)]
enum Source {
    Fixed,
    Refresh {
        refresher: Box<Refresher>,
        /// The fetch handed out and not reported yet, so that callers
        /// without keys know whether there is something to wait for.
        fetching: Option<u64>,
    },
}

#[derive(Debug)]
struct State {
    source: Source,
    /// Moves with every refresher put in use: a fetch id carries it, so an
    /// answer to a replaced refresher's fetch is never taken for one of
    /// the refresher in use (their own ids both start at 1).
    epoch: u64,
    /// The last good set (None before the first, for a refreshed feed).
    keys: Option<Arc<KeySet>>,
}

/// A key set, fixed or kept fresh, that gates read (see the module docs).
/// `Send + Sync`: every call holds a short lock and performs no I/O.
#[derive(Debug)]
pub struct KeyFeed {
    state: Mutex<State>,
    /// Moves with every key set put in use; read without the lock.
    version: AtomicU64,
}

impl KeyFeed {
    /// Keys that only change by [`KeyFeed::set_keys`].
    pub fn fixed(keys: KeySet) -> KeyFeed {
        KeyFeed::fixed_shared(Arc::new(keys))
    }

    /// Like [`KeyFeed::fixed`], with a set shared with others.
    pub fn fixed_shared(keys: Arc<KeySet>) -> KeyFeed {
        KeyFeed {
            state: Mutex::new(State {
                source: Source::Fixed,
                epoch: 0,
                keys: Some(keys),
            }),
            version: AtomicU64::new(1),
        }
    }

    /// Keys fetched from `url` (a JWK Set URL, an OpenID configuration or
    /// an authority; see [`Refresher`]) and kept fresh. Errors:
    /// `jwks_url_invalid`, `request_invalid` for options out of range.
    pub fn refreshing(url: &str, opts: RefreshOptions) -> Result<KeyFeed> {
        Ok(KeyFeed::from_refresher(Refresher::new(url, opts)?))
    }

    /// A feed driven by `refresher`, with the keys it holds already, if any
    /// (a reload fetches with a new refresher, then puts it in use whole).
    pub fn from_refresher(refresher: Refresher) -> KeyFeed {
        let keys = refresher.has_keys().then(|| refresher.key_set_at(0));
        KeyFeed {
            version: AtomicU64::new(u64::from(keys.is_some())),
            state: Mutex::new(State {
                source: Source::Refresh {
                    refresher: Box::new(refresher),
                    fetching: None,
                },
                epoch: 0,
                keys,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every field is replaced whole under the lock: a panic elsewhere
        // cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Moves whenever other keys are put in use (0: a refreshed feed that
    /// never had a good set).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The keys to decide with at `now_ms` (a monotonic clock), with the
    /// version they belong to: the last good set, or before the first one a
    /// set refusing every token `keys_unavailable` with a Retry-After.
    pub fn keys_at(&self, now_ms: u64) -> (u64, Arc<KeySet>) {
        let st = self.lock();
        let version = self.version();
        match (&st.keys, &st.source) {
            (Some(k), _) => (version, Arc::clone(k)),
            (None, Source::Refresh { refresher, .. }) => (version, refresher.key_set_at(now_ms)),
            (None, Source::Fixed) => (version, Arc::new(KeySet::empty())),
        }
    }

    /// A usable key set is in use (what a readiness probe reports).
    pub fn ready(&self) -> bool {
        self.lock().keys.as_ref().is_some_and(|k| !k.is_empty())
    }

    /// From now on these keys, fixed (a file reloaded, a rotation done by
    /// hand). A refresher in use is dropped.
    pub fn set_keys(&self, keys: KeySet) {
        let mut st = self.lock();
        st.source = Source::Fixed;
        st.keys = Some(Arc::new(keys));
        self.bump();
    }

    /// From now on `refresher` keeps the keys fresh; its keys, if it has
    /// any, are in use at once (a reload that fetched them already).
    pub fn set_refresher(&self, refresher: Refresher) {
        let mut st = self.lock();
        st.keys = refresher.has_keys().then(|| refresher.key_set_at(0));
        st.epoch += 1;
        st.source = Source::Refresh {
            refresher: Box::new(refresher),
            fetching: None,
        };
        self.bump();
    }

    /// What to do before deciding a request at `now_ms` (see [`Poll`]).
    pub fn poll(&self, now_ms: u64) -> Poll {
        let mut st = self.lock();
        let has_keys = st.keys.is_some();
        let epoch = st.epoch;
        let Source::Refresh {
            refresher,
            fetching,
        } = &mut st.source
        else {
            return Poll::Ready;
        };
        match refresher.next(now_ms) {
            Next::Fetch(f) => {
                let f = tagged(epoch, f);
                *fetching = Some(f.id);
                Poll::Fetch {
                    fetch: f,
                    wait: !has_keys,
                }
            }
            Next::InFlight if !has_keys => Poll::Wait,
            Next::InFlight | Next::Idle => Poll::Ready,
        }
    }

    /// A token named a `kid` the keys of `version` lack: what to do before
    /// deciding it once more. `Some(Poll::Ready)` when newer keys are in use
    /// already; a fetch to perform (wait for it) or a fetch in flight to
    /// wait for; None when no fresher keys can come now (rate limit, or
    /// fixed keys): the decision stands. Ask once per request.
    pub fn unknown_kid(&self, version: u64, now_ms: u64) -> Option<Poll> {
        if self.version() != version {
            return Some(Poll::Ready);
        }
        self.refresh(now_ms)
    }

    /// Fetch now, whatever the TTL says, unless a fetch was tried less than
    /// the minimum refresh interval ago: the fetch to perform, [`Poll::Wait`]
    /// for one in flight, or None (too soon, or fixed keys).
    pub fn refresh(&self, now_ms: u64) -> Option<Poll> {
        let mut st = self.lock();
        let epoch = st.epoch;
        let Source::Refresh {
            refresher,
            fetching,
        } = &mut st.source
        else {
            return None;
        };
        if !refresher.unknown_kid(now_ms) {
            return None;
        }
        match refresher.next(now_ms) {
            Next::Fetch(f) => {
                let f = tagged(epoch, f);
                *fetching = Some(f.id);
                Some(Poll::Fetch {
                    fetch: f,
                    wait: true,
                })
            }
            Next::InFlight => Some(Poll::Wait),
            Next::Idle => None,
        }
    }

    /// Fetch `id` answered `status` with `body`. `Ok(Some(fetch))`: the
    /// same attempt goes on (a configuration came; fetch the key set it
    /// names now). `Ok(None)`: done (new keys are in use, or the answer came
    /// too late to count). Errors: `jwks_fetch_failed`, the last good keys
    /// staying in use.
    pub fn fetched(&self, id: u64, now_ms: u64, status: u16, body: &[u8]) -> Result<Option<Fetch>> {
        let mut st = self.lock();
        let State {
            source,
            keys,
            epoch,
        } = &mut *st;
        let Source::Refresh {
            refresher,
            fetching,
        } = source
        else {
            return Ok(None);
        };
        if *fetching != Some(id) {
            // Late (abandoned, or asked by a refresher since replaced).
            return Ok(None);
        }
        *fetching = None;
        match refresher.fetched(untagged(id), now_ms, status, body)? {
            true => {
                *keys = Some(refresher.key_set_at(now_ms));
                self.bump();
                Ok(None)
            }
            false => match refresher.next(now_ms) {
                Next::Fetch(f) => {
                    let f = tagged(*epoch, f);
                    *fetching = Some(f.id);
                    Ok(Some(f))
                }
                Next::InFlight | Next::Idle => Ok(None),
            },
        }
    }

    /// Fetch `id` got no answer (network error, timeout, too large): the
    /// `jwks_fetch_failed` error to report (log it); the last good keys
    /// stay in use.
    pub fn failed(&self, id: u64, now_ms: u64, why: &str) -> Error {
        let mut st = self.lock();
        match &mut st.source {
            Source::Refresh {
                refresher,
                fetching,
            } => {
                if *fetching != Some(id) {
                    return Error::new(
                        ErrorCode::JwksFetchFailed,
                        why,
                        "a late answer of an abandoned fetch",
                    );
                }
                *fetching = None;
                refresher.failed(untagged(id), now_ms, why)
            }
            Source::Fixed => Error::new(
                ErrorCode::JwksFetchFailed,
                why,
                "these keys are fixed: nothing was fetched",
            ),
        }
    }

    /// A fetch handed out is not reported yet.
    pub fn fetching(&self) -> bool {
        matches!(
            self.lock().source,
            Source::Refresh {
                fetching: Some(_),
                ..
            }
        )
    }

    /// How long a caller waiting for a fetch in flight waits at most
    /// (milliseconds): a configuration and its key set, each within the
    /// timeout, and a second to spare.
    pub fn wait_bound_ms(&self) -> u64 {
        self.with_refresher(|r| (r.options().timeout * 2000.0) as u64 + 1000)
            .unwrap_or(0)
    }

    /// Reads the refresher (its URL, issuer, counters, last error), if the
    /// keys are refreshed.
    pub fn with_refresher<R>(&self, f: impl FnOnce(&Refresher) -> R) -> Option<R> {
        match &self.lock().source {
            Source::Refresh { refresher, .. } => Some(f(refresher)),
            Source::Fixed => None,
        }
    }
}

/// A refresher's fetch id with the feed's epoch in its high half.
fn tagged(epoch: u64, mut f: Fetch) -> Fetch {
    f.id = (epoch << 32) | (f.id & 0xffff_ffff);
    f
}

fn untagged(id: u64) -> u64 {
    id & 0xffff_ffff
}

const REFRESH_HINT: &str = "ttl, timeout, max_bytes (maxBytes) and max_keys (maxKeys) are positive numbers, min_refresh_interval (minRefreshInterval) is not negative; the defaults are ttl 3600 s, minimum refresh interval 60 s, timeout 5 s, 262144 bytes, 64 keys";

fn refresh_invalid(message: String) -> Error {
    Error::new(ErrorCode::RequestInvalid, message, REFRESH_HINT)
}

fn seconds(key: &str, f: Field<'_>, default: f64) -> Result<f64> {
    match f {
        Field::Absent => Ok(default),
        Field::Integer(i) => Ok(i as f64),
        Field::Number(x) => Ok(x),
        other => Err(refresh_invalid(format!(
            "option {key} must be a number of seconds, not {}",
            type_name(&other)
        ))),
    }
}

fn whole(key: &str, f: Field<'_>, default: usize) -> Result<usize> {
    let n = match f {
        Field::Absent => return Ok(default),
        // A negative count is out of range like 0: `check` refuses it.
        Field::Integer(i) => usize::try_from(i).unwrap_or(0),
        Field::Number(x) if x.is_finite() && x.fract() == 0.0 && x < 1.8e19 => {
            if x < 0.0 {
                0
            } else {
                usize::try_from(x as u64).unwrap_or(usize::MAX)
            }
        }
        Field::Number(x) => {
            return Err(refresh_invalid(format!(
                "option {key} must be a whole number, not {x}"
            )))
        }
        other => {
            return Err(refresh_invalid(format!(
                "option {key} must be a whole number, not {}",
                type_name(&other)
            )))
        }
    };
    Ok(n)
}

/// How a runtime spells the refresh options (see
/// [`RefreshOptions::from_fields`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// Python and TOML: `ttl`, `min_refresh_interval`, `timeout`,
    /// `max_bytes`, `max_keys`.
    Snake,
    /// JavaScript: `ttlSeconds`, `minRefreshSeconds`, `timeoutSeconds`,
    /// `maxBytes`, `maxKeys`.
    Camel,
}

/// The options, as (snake, camel) names.
const NAMES: [(&str, &str); 5] = [
    ("ttl", "ttlSeconds"),
    ("min_refresh_interval", "minRefreshSeconds"),
    ("timeout", "timeoutSeconds"),
    ("max_bytes", "maxBytes"),
    ("max_keys", "maxKeys"),
];

/// JavaScript option names of the millisecond era, with their successors:
/// refused by name, since a millisecond value read as seconds would keep
/// keys a thousand times too long.
const MILLISECOND_ERA: [(&str, &str); 3] = [
    ("ttl", "ttlSeconds"),
    ("cooldown", "minRefreshSeconds"),
    ("timeout", "timeoutSeconds"),
];

impl RefreshOptions {
    /// Options from the fields a binding received, in any order, in the
    /// runtime's `spelling`: absent ones take their default
    /// ([`RefreshOptions::default`]); a value of another type, an unknown
    /// key or a value out of range is refused with
    /// [`ErrorCode::RequestInvalid`]. `ignore` names keys the binding reads
    /// itself (a fetch function, a clock, headers).
    pub fn from_fields<'a, I>(
        fields: I,
        spelling: Spelling,
        ignore: &[&str],
    ) -> Result<RefreshOptions>
    where
        I: IntoIterator<Item = (&'a str, Field<'a>)>,
    {
        let mut o = RefreshOptions::default();
        for (key, value) in fields {
            if ignore.contains(&key) {
                continue;
            }
            let named = NAMES.iter().position(|(snake, camel)| match spelling {
                Spelling::Snake => *snake == key,
                Spelling::Camel => *camel == key,
            });
            match named {
                Some(0) => o.ttl = seconds(key, value, o.ttl)?,
                Some(1) => o.min_refresh_interval = seconds(key, value, o.min_refresh_interval)?,
                Some(2) => o.timeout = seconds(key, value, o.timeout)?,
                Some(3) => o.max_bytes = whole(key, value, o.max_bytes)?,
                Some(4) => o.max_keys = whole(key, value, o.max_keys)?,
                _ => {
                    let known: Vec<&str> = NAMES
                        .iter()
                        .map(|(s, c)| if spelling == Spelling::Snake { *s } else { *c })
                        .chain(ignore.iter().copied())
                        .collect();
                    let renamed = MILLISECOND_ERA.iter().find(|(old, _)| *old == key);
                    return Err(match (spelling, renamed) {
                        (Spelling::Camel, Some((old, new))) => refresh_invalid(format!(
                            "the option {old} (milliseconds) is now {new} (seconds): pass {{ {new}: ... }}"
                        )),
                        _ => refresh_invalid(format!(
                            "unknown key set option {key:?} (known: {})",
                            known.join(", ")
                        )),
                    });
                }
            }
        }
        o.check()?;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &str =
        r#"{"keys":[{"kty":"oct","kid":"a","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE"}]}"#;
    const JWKS_B: &str =
        r#"{"keys":[{"kty":"oct","kid":"b","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE"}]}"#;

    fn feed() -> KeyFeed {
        KeyFeed::refreshing("http://127.0.0.1:9/keys", RefreshOptions::default()).unwrap()
    }

    fn fetch_of(p: Poll) -> (Fetch, bool) {
        match p {
            Poll::Fetch { fetch, wait } => (fetch, wait),
            other => panic!("expected a fetch, got {other:?}"),
        }
    }

    #[test]
    fn first_keys_are_waited_for_then_fetched_in_the_background() {
        let f = feed();
        assert_eq!(f.version(), 0);
        assert!(!f.ready());
        let (first, wait) = fetch_of(f.poll(0));
        assert!(wait, "no keys yet: decide after the fetch");
        assert!(f.fetching());
        assert_eq!(f.poll(10), Poll::Wait);
        let (_, k) = f.keys_at(10);
        assert!(k.unavailability().is_some());
        assert_eq!(f.fetched(first.id, 20, 200, JWKS.as_bytes()).unwrap(), None);
        assert!(f.ready() && !f.fetching());
        assert_eq!(f.version(), 1);
        assert_eq!(f.poll(30), Poll::Ready);
        // After the TTL, the next fetch runs beside requests.
        let (_, wait) = fetch_of(f.poll(3_600_020));
        assert!(!wait);
        assert_eq!(f.poll(3_600_030), Poll::Ready, "in flight, keys in use");
    }

    #[test]
    fn unknown_kid_fetches_once_per_interval_and_sees_newer_keys() {
        let f = feed();
        let (first, _) = fetch_of(f.poll(0));
        f.fetched(first.id, 0, 200, JWKS.as_bytes()).unwrap();
        let v = f.version();
        // Too soon after the last attempt: the decision stands.
        assert_eq!(f.unknown_kid(v, 1000), None);
        let (again, wait) = fetch_of(f.unknown_kid(v, 61_000).unwrap());
        assert!(wait);
        assert_eq!(f.unknown_kid(v, 61_001), Some(Poll::Wait));
        f.fetched(again.id, 61_002, 200, JWKS_B.as_bytes()).unwrap();
        assert_eq!(f.unknown_kid(v, 61_003), Some(Poll::Ready));
        let (_, keys) = f.keys_at(61_003);
        assert_eq!(keys.keys()[0].kid.as_deref(), Some("b"));
    }

    #[test]
    fn late_answers_and_failures_keep_the_keys() {
        let f = feed();
        let (first, _) = fetch_of(f.poll(0));
        let e = f.failed(first.id, 5, "refused");
        assert_eq!(e.code, ErrorCode::JwksFetchFailed);
        assert!(!f.fetching());
        // A late answer of the failed fetch changes nothing.
        assert_eq!(f.fetched(first.id, 6, 200, JWKS.as_bytes()).unwrap(), None);
        assert!(!f.ready());
        let (_, k) = f.keys_at(1000);
        let (why, retry) = k.unavailability().unwrap();
        assert!(why.contains("refused"), "{why}");
        assert_eq!(retry, 59);
    }

    #[test]
    fn an_answer_to_a_replaced_refresher_is_late() {
        let f = feed();
        let (old, _) = fetch_of(f.poll(0));
        let mut fresh =
            Refresher::new("http://127.0.0.1:9/keys", RefreshOptions::default()).unwrap();
        let Next::Fetch(n) = fresh.next(0) else {
            panic!("a fetch")
        };
        assert_eq!(
            n.id & 0xffff_ffff,
            old.id & 0xffff_ffff,
            "both refreshers count from 1"
        );
        fresh.fetched(n.id, 1, 200, JWKS_B.as_bytes()).unwrap();
        f.set_refresher(fresh);
        let v = f.version();
        // The old refresher's fetch answers with other keys: not taken.
        assert_eq!(f.fetched(old.id, 2, 200, JWKS.as_bytes()).unwrap(), None);
        assert_eq!(f.version(), v);
        assert_eq!(f.keys_at(3).1.keys()[0].kid.as_deref(), Some("b"));
        let (next, _) = fetch_of(f.poll(3_700_000));
        assert_ne!(next.id, old.id);
    }

    #[test]
    fn discovery_chains_the_key_set_fetch() {
        let f = KeyFeed::refreshing(
            "http://127.0.0.1:9/t/v2.0/.well-known/openid-configuration",
            RefreshOptions::default(),
        )
        .unwrap();
        let (conf, _) = fetch_of(f.poll(0));
        let body = br#"{"issuer":"https://i/t/v2.0","jwks_uri":"http://127.0.0.1:9/t/keys"}"#;
        let next = f.fetched(conf.id, 1, 200, body).unwrap().unwrap();
        assert_eq!(next.url, "http://127.0.0.1:9/t/keys");
        assert!(f.fetching());
        f.fetched(next.id, 2, 200, JWKS.as_bytes()).unwrap();
        assert_eq!(f.keys_at(3).1.issuer(), Some("https://i/t/v2.0"));
    }

    #[test]
    fn fixed_keys_never_fetch_and_swap_whole() {
        let f = KeyFeed::fixed(KeySet::from_json(JWKS).unwrap());
        assert_eq!(f.poll(0), Poll::Ready);
        assert_eq!(f.refresh(0), None);
        let v = f.version();
        assert_eq!(f.unknown_kid(v, 0), None);
        f.set_keys(KeySet::from_json(JWKS_B).unwrap());
        assert_eq!(f.unknown_kid(v, 0), Some(Poll::Ready));
    }

    #[test]
    fn options_from_fields() {
        let o = RefreshOptions::from_fields(
            [
                ("ttlSeconds", Field::Integer(60)),
                ("minRefreshSeconds", Field::Number(0.0)),
                ("maxBytes", Field::Number(1024.0)),
                ("fetch", Field::Other("a function")),
            ],
            Spelling::Camel,
            &["fetch"],
        )
        .unwrap();
        assert_eq!(
            (o.ttl, o.min_refresh_interval, o.max_bytes),
            (60.0, 0.0, 1024)
        );
        let snake = RefreshOptions::from_fields([("ttl", Field::Integer(5))], Spelling::Snake, &[]);
        assert_eq!(snake.unwrap().ttl, 5.0);
        for bad in [
            vec![("ttl", Field::Text("1"))],
            vec![("ttl", Field::Number(-1.0))],
            vec![("max_keys", Field::Number(1.5))],
            vec![("max_keys", Field::Integer(-3))],
            vec![("maxKeys", Field::Integer(3))],
            vec![("ttl_seconds", Field::Integer(3))],
        ] {
            let e = RefreshOptions::from_fields(bad.clone(), Spelling::Snake, &[]).unwrap_err();
            assert_eq!(e.code, ErrorCode::RequestInvalid, "{bad:?}");
        }
        let e =
            RefreshOptions::from_fields([("cooldown", Field::Integer(5))], Spelling::Camel, &[])
                .unwrap_err();
        assert!(e.message.contains("minRefreshSeconds"), "{}", e.message);
    }
}
