//! Where the keys come from: a JWK Set file (read at start, then like the
//! policy on SIGHUP or change), or a URL kept fresh by the core's sans-IO
//! `Refresher`, which this module only drives: it performs the GETs the
//! refresher asks for and installs the key sets it hands back.

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
    refresher: Mutex<Refresher>,
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
    pub fn url(refresher: Refresher) -> Keys {
        Keys::Url(Box::new(UrlKeys {
            refresher: Mutex::new(refresher),
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
}

/// Drives the refresher until `stop` turns true.
pub async fn drive(shared: Arc<Shared>, client: HttpsClient, mut stop: watch::Receiver<bool>) {
    let Keys::Url(u) = &shared.keys else { return };
    loop {
        let step = u.lock().next(mono_ms());
        match step {
            Next::Fetch(f) => {
                let got = fetch::get(&client, &f.url, f.timeout_ms, f.max_bytes).await;
                let now = mono_ms();
                let (result, keys, fetches, failures) = {
                    let mut r = u.lock();
                    let result = match got {
                        Ok((status, body)) => r.fetched(f.id, now, status, &body),
                        Err(why) => Err(r.failed(f.id, now, &why)),
                    };
                    (result, r.key_set_at(now), r.fetches(), r.failures())
                };
                shared.metrics.jwks_fetches.store(fetches, Relaxed);
                shared.metrics.jwks_failures.store(failures, Relaxed);
                match result {
                    // The configuration came: its key set is fetched next,
                    // in the same attempt.
                    Ok(false) => continue,
                    Ok(true) => {
                        crate::log::info(format!(
                            "JWKS: {} usable keys from {}",
                            keys.len(),
                            f.url
                        ));
                        shared.install_keys(keys);
                    }
                    Err(e) => {
                        // The core's message names the URL and the reason,
                        // never key material.
                        crate::log::warn(format!("JWKS fetch failed: {e}"));
                        if !shared.current().ready {
                            // Still no keys: a fresh Retry-After.
                            shared.install_keys(keys);
                        }
                    }
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
