//! The in-memory store: bounded, sharded, with leases and retention.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    hash::BuildHasher,
    sync::{Arc, Mutex, MutexGuard, RwLock},
    time::Duration,
};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::{Claim, ClaimToken, DedupKey, DedupStore, StoreError, StoreErrorKind, StoreFuture};
use crate::clock::{self, Clock, SystemClock};

/// The default number of records kept per namespace (one provider endpoint, signed or
/// unsigned): in-flight claims plus completed deliveries.
pub const DEFAULT_CAPACITY: usize = 250_000;
const DEFAULT_SHARDS: usize = 64;
/// Namespaces come from the receivers' configuration, not from requests; the bound only stops
/// a program that makes keys of its own from growing the store without end.
const MAX_NAMESPACES: usize = 1024;

/// A [`DedupStore`] in this process's memory: the default, for an application running as one
/// replica (run several behind a load balancer and a retry can land on a replica that never saw
/// the first delivery: use a shared store such as Redis there).
///
/// - **Bounded per namespace**: at most `capacity` records for each namespace (a provider
///   endpoint, signed or unsigned), so a flood of deliveries through one provider can only
///   evict that provider's own records. When a namespace is full, its oldest completed records
///   are evicted first; in-flight claims are never evicted: if it is full of them, a new claim
///   fails with [`StoreErrorKind::Full`] and the receiver answers 503, so the provider retries
///   later. Nothing is dropped silently.
/// - **Retention** of completed records is given by the receiver on each
///   [`complete`](DedupStore::complete) (72 h by default, Parallel retries for 48 h); expired
///   records are removed as the store is used.
/// - **Leases**: a claim that is neither completed nor released (a crashed handler) can be taken
///   again once its lease has expired.
/// - **Concurrency**: keys are spread over 64 independently locked shards, so concurrent claims
///   of different ids rarely wait for each other; claims of one id are serialized, which is
///   what makes exactly one of them win.
///
/// Why not a general cache crate such as `moka`: its TinyLFU admission policy may refuse to
/// keep a new entry when the cache is full, and it evicts by popularity, not by age, and cannot
/// pin in-flight entries. A dedup store must keep every record it acknowledges, evict only
/// completed ones, and oldest first.
///
/// ```
/// # let outcome = futures_lite_block_on(async {
/// use std::time::Duration;
/// use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, DedupStore, MemoryStore};
///
/// let store = MemoryStore::new();
/// let key = DedupKey::new("parallel:main", "whevent_1");
/// let (token, other) = (ClaimToken::random(), ClaimToken::random());
/// let lease = Duration::from_secs(10);
/// assert_eq!(store.claim(&key, &token, lease).await?, Claim::Claimed);
/// assert_eq!(store.claim(&key, &other, lease).await?, Claim::InFlight);
/// assert!(store.renew(&key, &token, lease).await?);
/// store.complete(&key, &token, Duration::from_secs(72 * 3600)).await?;
/// assert_eq!(store.claim(&key, &other, lease).await?, Claim::Done);
/// # Ok::<(), webhook_guard::dedup::StoreError>(())
/// # });
/// # outcome.expect("the store answers");
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// ```
pub struct MemoryStore {
    partitions: RwLock<HashMap<Box<str>, Partition, RandomState>>,
    shards: usize,
    per_shard_capacity: usize,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
}

/// The records of one namespace.
struct Partition {
    shards: Box<[Mutex<Shard>]>,
}

/// Configuration of a [`MemoryStore`].
#[derive(Debug)]
#[must_use]
pub struct MemoryStoreBuilder {
    capacity: usize,
    shards: usize,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Shard {
    /// Records with their keys, hashed once per call with the store's hasher.
    records: HashTable<(Arc<str>, Record)>,
    /// Completed records in the order they were completed, with the time each expires. An
    /// entry whose record was since removed or claimed again is stale and skipped.
    completed: VecDeque<(Arc<str>, i64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    InFlight { owner: u128, lease_until: i64 },
    Done { until: i64 },
}

impl MemoryStore {
    /// A store with the default capacity (250,000 records) and the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts a configuration.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            capacity: DEFAULT_CAPACITY,
            shards: DEFAULT_SHARDS,
            clock: Arc::new(SystemClock),
        }
    }

    /// The number of records held (in flight, completed, and expired ones not yet removed).
    #[must_use]
    pub fn len(&self) -> usize {
        let partitions = self.partitions.read().unwrap_or_else(|e| e.into_inner());
        partitions
            .values()
            .flat_map(|p| p.shards.iter())
            .map(|s| lock(s).records.len())
            .sum()
    }

    /// Whether the store holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` on the locked shard of `key` (creating its namespace's partition if need be),
    /// with the key's hash.
    fn with_shard<T>(
        &self,
        key: &DedupKey,
        f: impl FnOnce(&mut Shard, u64) -> T,
    ) -> Result<T, StoreError> {
        let hash = self.hasher.hash_one(key.as_str());
        // The table uses the low bits and the top 7; the shard takes bits from the middle.
        // The shard count is a power of two.
        let run = |partition: &Partition| {
            let index = ((hash >> 32) as usize) & (partition.shards.len() - 1);
            f(&mut lock(&partition.shards[index]), hash)
        };
        {
            let partitions = self.partitions.read().unwrap_or_else(|e| e.into_inner());
            if let Some(partition) = partitions.get(key.namespace()) {
                return Ok(run(partition));
            }
        }
        let mut partitions = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        if !partitions.contains_key(key.namespace()) && partitions.len() >= MAX_NAMESPACES {
            return Err(StoreError::new(
                StoreErrorKind::Full,
                format!("more than {MAX_NAMESPACES} namespaces"),
            ));
        }
        let partition = partitions
            .entry(key.namespace().into())
            .or_insert_with(|| Partition {
                shards: (0..self.shards).map(|_| Mutex::default()).collect(),
            });
        Ok(run(partition))
    }

    fn claim_now(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let now = self.clock.unix_millis();
        let lease_until = now.saturating_add(clock::millis(lease));
        let claimed = Record::InFlight {
            owner: token.as_u128(),
            lease_until,
        };
        let capacity = self.per_shard_capacity;
        let hasher = &self.hasher;
        self.with_shard(key, |shard, hash| {
            let key = key.as_str();
            match shard.records.find_mut(hash, |(k, _)| **k == *key) {
                Some((_, Record::Done { until })) if *until > now => return Ok(Claim::Done),
                Some((_, Record::InFlight { owner, lease_until })) if *lease_until > now => {
                    // The same owner claiming again (a retried call whose first try was
                    // recorded) holds the claim.
                    if *owner == token.as_u128() {
                        *lease_until = now.saturating_add(clock::millis(lease));
                        return Ok(Claim::Claimed);
                    }
                    return Ok(Claim::InFlight);
                }
                Some((_, expired)) => {
                    *expired = claimed;
                    return Ok(Claim::Claimed);
                }
                None => {}
            }
            shard.purge_expired(now, hasher);
            if shard.records.len() >= capacity && !shard.evict_oldest_completed(hasher) {
                return Err(StoreError::new(
                    StoreErrorKind::Full,
                    "every record of this namespace is an in-flight claim",
                ));
            }
            shard
                .records
                .insert_unique(hash, (Arc::from(key), claimed), |(k, _)| {
                    hasher.hash_one(&**k)
                });
            Ok(Claim::Claimed)
        })?
    }

    fn renew_now(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.clock.unix_millis();
        self.with_shard(key, |shard, hash| {
            match shard.records.find_mut(hash, |(k, _)| **k == *key.as_str()) {
                Some((_, Record::InFlight { owner, lease_until }))
                    if *owner == token.as_u128() && *lease_until > now =>
                {
                    *lease_until = now.saturating_add(clock::millis(lease));
                    true
                }
                _ => false,
            }
        })
    }

    fn complete_now(
        &self,
        key: &DedupKey,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<(), StoreError> {
        let now = self.clock.unix_millis();
        let until = now.saturating_add(clock::millis(retention));
        let hasher = &self.hasher;
        self.with_shard(key, |shard, hash| {
            let owned = match shard.records.find_mut(hash, |(k, _)| **k == *key.as_str()) {
                Some((key, record)) if record.is_owned_by(token) => {
                    *record = Record::Done { until };
                    Some(Arc::clone(key))
                }
                _ => None,
            };
            if let Some(key) = owned {
                shard.completed.push_back((key, until));
            }
            shard.purge_expired(now, hasher);
        })
    }

    fn inspect_now(&self, key: &DedupKey) -> Result<Option<super::Record>, StoreError> {
        let now = self.clock.unix_millis();
        let left = |until: i64| Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
        self.with_shard(key, |shard, hash| {
            match shard.records.find(hash, |(k, _)| **k == *key.as_str()) {
                Some((_, Record::Done { until })) if *until > now => Some(super::Record::Done {
                    expires_in: left(*until),
                }),
                Some((_, Record::InFlight { lease_until, .. })) if *lease_until > now => {
                    Some(super::Record::InFlight {
                        expires_in: left(*lease_until),
                    })
                }
                _ => None,
            }
        })
    }

    fn forget_now(&self, key: &DedupKey) -> Result<bool, StoreError> {
        self.with_shard(key, |shard, hash| {
            match shard
                .records
                .find_entry(hash, |(k, _)| **k == *key.as_str())
            {
                Ok(entry) => {
                    entry.remove();
                    true
                }
                Err(_) => false,
            }
        })
    }

    fn release_now(&self, key: &DedupKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.with_shard(key, |shard, hash| {
            if let Ok(entry) = shard
                .records
                .find_entry(hash, |(k, _)| **k == *key.as_str())
                && entry.get().1.is_owned_by(token)
            {
                entry.remove();
            }
        })
    }
}

impl Record {
    fn is_owned_by(&self, token: &ClaimToken) -> bool {
        matches!(self, Self::InFlight { owner, .. } if *owner == token.as_u128())
    }
}

impl Shard {
    /// Removes completed records whose retention has passed, from the oldest.
    fn purge_expired(&mut self, now: i64, hasher: &RandomState) {
        while let Some((_, expires)) = self.completed.front() {
            if *expires > now {
                break;
            }
            if let Some((key, expires)) = self.completed.pop_front() {
                self.remove_if_done_until(&key, expires, hasher);
            }
        }
    }

    /// Evicts the oldest completed record; `false` if there is none.
    fn evict_oldest_completed(&mut self, hasher: &RandomState) -> bool {
        while let Some((key, expires)) = self.completed.pop_front() {
            if self.remove_if_done_until(&key, expires, hasher) {
                return true;
            }
        }
        false
    }

    /// Removes `key` if it is the completed record that `expires` was queued for.
    fn remove_if_done_until(&mut self, key: &str, expires: i64, hasher: &RandomState) -> bool {
        let hash = hasher.hash_one(key);
        match self.records.find_entry(hash, |(k, _)| **k == *key) {
            Ok(entry) if entry.get().1 == (Record::Done { until: expires }) => {
                entry.remove();
                true
            }
            _ => false,
        }
    }
}

/// Locks a shard. A panic while a shard was locked cannot leave it half-updated (every
/// update is a single map operation), so a poisoned lock is used as is.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("shards", &self.shards)
            .field(
                "capacity_per_namespace",
                &(self.per_shard_capacity * self.shards),
            )
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl DedupStore for MemoryStore {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(std::future::ready(self.claim_now(key, token, lease)))
    }

    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(std::future::ready(self.renew_now(key, token, lease)))
    }

    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(self.complete_now(key, token, retention)))
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(self.release_now(key, token)))
    }

    fn inspect<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, Option<super::Record>> {
        Box::pin(std::future::ready(self.inspect_now(key)))
    }

    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        Box::pin(std::future::ready(self.forget_now(key)))
    }
}

impl MemoryStoreBuilder {
    /// The most records kept per namespace, in flight and completed (default 250,000). Spread
    /// evenly over the shards, rounded up.
    pub fn capacity(mut self, records: usize) -> Self {
        self.capacity = records;
        self
    }

    /// The number of shards, rounded up to a power of two (default 64; 1 makes the capacity
    /// exact, for tests).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// The clock for leases and retention (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the store.
    #[must_use]
    pub fn build(self) -> MemoryStore {
        let shards = self.shards.max(1).next_power_of_two();
        MemoryStore {
            partitions: RwLock::default(),
            shards,
            per_shard_capacity: self.capacity.div_ceil(shards).max(1),
            hasher: RandomState::default(),
            clock: self.clock,
        }
    }
}

#[cfg(test)]
mod tests;
