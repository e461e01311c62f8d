//! Loading a new policy (and a JWK Set file) without dropping a request:
//! the new one is built beside the one in use and swapped in whole; one
//! that does not load is refused, logged with the core's error, and the
//! old one stays. Triggered by SIGHUP and by a change of the files' content.
//! SIGHUP also fetches a URL key source at once (`keys::refetch`): the new
//! key set is in use as soon as it arrives; a failed fetch keeps the keys
//! in use and says so.

use crate::config::JwksSource;
use crate::keys::{read_file, Refetched};
use crate::state::Shared;
use mfagate::Policy;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::watch;

/// Loads the policy again; false when it was refused.
pub fn policy(shared: &Shared, why: &str) -> bool {
    match Policy::from_spec_str(&shared.checked.settings.policy) {
        Ok(p) => {
            let name = p.name().to_owned();
            shared.install_policy(p);
            shared.metrics.policy_reloads.fetch_add(1, Relaxed);
            crate::log::info(format!("policy reloaded ({why}): {name}"));
            true
        }
        Err(e) => {
            shared.metrics.policy_reload_failures.fetch_add(1, Relaxed);
            crate::log::error(format!(
                "new policy refused ({why}), the previous one stays in use: {e}"
            ));
            false
        }
    }
}

/// Reads the JWK Set file again; false when it was refused.
pub fn jwks_file(shared: &Shared, path: &Path, why: &str) -> bool {
    match read_file(path) {
        Ok(set) => {
            let n = set.len();
            shared.install_keys(set);
            shared.metrics.jwks_file_reloads.fetch_add(1, Relaxed);
            crate::log::info(format!("JWK Set file reloaded ({why}): {n} usable keys"));
            true
        }
        Err(e) => {
            shared
                .metrics
                .jwks_file_reload_failures
                .fetch_add(1, Relaxed);
            crate::log::error(format!(
                "new JWK Set refused ({why}), the previous keys stay in use: {e}"
            ));
            false
        }
    }
}

/// Fetches a URL key source now; false when the fetch failed (the keys in
/// use stay) or the source is a file.
pub async fn jwks_url(shared: &Shared, why: &str) -> bool {
    match crate::keys::refetch(shared).await {
        None => false,
        Some(Refetched::Installed(n, url)) => {
            shared.metrics.jwks_url_reloads.fetch_add(1, Relaxed);
            crate::log::info(format!(
                "JWKS refetched ({why}): {n} usable keys from {url}, in use now"
            ));
            true
        }
        Some(Refetched::Failed(e)) => {
            shared
                .metrics
                .jwks_url_reload_failures
                .fetch_add(1, Relaxed);
            crate::log::error(format!(
                "JWKS refetch failed ({why}), the previous keys stay in use: {e}"
            ));
            false
        }
    }
}

/// Everything that can be reloaded (SIGHUP): the policy, then the keys (a
/// JWK Set file read again, a URL source fetched again).
pub async fn all(shared: Arc<Shared>, why: &'static str) {
    let s = Arc::clone(&shared);
    let _ = tokio::task::spawn_blocking(move || {
        policy(&s, why);
        if let JwksSource::File(p) = &s.checked.jwks {
            jwks_file(&s, p, why);
        }
    })
    .await;
    if matches!(shared.checked.jwks, JwksSource::Url(_)) {
        jwks_url(&shared, why).await;
    }
}

/// A fingerprint of a file's content (None when it cannot be read, which
/// is not a change: a file being replaced is briefly missing).
fn fingerprint(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

/// Polls the policy and JWK Set files every `interval` until `stop`.
pub async fn watch_files(
    shared: Arc<Shared>,
    interval: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    let policy_file = shared.checked.policy_file.clone();
    let keys_file = match &shared.checked.jwks {
        JwksSource::File(p) => Some(p.clone()),
        JwksSource::Url(_) => None,
    };
    if policy_file.is_none() && keys_file.is_none() {
        return;
    }
    let mut last_policy = policy_file.as_deref().and_then(fingerprint);
    let mut last_jwks = keys_file.as_deref().and_then(fingerprint);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
        if let Some(p) = &policy_file {
            let now = fingerprint(p);
            if now.is_some() && now != last_policy {
                last_policy = now;
                let s = Arc::clone(&shared);
                let _ = tokio::task::spawn_blocking(move || policy(&s, "the file changed")).await;
            }
        }
        if let Some(p) = &keys_file {
            let now = fingerprint(p);
            if now.is_some() && now != last_jwks {
                last_jwks = now;
                let (s, p) = (Arc::clone(&shared), p.clone());
                let _ = tokio::task::spawn_blocking(move || jwks_file(&s, &p, "the file changed"))
                    .await;
            }
        }
    }
}
