//! What every request reads: the gate in use (swapped whole, atomically,
//! when the policy or the keys change, so a request decides with one
//! consistent policy and key set and never waits for a reload), and the
//! shared counters.

use crate::audit::Audit;
use crate::config::Checked;
use crate::keys::Keys;
use crate::metrics::{unix_ms, Metrics};
use arc_swap::ArcSwap;
use mfagate::{Gate, KeySet, Policy, TokenCache};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

/// The gate in use and what is known about it.
pub struct Current {
    pub gate: Gate,
    /// A usable key set is in use (what `/readyz` says).
    pub ready: bool,
    /// Some route of the policy names hosts: a request without a host
    /// cannot be routed safely.
    pub routes_hosts: bool,
}

impl Current {
    fn new(policy: &Policy, keys: &Arc<KeySet>, cache: Option<&Arc<TokenCache>>) -> Current {
        let ready = !keys.is_empty() && keys.unavailability().is_none();
        let routes_hosts = policy
            .doc()
            .routes
            .values()
            .any(|r| r.enabled && !r.hosts.is_empty());
        let gate = Gate::with_shared_keys(policy.clone(), Arc::clone(keys));
        Current {
            // One cache across reloads: its entries belong to the key set
            // that verified them, and only claims are kept, so a new policy
            // or key set takes effect at once.
            gate: match cache {
                Some(c) => gate.with_cache(Arc::clone(c)),
                None => gate,
            },
            ready,
            routes_hosts,
        }
    }
}

/// The two halves of a gate, kept to rebuild it when one of them changes.
struct Inputs {
    policy: Policy,
    keys: Arc<KeySet>,
}

pub struct Shared {
    pub checked: Checked,
    current: ArcSwap<Current>,
    inputs: Mutex<Inputs>,
    pub metrics: Arc<Metrics>,
    pub audit: Audit,
    pub keys: Keys,
    /// The verified-token cache, when `token_cache.enabled`.
    pub token_cache: Option<Arc<TokenCache>>,
    /// Set on SIGTERM: `/readyz` answers 503 so load balancers stop
    /// sending while open requests finish.
    pub draining: AtomicBool,
}

impl Shared {
    pub fn new(checked: Checked, policy: Policy, keys: Keys, initial: Arc<KeySet>) -> Shared {
        let metrics = Arc::new(Metrics::default());
        let audit = Audit::new(&checked.settings.audit, Arc::clone(&metrics));
        if initial.unavailability().is_none() {
            metrics.keys_loaded_at_ms.store(unix_ms(), Relaxed);
        }
        let tc = &checked.settings.token_cache;
        let token_cache = tc.enabled.then(|| Arc::new(TokenCache::new(tc.options())));
        let current = ArcSwap::from_pointee(Current::new(&policy, &initial, token_cache.as_ref()));
        Shared {
            checked,
            current,
            inputs: Mutex::new(Inputs {
                policy,
                keys: initial,
            }),
            metrics,
            audit,
            keys,
            token_cache,
            draining: AtomicBool::new(false),
        }
    }

    /// The gate to decide with: a cheap atomic load.
    pub fn current(&self) -> arc_swap::Guard<Arc<Current>> {
        self.current.load()
    }

    fn inputs(&self) -> MutexGuard<'_, Inputs> {
        // A panic while holding it cannot leave the inputs half-written:
        // each is replaced whole.
        self.inputs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Uses a new policy with the current keys.
    pub fn install_policy(&self, policy: Policy) {
        let mut i = self.inputs();
        self.current.store(Arc::new(Current::new(
            &policy,
            &i.keys,
            self.token_cache.as_ref(),
        )));
        i.policy = policy;
    }

    /// Uses a new key set (or, before the first good one, the refresher's
    /// "unavailable" set with a fresh Retry-After) with the current policy.
    pub fn install_keys(&self, keys: Arc<KeySet>) {
        let mut i = self.inputs();
        if keys.unavailability().is_none() {
            self.metrics.keys_loaded_at_ms.store(unix_ms(), Relaxed);
        }
        self.current.store(Arc::new(Current::new(
            &i.policy,
            &keys,
            self.token_cache.as_ref(),
        )));
        i.keys = keys;
    }

    /// The text of `/metrics`, with the token cache's counters when it is on.
    pub fn metrics_text(&self) -> String {
        let mut o = self.metrics.render(self.ready());
        if let Some(c) = &self.token_cache {
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

    pub fn ready(&self) -> bool {
        self.current().ready && !self.draining.load(Relaxed)
    }
}
