//! What every request reads: the core's engine (the policy, the keys and the
//! token cache; each request decides with one snapshot of them, swapped
//! whole when the policy or the keys change, so a request never sees a mix
//! and never waits for a reload), and the shared counters.

use crate::audit::Audit;
use crate::clock::mono_ms;
use crate::config::Checked;
use crate::keys::Keys;
use crate::metrics::{unix_ms, Metrics};
use mfagate::{Engine, KeyFeed, KeySet, Policy, Snapshot, TokenCache};
use std::sync::atomic::{
    AtomicBool, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use std::sync::Arc;

/// Some route of the policy names hosts: a request without a host cannot
/// be routed safely.
fn routes_hosts(policy: &Policy) -> bool {
    policy
        .doc()
        .routes
        .values()
        .any(|r| r.enabled && !r.hosts.is_empty())
}

fn pack(generation: u64, routes_hosts: bool) -> u64 {
    (generation << 1) | u64::from(routes_hosts)
}

pub struct Shared {
    pub checked: Checked,
    pub engine: Engine,
    /// `routes_hosts` of the policy of one generation, packed as
    /// `generation << 1 | routes_hosts`: read on every request, so an
    /// atomic load rather than a lock all threads would share.
    hosts: AtomicU64,
    pub metrics: Arc<Metrics>,
    pub audit: Audit,
    pub keys: Keys,
    /// Set on SIGTERM: `/readyz` answers 503 so load balancers stop
    /// sending while open requests finish.
    pub draining: AtomicBool,
}

impl Shared {
    pub fn new(checked: Checked, policy: Policy, keys: Keys, feed: KeyFeed) -> Shared {
        let metrics = Arc::new(Metrics::default());
        let audit = Audit::new(&checked.settings.audit, Arc::clone(&metrics));
        if feed.ready() {
            metrics.keys_loaded_at_ms.store(unix_ms(), Relaxed);
        }
        let tc = &checked.settings.token_cache;
        // One cache across reloads: its entries belong to the key set that
        // verified them, and only claims are kept, so a new policy or key
        // set takes effect at once.
        let token_cache = tc.enabled.then(|| Arc::new(TokenCache::new(tc.options())));
        let hosts = routes_hosts(&policy);
        let engine = Engine::new(policy, Arc::new(feed), token_cache);
        let generation = engine.snapshot(mono_ms()).policy_generation();
        Shared {
            checked,
            engine,
            hosts: AtomicU64::new(pack(generation, hosts)),
            metrics,
            audit,
            keys,
            draining: AtomicBool::new(false),
        }
    }

    /// The gate to decide with, and whether its policy routes on hosts.
    pub fn snapshot(&self) -> (Arc<Snapshot>, bool) {
        let snap = self.engine.snapshot(mono_ms());
        let packed = self.hosts.load(Acquire);
        if packed >> 1 == snap.policy_generation() {
            return (snap, packed & 1 == 1);
        }
        // A reload between the two reads: ask the snapshot's own policy.
        let hosts = routes_hosts(snap.gate().policy());
        (snap, hosts)
    }

    /// Uses a new policy with the current keys.
    pub fn install_policy(&self, policy: Policy) {
        let hosts = routes_hosts(&policy);
        let generation = self.engine.set_policy(policy);
        // The newest generation wins (a SIGHUP and the file watcher may
        // reload at once); a request between the two lines asks its
        // snapshot's own policy (see `snapshot`).
        self.hosts.fetch_max(pack(generation, hosts), AcqRel);
    }

    /// Uses a new key set (a file read again) with the current policy.
    pub fn install_keys(&self, keys: KeySet) {
        self.engine.feed().set_keys(keys);
        self.keys_installed();
    }

    /// A usable key set was put in use now.
    pub fn keys_installed(&self) {
        self.metrics.keys_loaded_at_ms.store(unix_ms(), Relaxed);
    }

    /// The text of `/metrics`, with the token cache's counters when it is on.
    pub fn metrics_text(&self) -> String {
        let mut o = self.metrics.render(self.ready());
        if let Some(c) = self.engine.cache() {
            let s = c.stats();
            for (name, help, kind, v) in [
                (
                    "mfagate_token_cache_hits_total",
                    "Tokens found in the verified-token cache.",
                    "counter",
                    s.hits,
                ),
                (
                    "mfagate_token_cache_misses_total",
                    "Tokens not found in it (verified, then kept if valid).",
                    "counter",
                    s.misses,
                ),
                (
                    "mfagate_token_cache_entries",
                    "Tokens it holds.",
                    "gauge",
                    s.entries as u64,
                ),
                (
                    "mfagate_token_cache_bytes",
                    "About how many bytes they take.",
                    "gauge",
                    s.bytes as u64,
                ),
            ] {
                o.push_str(&format!(
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
                ));
            }
        }
        o
    }

    /// A usable key set is in use and the server is not draining.
    pub fn ready(&self) -> bool {
        self.engine.feed().ready() && !self.draining.load(Relaxed)
    }
}
