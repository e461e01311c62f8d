//! The gate's whole life: a policy, a [`KeyFeed`] and an optional
//! [`TokenCache`], each able to change while requests are decided.
//!
//! Every request decides with one [`Snapshot`]: a [`Gate`] built over one
//! policy and one key set, never a mix. A new policy ([`Engine::set_policy`])
//! or new keys (the feed's version moved) make the next snapshot fresh; the
//! token cache belongs to the engine, and its entries are keyed by the key
//! set that verified them, so no entry outlives its keys, and a hit is
//! decided again under the policy of the snapshot that reads it.
//!
//! A binding's whole driver, sans I/O on this side:
//!
//! 1. [`Engine::poll`]: perform the fetch it asks for (waiting for it when
//!    there are no keys yet) or wait for the one in flight;
//! 2. [`Engine::snapshot`], and decide with its gate (in one step, or in
//!    two where the host verifies signatures);
//! 3. [`Engine::after`] with the decision: once per request, it says
//!    whether an unknown `kid` calls for fresher keys and a second decision.

use crate::cache::TokenCache;
use crate::decision::Decision;
use crate::feed::{KeyFeed, Poll};
use crate::gate::Gate;
use crate::keys::KeySet;
use crate::policy::Policy;
use crate::reason::Reason;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// One policy and one key set, as a gate deciding requests.
#[derive(Debug)]
pub struct Snapshot {
    gate: Arc<Gate>,
    keys: Arc<KeySet>,
    policy_generation: u64,
    keys_version: u64,
}

impl Snapshot {
    /// The gate to decide with.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }
    /// The same gate, to hold beyond the snapshot (a binding's handle).
    pub fn shared_gate(&self) -> &Arc<Gate> {
        &self.gate
    }
    /// Moves with every [`Engine::set_policy`].
    pub fn policy_generation(&self) -> u64 {
        self.policy_generation
    }
    /// The [`KeyFeed::version`] of its keys.
    pub fn keys_version(&self) -> u64 {
        self.keys_version
    }
}

/// What to do after a first decision (see [`Engine::after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// The decision stands.
    Final,
    /// Newer keys are in use: take a new snapshot and decide once more.
    Again,
    /// Fetch (as [`Poll::Fetch`] says), then decide once more.
    Fetch(crate::refresh::Fetch),
    /// Wait for the fetch in flight, then decide once more.
    Wait,
}

#[derive(Debug)]
struct Policies {
    policy: Policy,
    generation: u64,
}

/// A policy, its keys and a token cache, kept consistent (see the module
/// docs). `Send + Sync`; share one per service.
#[derive(Debug)]
pub struct Engine {
    feed: Arc<KeyFeed>,
    cache: Option<Arc<TokenCache>>,
    policies: Mutex<Policies>,
    current: RwLock<Arc<Snapshot>>,
}

impl Engine {
    /// An engine deciding with `policy` over the keys of `feed` (a feed may
    /// serve several engines), remembering verified tokens in `cache`.
    pub fn new(policy: Policy, feed: Arc<KeyFeed>, cache: Option<Arc<TokenCache>>) -> Engine {
        let (version, keys) = feed.keys_at(0);
        let snapshot = Engine::build(&policy, 1, version, keys, cache.as_ref());
        Engine {
            feed,
            cache,
            policies: Mutex::new(Policies {
                policy,
                generation: 1,
            }),
            current: RwLock::new(Arc::new(snapshot)),
        }
    }

    /// An engine over fixed keys.
    pub fn fixed(policy: Policy, keys: KeySet) -> Engine {
        Engine::new(policy, Arc::new(KeyFeed::fixed(keys)), None)
    }

    fn build(
        policy: &Policy,
        policy_generation: u64,
        keys_version: u64,
        keys: Arc<KeySet>,
        cache: Option<&Arc<TokenCache>>,
    ) -> Snapshot {
        let gate = Gate::with_shared_keys(policy.clone(), Arc::clone(&keys));
        Snapshot {
            keys,
            gate: Arc::new(match cache {
                Some(c) => gate.with_cache(Arc::clone(c)),
                None => gate,
            }),
            policy_generation,
            keys_version,
        }
    }

    fn policies(&self) -> MutexGuard<'_, Policies> {
        self.policies.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The keys this engine reads.
    pub fn feed(&self) -> &Arc<KeyFeed> {
        &self.feed
    }

    /// The verified-token cache, if any.
    pub fn cache(&self) -> Option<&Arc<TokenCache>> {
        self.cache.as_ref()
    }

    /// The policy in use.
    pub fn policy(&self) -> Policy {
        self.policies().policy.clone()
    }

    /// What to do before deciding a request at `now_ms` (a monotonic clock,
    /// milliseconds): see [`Poll`].
    pub fn poll(&self, now_ms: u64) -> Poll {
        self.feed.poll(now_ms)
    }

    /// The gate to decide with at `now_ms`: the current policy over the
    /// feed's current keys. Cheap when nothing changed (a read lock and a
    /// reference count); rebuilt when the policy or the keys did.
    pub fn snapshot(&self, now_ms: u64) -> Arc<Snapshot> {
        let version = self.feed.version();
        let cur = self.read();
        if cur.keys_version == version && cur.keys.unavailability().is_none() {
            return cur;
        }
        let p = self.policies();
        let (version, keys) = self.feed.keys_at(now_ms);
        let fresh = Arc::new(Engine::build(
            &p.policy,
            p.generation,
            version,
            keys,
            self.cache.as_ref(),
        ));
        if fresh.keys.unavailability().is_some() {
            // No keys yet: a set refusing every token with a Retry-After
            // of this moment, not kept.
            return fresh;
        }
        let mut w = self.current.write().unwrap_or_else(|e| e.into_inner());
        if w.keys_version < version || w.policy_generation < p.generation {
            *w = Arc::clone(&fresh);
        }
        Arc::clone(&w)
    }

    /// From now on `policy` (a reload): the next snapshot decides with it,
    /// over the same keys and cache. Returns its policy generation.
    pub fn set_policy(&self, policy: Policy) -> u64 {
        let mut p = self.policies();
        p.generation += 1;
        let cur = self.read();
        let fresh = Engine::build(
            &policy,
            p.generation,
            cur.keys_version,
            Arc::clone(&cur.keys),
            self.cache.as_ref(),
        );
        p.policy = policy;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        p.generation
    }

    /// Once per request, after deciding with `seen`: whether the decision
    /// stands, or fresher keys may change it (a token named a `kid` the keys
    /// lack: rotated keys are fetched at most once per minimum refresh
    /// interval).
    pub fn after(&self, seen: &Snapshot, decision: &Decision, now_ms: u64) -> After {
        if decision.reason != Reason::KeyNotFound {
            return After::Final;
        }
        match self.feed.unknown_kid(seen.keys_version, now_ms) {
            None => After::Final,
            Some(Poll::Ready) => After::Again,
            Some(Poll::Wait) => After::Wait,
            Some(Poll::Fetch { fetch, .. }) => After::Fetch(fetch),
        }
    }
}
