//! Where the keys come from: a JWK Set file (read at start, then like the
//! policy on SIGHUP or change), or a URL kept fresh by the core's sans-IO
//! `Refresher`, which this module only drives: it performs the GETs the
//! refresher asks for and installs the key sets it hands back. A reload
//! (SIGHUP) fetches a URL source at once with a fresh refresher for the same
//! source and options, and swaps it in only when it brought a good key set.

use crate::clock::mono_ms;
use crate::fetch::{self, HttpsClient};
use crate::state::Shared;
use mfagate::{KeySet, Next, Refresher};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{watch, Notify};

pub enum Keys {
    File(PathBuf),
    Url(Box<UrlKeys>),
}

pub struct UrlKeys {
    /// Held while a step is taken and while its key set is installed, so a
    /// key set is never installed after a newer one.
    refresher: Mutex<Refresher>,
    client: HttpsClient,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// Attempts and failures of the refreshers replaced by reloads (the
    /// metrics count every attempt).
    past_fetches: std::sync::atomic::AtomicU64,
    past_failures: std::sync::atomic::AtomicU64,
    /// Refreshers replaced by reloads: a fetch the driver started before a
    /// swap is dropped, never reported to the new refresher.
    swaps: std::sync::atomic::AtomicU64,
    /// Wakes the driver early (a token named an unknown kid).
    wake: Notify,
    /// Counts finished fetch attempts, good or failed, so a request that
    /// asked for fresher keys knows when to decide again.
    attempts: watch::Sender<u64>,
}

/// Reads a JWK Set file as the core does, refusing one without a usable key.
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
    pub fn url(refresher: Refresher, client: HttpsClient) -> Keys {
        Keys::Url(Box::new(UrlKeys {
            refresher: Mutex::new(refresher),
            client,
            reloading: tokio::sync::Mutex::new(()),
            past_fetches: 0.into(),
            past_failures: 0.into(),
            swaps: 0.into(),
            wake: Notify::new(),
            attempts: watch::channel(0).0,
        }))
    }

    /// The keys to start with: the file's, or (for a URL) the refresher's
    /// set that answers `keys_unavailable` until the first good fetch.
    pub fn initial(&self) -> Result<Arc<KeySet>, String> {
        match self {
            Keys::File(p) => read_file(p).map(Arc::new),
            Keys::Url(u) => Ok(u.lock().key_set_at(mono_ms())),
        }
    }

    /// A token named a `kid` the keys lack: asks the refresher for fresher
    /// keys (at most one fetch per minimum refresh interval) and waits for
    /// that fetch, at most its timeout. True when the request should be
    /// decided again.
    pub async fn fresher(&self) -> bool {
        let Keys::Url(u) = self else { return false };
        // Subscribed before asking, so the attempt that follows cannot be missed.
        let mut seen = u.attempts.subscribe();
        let (due, timeout_ms) = {
            let mut r = u.lock();
            (
                r.unknown_kid(mono_ms()),
                (r.options().timeout * 1000.0) as u64,
            )
        };
        if !due {
            return false;
        }
        u.wake.notify_one();
        let wait = Duration::from_millis(timeout_ms.saturating_add(1000));
        matches!(tokio::time::timeout(wait, seen.changed()).await, Ok(Ok(())))
    }
}

impl UrlKeys {
    fn lock(&self) -> MutexGuard<'_, Refresher> {
        // Every call into the refresher is one short, complete step.
        self.refresher.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish_counts(&self, shared: &Shared, r: &Refresher) {
        let f = self.past_fetches.load(Relaxed) + r.fetches();
        let e = self.past_failures.load(Relaxed) + r.failures();
        shared.metrics.jwks_fetches.store(f, Relaxed);
        shared.metrics.jwks_failures.store(e, Relaxed);
    }
}

/// What a reload of a URL source did.
pub enum Refetched {
    /// A good key set is in use: this many usable keys, from this URL.
    Installed(usize, String),
    /// The fetch failed; the keys in use stay (the error names the URL and
    /// the reason, never key material).
    Failed(String),
}

/// Fetches a URL source now, whatever its TTL and minimum refresh interval
/// (an operator's reload, not a token's request): a fresh `Refresher` for
/// the same source and options runs one whole attempt (an OpenID
/// configuration, then its key set); when it brings a good key set, it
/// replaces the refresher in use and its keys are installed at once (tokens
/// of a key the source dropped are refused from now on, cached or not).
/// When it fails, the refresher and keys in use stay. `None` for a file
/// source.
pub async fn refetch(shared: &Shared) -> Option<Refetched> {
    let Keys::Url(u) = &shared.keys else {
        return None;
    };
    let _one = u.reloading.lock().await;
    let (url, opts) = {
        let r = u.lock();
        (r.url().to_owned(), r.options().clone())
    };
    let mut fresh = match Refresher::new(&url, opts) {
        Ok(r) => r,
        Err(e) => return Some(Refetched::Failed(e.to_string())),
    };
    let mut from = url;
    loop {
        let Next::Fetch(f) = fresh.next(mono_ms()) else {
            // A fresh refresher always has a fetch due; never reached.
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
            // The configuration came: its key set next, in the same attempt.
            Ok(false) => continue,
            Ok(true) => {
                from = f.url;
                break;
            }
            Err(e) => {
                u.past_fetches.fetch_add(fresh.fetches(), Relaxed);
                u.past_failures.fetch_add(fresh.failures(), Relaxed);
                let r = u.lock();
                u.publish_counts(shared, &r);
                return Some(Refetched::Failed(e.to_string()));
            }
        }
    }
    let keys = fresh.key_set_at(mono_ms());
    let n = keys.len();
    {
        let mut r = u.lock();
        u.past_fetches.fetch_add(r.fetches(), Relaxed);
        u.past_failures.fetch_add(r.failures(), Relaxed);
        // A fetch of the replaced refresher still in flight reports to this
        // one, which ignores it (another id): its keys are never installed.
        *r = fresh;
        u.swaps.fetch_add(1, Relaxed);
        u.publish_counts(shared, &r);
        shared.install_keys(keys);
    }
    // Requests waiting for fresher keys (an unknown kid) decide again.
    u.attempts.send_modify(|n| *n += 1);
    Some(Refetched::Installed(n, from))
}

/// Drives the refresher until `stop` turns true.
pub async fn drive(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let Keys::Url(u) = &shared.keys else { return };
    loop {
        let (step, swaps) = {
            let mut r = u.lock();
            (r.next(mono_ms()), u.swaps.load(Relaxed))
        };
        match step {
            Next::Fetch(f) => {
                let got = fetch::get(&u.client, &f.url, f.timeout_ms, f.max_bytes).await;
                let now = mono_ms();
                let result = {
                    let mut r = u.lock();
                    if u.swaps.load(Relaxed) != swaps {
                        // A reload replaced the refresher (and installed a
                        // fresher key set) while this fetch was out.
                        continue;
                    }
                    let result = match got {
                        Ok((status, body)) => r.fetched(f.id, now, status, &body),
                        Err(why) => Err(r.failed(f.id, now, &why)),
                    };
                    u.publish_counts(&shared, &r);
                    // Installed under the refresher's lock: a reload that
                    // swaps the refresher cannot interleave.
                    match &result {
                        Ok(true) => {
                            let keys = r.key_set_at(now);
                            crate::log::info(format!(
                                "JWKS: {} usable keys from {}",
                                keys.len(),
                                f.url
                            ));
                            shared.install_keys(keys);
                        }
                        Err(_) if !shared.current().ready => {
                            // Still no keys: a fresh Retry-After.
                            shared.install_keys(r.key_set_at(now));
                        }
                        _ => {}
                    }
                    result
                };
                match result {
                    // The configuration came: its key set is fetched next,
                    // in the same attempt.
                    Ok(false) => continue,
                    Ok(true) => {}
                    // The core's message names the URL and the reason,
                    // never key material.
                    Err(e) => crate::log::warn(format!("JWKS fetch failed: {e}")),
                }
                u.attempts.send_modify(|n| *n += 1);
            }
            Next::InFlight | Next::Idle => {
                // The refresher does not say when the next fetch is due:
                // ask again each second, or at once when woken.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = u.wake.notified() => {}
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
