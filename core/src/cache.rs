//! An opt-in cache of verified tokens.
//!
//! A client reuses one access token for its whole life (60 to 90 minutes
//! for Entra), so a service sees the same token many times. The cache keeps,
//! per exact token, what its signature check proved: the verified claims
//! and the key that verified them. Everything that depends on the request
//! or the policy (lifetime at this second, audience, issuer, kind, roles,
//! route, MFA, exceptions, the answer) is decided again on every hit, so a
//! policy change takes effect at once and an entry never outlives its token.
//!
//! Entries are found by a SipHash of the token bytes under a per-process
//! random key, then compared byte for byte: a hash collision is a miss,
//! never another token's claims, and an attacker cannot aim collisions at a
//! key they do not know. Entries belong to the key set that verified them
//! (its generation): a new key set, after a rotation or a removed key,
//! finds none of the old ones.

use crate::claims::Claims;
use crate::error::{Error, ErrorCode, Result};
use crate::request::Field;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The bounds of a [`TokenCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// At most this many tokens (oldest first out).
    pub max_entries: usize,
    /// At most about this many bytes of tokens and claims.
    pub max_bytes: usize,
}

impl Default for CacheOptions {
    /// 10,000 tokens and 16 MiB: a service with a few thousand active
    /// clients keeps every token of the last hour.
    fn default() -> Self {
        CacheOptions {
            max_entries: 10_000,
            max_bytes: 16 << 20,
        }
    }
}

/// The smallest `max_bytes` accepted: each of the cache's parts holds a
/// sixteenth of it, and must fit an entry of a large Entra token (about 4 KB
/// of token and claims).
pub const MIN_CACHE_BYTES: usize = 64 * 1024;

const OPTIONS_HINT: &str = "max_entries (maxEntries in JavaScript) is a whole number of at least 1, \
     max_bytes (maxBytes) a whole number of at least 65536; the defaults are 10000 entries and 16777216 bytes";

fn options_invalid(message: String) -> Error {
    Error::new(ErrorCode::RequestInvalid, message, OPTIONS_HINT)
}

/// A count as a binding received it: absent (the default), or a whole,
/// non-negative number (JavaScript numbers are floats).
fn count(key: &str, f: Field<'_>, default: usize) -> Result<usize> {
    let n = match f {
        Field::Absent => return Ok(default),
        Field::Integer(i) => usize::try_from(i).ok(),
        Field::Number(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => {
            usize::try_from(x as u64).ok()
        }
        Field::Number(x) => {
            return Err(options_invalid(format!(
                "cache option {key} must be a whole number, not {x}"
            )))
        }
        other => {
            return Err(options_invalid(format!(
                "cache option {key} must be a whole number, not {}",
                crate::request::spec::type_name(&other)
            )))
        }
    };
    n.ok_or_else(|| options_invalid(format!("cache option {key} is out of range")))
}

impl CacheOptions {
    /// Options from the fields a binding received, in any order: absent
    /// ones take their default ([`CacheOptions::default`]); a value that is
    /// not a whole number, an unknown key or a bound below its minimum
    /// ([`CacheOptions::check`]) is refused with
    /// [`ErrorCode::RequestInvalid`]. The keys are `max_entries` and
    /// `max_bytes`, or `maxEntries` and `maxBytes` (JavaScript's spelling).
    pub fn from_fields<'a, I>(fields: I) -> Result<CacheOptions>
    where
        I: IntoIterator<Item = (&'a str, Field<'a>)>,
    {
        let mut opts = CacheOptions::default();
        for (key, value) in fields {
            match key {
                "max_entries" | "maxEntries" => {
                    opts.max_entries = count(key, value, opts.max_entries)?
                }
                "max_bytes" | "maxBytes" => opts.max_bytes = count(key, value, opts.max_bytes)?,
                other => return Err(options_invalid(format!("unknown cache option {other:?}"))),
            }
        }
        opts.check()?;
        Ok(opts)
    }

    /// Refuses bounds under which the cache could keep nothing:
    /// `max_entries` 0, or `max_bytes` under [`MIN_CACHE_BYTES`].
    pub fn check(&self) -> Result<()> {
        if self.max_entries == 0 {
            return Err(options_invalid(
                "cache option max_entries must be at least 1".into(),
            ));
        }
        if self.max_bytes < MIN_CACHE_BYTES {
            return Err(options_invalid(format!(
                "cache option max_bytes must be at least {MIN_CACHE_BYTES}, not {}",
                self.max_bytes
            )));
        }
        Ok(())
    }
}

/// What a signature check proved about one token.
#[derive(Debug)]
pub(crate) struct Verified {
    token: Box<str>,
    generation: u64,
    /// Index of the verifying key in its [`crate::KeySet`].
    pub(crate) key: usize,
    /// The header's `alg`: a gate whose policy does not allow it must not
    /// take the entry (the cache may be shared by gates of other policies).
    pub(crate) alg: crate::jws::Algorithm,
    pub(crate) claims: Claims<'static>,
    /// `exp`, Unix seconds: the entry goes once its token is over.
    exp: Option<i64>,
    bytes: usize,
}

/// How many independently locked parts the cache has: threads deciding at
/// once rarely wait for each other.
const SHARDS: usize = 16;

/// The shard maps' hasher: their keys are already keyed SipHash values
/// ([`TokenCache::hash`]), so hashing them again would only cost time.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed (`write_u64`); fold anything else in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[derive(Debug, Default)]
struct Shard {
    map: HashMap<u64, Arc<Verified>, BuildHasherDefault<Prehashed>>,
    /// Insertion order, for eviction (a slot may name a replaced entry).
    order: VecDeque<u64>,
    bytes: usize,
}

/// Counters of a [`TokenCache`], for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups that found the token.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Tokens held now.
    pub entries: usize,
    /// About how many bytes they take.
    pub bytes: usize,
}

/// An opt-in, bounded, thread-safe cache of verified tokens, shared by the
/// gates that use it ([`crate::Gate::with_cache`]). See the module docs for
/// what it keeps and why that is safe. When not to use it: when every
/// request carries a new token (nothing to gain), or when key material must
/// be revocable within a request (a removed key already invalidates entries
/// only once the new key set is in use).
#[derive(Debug)]
pub struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    keys: (u64, u64),
    opts: CacheOptions,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Two random 64-bit words from the standard library's per-process random
/// hash keys (where the platform has randomness; WebAssembly passes its own
/// with [`TokenCache::with_hash_key`]).
fn process_random_key() -> (u64, u64) {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    (state.hash_one(1u8), state.hash_one(2u8))
}

impl TokenCache {
    /// A cache with these bounds, keyed by the process's random hash key.
    /// Bounds too small to keep anything give a cache that keeps nothing;
    /// [`TokenCache::try_new`] refuses them instead.
    pub fn new(opts: CacheOptions) -> TokenCache {
        TokenCache::with_hash_key(opts, process_random_key())
    }

    /// A cache with these bounds, after [`CacheOptions::check`]: what
    /// bindings call, so that a bound that could keep nothing is an error.
    pub fn try_new(opts: CacheOptions) -> Result<TokenCache> {
        opts.check()?;
        Ok(TokenCache::new(opts))
    }

    /// A cache whose token hash is keyed by `key`: for hosts whose standard
    /// library has no randomness (WebAssembly), which pass 128 random bits
    /// of their own (`crypto.getRandomValues`).
    pub fn with_hash_key(opts: CacheOptions, key: (u64, u64)) -> TokenCache {
        let shard = || Mutex::new(Shard::default());
        TokenCache {
            shards: (0..SHARDS).map(|_| shard()).collect(),
            keys: key,
            opts,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The bounds it was built with.
    pub fn options(&self) -> CacheOptions {
        self.opts
    }

    /// The slot of `token`: SipHash-2-4 under the secret key of its length
    /// and last 32 bytes (the signature's, unique per signed token), so that
    /// a 2 KB token costs what a short one does. Tokens that share those
    /// bytes share a slot and are told apart by the full comparison: only a
    /// verified token is ever stored, so a forged one can at worst miss.
    fn hash(&self, token: &str) -> u64 {
        // std's `SipHasher` is deprecated only in favour of `DefaultHasher`,
        // which cannot take a key.
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(self.keys.0, self.keys.1);
        let b = token.as_bytes();
        h.write_usize(b.len());
        h.write(b.rchunks(32).next().unwrap_or_default());
        h.finish()
    }

    fn shard(&self, hash: u64) -> Option<std::sync::MutexGuard<'_, Shard>> {
        // Middle bits choose the shard: the map uses the lowest ones for its
        // slot and the top seven as tags.
        let i = ((hash >> 32) as usize) % self.shards.len();
        // A poisoned shard (a panic while it was held, which the core's
        // lints rule out) is treated as empty: the cache is only a shortcut.
        self.shards.get(i).and_then(|m| m.lock().ok())
    }

    /// The entry for exactly `token`, verified by key set `generation`,
    /// still within its lifetime at `now` (give or take `skew`).
    pub(crate) fn get(
        &self,
        token: &str,
        generation: u64,
        now: i64,
        skew: i64,
    ) -> Option<Arc<Verified>> {
        let hash = self.hash(token);
        let mut shard = self.shard(hash)?;
        let found = match shard.map.get(&hash) {
            Some(v) if &*v.token == token && v.generation == generation => {
                if v.exp.is_some_and(|e| now > e.saturating_add(skew)) {
                    None
                } else {
                    Some(Arc::clone(v))
                }
            }
            _ => None,
        };
        if found.is_none() {
            // Stale (another key set, or expired): make room now.
            if let Some(old) = shard.map.get(&hash) {
                if &*old.token == token {
                    let bytes = old.bytes;
                    shard.map.remove(&hash);
                    shard.bytes = shard.bytes.saturating_sub(bytes);
                }
            }
        }
        drop(shard);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps what the signature check of `token` proved.
    pub(crate) fn put(
        &self,
        token: &str,
        generation: u64,
        key: usize,
        alg: crate::jws::Algorithm,
        claims: Claims<'static>,
    ) {
        let bytes = 2 * token.len() + 256;
        let per_shard_entries = self.opts.max_entries.div_ceil(SHARDS);
        let per_shard_bytes = self.opts.max_bytes / SHARDS;
        if per_shard_entries == 0 || bytes > per_shard_bytes {
            return;
        }
        let exp = claims
            .exp
            .filter(|e| e.is_finite())
            .map(|e| e.floor() as i64);
        let entry = Arc::new(Verified {
            token: token.into(),
            generation,
            key,
            alg,
            claims,
            exp,
            bytes,
        });
        let hash = self.hash(token);
        let Some(mut shard) = self.shard(hash) else {
            return;
        };
        if let Some(old) = shard.map.insert(hash, entry) {
            shard.bytes = shard.bytes.saturating_sub(old.bytes);
        } else {
            shard.order.push_back(hash);
        }
        shard.bytes += bytes;
        while shard.map.len() > per_shard_entries || shard.bytes > per_shard_bytes {
            let Some(oldest) = shard.order.pop_front() else {
                break;
            };
            if let Some(old) = shard.map.remove(&oldest) {
                shard.bytes = shard.bytes.saturating_sub(old.bytes);
            }
        }
        // Slots of entries removed by `get` linger in `order`; keep it
        // from growing past what the map could hold.
        if shard.order.len() > 2 * per_shard_entries {
            let map = std::mem::take(&mut shard.map);
            shard.order.retain(|h| map.contains_key(h));
            shard.map = map;
        }
    }

    /// Empties the cache.
    pub fn clear(&self) {
        for m in self.shards.iter() {
            if let Ok(mut s) = m.lock() {
                *s = Shard::default();
            }
        }
    }

    /// Hits, misses, entries and bytes.
    pub fn stats(&self) -> CacheStats {
        let (mut entries, mut bytes) = (0, 0);
        for m in self.shards.iter() {
            if let Ok(s) = m.lock() {
                entries += s.map.len();
                bytes += s.bytes;
            }
        }
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries,
            bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn claims(exp: i64) -> Claims<'static> {
        Claims::from_json(&format!("{{\"exp\": {exp}}}")).unwrap()
    }

    #[test]
    fn hits_only_the_exact_token_of_the_same_key_set() {
        let c = TokenCache::new(CacheOptions::default());
        c.put("a.b.c", 7, 0, crate::jws::Algorithm::RS256, claims(2_000));
        assert!(c.get("a.b.c", 7, 1_000, 0).is_some());
        assert!(c.get("a.b.d", 7, 1_000, 0).is_none());
        assert!(c.get("a.b.c", 8, 1_000, 0).is_none(), "another key set");
        // The stale entry was dropped on that lookup.
        assert!(c.get("a.b.c", 7, 1_000, 0).is_none());
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (1, 3, 0));
    }

    #[test]
    fn an_entry_never_outlives_its_token() {
        let c = TokenCache::new(CacheOptions::default());
        c.put("t", 1, 0, crate::jws::Algorithm::RS256, claims(2_000));
        assert!(c.get("t", 1, 2_000, 0).is_some());
        assert!(c.get("t", 1, 2_300, 300).is_some(), "within the skew");
        assert!(c.get("t", 1, 2_301, 300).is_none());
    }

    #[test]
    fn bounded_in_entries_and_bytes() {
        let c = TokenCache::new(CacheOptions {
            max_entries: 64,
            max_bytes: 1 << 20,
        });
        for i in 0..10_000 {
            c.put(
                &format!("token-{i}"),
                1,
                0,
                crate::jws::Algorithm::RS256,
                claims(i64::MAX / 2),
            );
        }
        assert!(c.stats().entries <= 64, "{:?}", c.stats());
        let small = TokenCache::new(CacheOptions {
            max_entries: 10_000,
            max_bytes: 16 * 4096,
        });
        let big = "x".repeat(1500);
        for i in 0..1_000 {
            small.put(
                &format!("{big}{i}"),
                1,
                0,
                crate::jws::Algorithm::RS256,
                claims(i64::MAX / 2),
            );
        }
        assert!(small.stats().bytes <= 16 * 4096, "{:?}", small.stats());
        // A token too large for a shard is not kept at all.
        small.put(
            &"y".repeat(8192),
            1,
            0,
            crate::jws::Algorithm::RS256,
            claims(1),
        );
        assert!(small.get(&"y".repeat(8192), 1, 0, 0).is_none());
    }

    #[test]
    fn options_from_fields() {
        let o = CacheOptions::from_fields([
            ("max_entries", Field::Integer(5)),
            ("maxBytes", Field::Number(65536.0)),
        ])
        .unwrap();
        assert_eq!((o.max_entries, o.max_bytes), (5, 65536));
        assert_eq!(
            CacheOptions::from_fields([("max_bytes", Field::Absent)]).unwrap(),
            CacheOptions::default()
        );
        for bad in [
            vec![("max_entries", Field::Integer(0))],
            vec![("max_entries", Field::Integer(-1))],
            vec![("max_entries", Field::Number(1.5))],
            vec![("max_entries", Field::Number(f64::NAN))],
            vec![("max_entries", Field::Bool(true))],
            vec![("max_entries", Field::Text("10"))],
            vec![("max_bytes", Field::Integer(1000))],
            vec![("max_bytes", Field::Other("a list"))],
            vec![("maxentries", Field::Integer(10))],
        ] {
            let e = CacheOptions::from_fields(bad.clone()).unwrap_err();
            assert_eq!(e.code, ErrorCode::RequestInvalid, "{bad:?}");
            assert!(e.message.contains("cache option"), "{}", e.message);
        }
        assert!(TokenCache::try_new(CacheOptions {
            max_entries: 0,
            max_bytes: 1 << 20
        })
        .is_err());
    }

    #[test]
    fn the_hash_is_keyed() {
        let a = TokenCache::with_hash_key(CacheOptions::default(), (1, 2));
        let b = TokenCache::with_hash_key(CacheOptions::default(), (3, 4));
        assert_ne!(a.hash("same token"), b.hash("same token"));
        let p = TokenCache::new(CacheOptions::default());
        let q = TokenCache::new(CacheOptions::default());
        assert_ne!(
            p.hash("same token"),
            q.hash("same token"),
            "a random key per cache"
        );
    }
}
