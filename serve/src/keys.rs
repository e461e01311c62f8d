//! Where the keys come from: a JWK Set file (read at start, then like the
//! policy on SIGHUP or change), or a URL kept fresh by the core's key feed
//! (`mfagate::KeyFeed`, its sans-IO refresher inside), which this module
//! only drives: it performs the GETs the feed asks for and reports them;
//! the feed puts each good key set in use, and the engine's next snapshot
//! decides with it. A reload (SIGHUP) fetches a URL source at once with a
//! fresh refresher for the same source and options, and puts it in use
//! only when it brought a good key set.

use crate::clock::mono_ms;
use crate::fetch::{self, HttpsClient};
use crate::state::Shared;
use mfagate::{Fetch, KeyFeed, KeySet, Next, Poll, Refresher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::watch;

pub enum Keys {
    File(PathBuf),
    Url(Box<UrlKeys>),
}

pub struct UrlKeys {
    client: HttpsClient,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// Attempts and failures of the refreshers replaced by reloads (the
    /// metrics count every attempt).
    past_fetches: AtomicU64,
    past_failures: AtomicU64,
    /// Counts finished fetch attempts, good or failed, so a request waiting
    /// for one knows when to decide again.
    attempts: watch::Sender<u64>,
}

/// Reads a JWK Set file; an error names the file and what is wrong.
pub fn read_file(path: &Path) -> Result<KeySet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the JWK Set file {}: {e}", path.display()))?;
    let set = KeySet::from_json(&text)
        .map_err(|e| format!("the JWK Set file {}: {e}", path.display()))?;
    if set.is_empty() {
        return Err(format!(
            "the JWK Set file {} has no usable key ({} skipped): every token would be refused",
            path.display(),
            set.skipped().len()
        ));
    }
    Ok(set)
}

impl Keys {
    pub fn url(client: HttpsClient) -> Keys {
        Keys::Url(Box::new(UrlKeys {
            client,
            reloading: tokio::sync::Mutex::new(()),
            past_fetches: 0.into(),
            past_failures: 0.into(),
            attempts: watch::channel(0).0,
        }))
    }
}

fn publish_counts(shared: &Shared, u: &UrlKeys) {
    let (f, e) = shared
        .engine
        .feed()
        .with_refresher(|r| (r.fetches(), r.failures()))
        .unwrap_or((0, 0));
    let metrics = &shared.metrics;
    metrics
        .jwks_fetches
        .store(u.past_fetches.load(Relaxed) + f, Relaxed);
    metrics
        .jwks_failures
        .store(u.past_failures.load(Relaxed) + e, Relaxed);
}

/// Performs `fetch` and the rest of its attempt (a configuration, then the
/// key set it names), reporting each answer to the feed.
async fn perform(shared: &Shared, u: &UrlKeys, mut fetch: Fetch) {
    let feed = shared.engine.feed();
    loop {
        let got = fetch::get(&u.client, &fetch.url, fetch.timeout_ms, fetch.max_bytes).await;
        let now = mono_ms();
        let before = feed.version();
        let result = match got {
            Ok((status, body)) => feed.fetched(fetch.id, now, status, &body),
            Err(why) => Err(feed.failed(fetch.id, now, &why)),
        };
        publish_counts(shared, u);
        match result {
            // The configuration came: its key set is fetched next, in the
            // same attempt.
            Ok(Some(next)) => {
                fetch = next;
                continue;
            }
            Ok(None) if feed.version() != before => {
                let (_, keys) = feed.keys_at(now);
                shared.keys_installed();
                crate::log::info(format!(
                    "JWKS: {} usable keys from {}",
                    keys.len(),
                    fetch.url
                ));
            }
            Ok(None) => {}
            // The core's message names the URL and the reason, never key
            // material.
            Err(e) => crate::log::warn(format!("JWKS fetch failed: {e}")),
        }
        break;
    }
    u.attempts.send_modify(|n| *n += 1);
}

/// A token named an unknown kid and the engine said fresher keys may come
/// (`After::Fetch` or `After::Wait`): performs the fetch handed to this
/// request, or waits for the one in flight (at most its timeout). True when
/// an attempt ended, so the request decides once more.
pub async fn fresher(shared: &Shared, fetch: Option<Fetch>) -> bool {
    let Keys::Url(u) = &shared.keys else {
        return false;
    };
    if let Some(f) = fetch {
        perform(shared, u, f).await;
        return true;
    }
    let mut seen = u.attempts.subscribe();
    let wait = Duration::from_millis(shared.engine.feed().wait_bound_ms());
    matches!(tokio::time::timeout(wait, seen.changed()).await, Ok(Ok(())))
}

pub enum Refetched {
    Installed(usize, String),
    Failed(String),
}

/// Fetches the URL source now with a fresh refresher (same source and
/// options); puts it in use only once it holds a good key set. None for a
/// file source.
pub async fn refetch(shared: &Shared) -> Option<Refetched> {
    let Keys::Url(u) = &shared.keys else {
        return None;
    };
    let _one = u.reloading.lock().await;
    let feed = shared.engine.feed();
    let (url, opts) = feed.with_refresher(|r| (r.url().to_owned(), r.options().clone()))?;
    let mut fresh = match Refresher::new(&url, opts) {
        Ok(r) => r,
        Err(e) => return Some(Refetched::Failed(e.to_string())),
    };
    let mut from = url;
    loop {
        let Next::Fetch(f) = fresh.next(mono_ms()) else {
            return Some(Refetched::Failed(format!(
                "the refresher for {from} asked for no fetch"
            )));
        };
        let got = fetch::get(&u.client, &f.url, f.timeout_ms, f.max_bytes).await;
        let now = mono_ms();
        let result = match got {
            Ok((status, body)) => fresh.fetched(f.id, now, status, &body),
            Err(why) => Err(fresh.failed(f.id, now, &why)),
        };
        match result {
            Ok(false) => continue,
            Ok(true) => {
                from = f.url;
                break;
            }
            Err(e) => {
                u.past_fetches.fetch_add(fresh.fetches(), Relaxed);
                u.past_failures.fetch_add(fresh.failures(), Relaxed);
                publish_counts(shared, u);
                return Some(Refetched::Failed(e.to_string()));
            }
        }
    }
    let n = fresh.key_set_at(mono_ms()).len();
    if let Some((f, e)) = feed.with_refresher(|r| (r.fetches(), r.failures())) {
        u.past_fetches.fetch_add(f, Relaxed);
        u.past_failures.fetch_add(e, Relaxed);
    }
    // A fetch the driver started before this is answered late, and dropped.
    feed.set_refresher(fresh);
    shared.keys_installed();
    publish_counts(shared, u);
    u.attempts.send_modify(|n| *n += 1);
    Some(Refetched::Installed(n, from))
}

/// Keeps a URL source fresh until `stop`: performs each fetch the feed asks
/// for (the first at once, then as the TTL and failures say).
pub async fn drive(shared: std::sync::Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let Keys::Url(u) = &shared.keys else { return };
    loop {
        match shared.engine.poll(mono_ms()) {
            Poll::Fetch { fetch, .. } => perform(&shared, u, fetch).await,
            Poll::Wait | Poll::Ready => {
                // The feed does not say when the next fetch is due: ask
                // again each second.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    changed = stop.changed() => {
                        if changed.is_err() || *stop.borrow() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The feed for `keys`: a file read now, or `refresher` (nothing fetched yet).
pub fn feed(keys: &Keys, refresher: Option<Refresher>) -> Result<KeyFeed, String> {
    match (keys, refresher) {
        (Keys::File(p), _) => read_file(p).map(KeyFeed::fixed),
        (Keys::Url(_), Some(r)) => Ok(KeyFeed::from_refresher(r)),
        (Keys::Url(_), None) => Err("a URL key source needs its refresher".into()),
    }
}
