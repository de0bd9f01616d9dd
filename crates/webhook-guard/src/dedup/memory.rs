//! The in-memory store: bounded, sharded, with leases and retention.

use std::{
    collections::VecDeque,
    fmt,
    hash::BuildHasher,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::{Claim, ClaimToken, DedupStore, StoreError, StoreErrorKind, StoreFuture};
use crate::clock::{self, Clock, SystemClock};

/// The default number of records kept: in-flight claims plus completed deliveries.
pub const DEFAULT_CAPACITY: usize = 250_000;
const DEFAULT_SHARDS: usize = 64;

/// A [`DedupStore`] in this process's memory: the default, for an application running as one
/// replica (run several behind a load balancer and a retry can land on a replica that never saw
/// the first delivery: use a shared store such as Redis there).
///
/// - **Bounded**: at most `capacity` records. When full, the oldest completed records are
///   evicted first; in-flight claims are never evicted: if the store is full of them, a new
///   claim fails with [`StoreErrorKind::Full`] and the receiver answers 503, so the provider
///   retries later. Nothing is dropped silently.
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
/// # futures_lite_block_on(async {
/// use std::time::Duration;
/// use webhook_guard::dedup::{Claim, DedupStore, MemoryStore};
///
/// let store = MemoryStore::new();
/// let Claim::Claimed(token) = store.claim("parallel:main:whevent_1", Duration::from_secs(60)).await? else {
///     panic!("first claim");
/// };
/// assert_eq!(store.claim("parallel:main:whevent_1", Duration::from_secs(60)).await?, Claim::InFlight);
/// store.complete("parallel:main:whevent_1", &token, Duration::from_secs(72 * 3600)).await?;
/// assert_eq!(store.claim("parallel:main:whevent_1", Duration::from_secs(60)).await?, Claim::Done);
/// # Ok::<(), webhook_guard::dedup::StoreError>(())
/// # });
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// ```
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    per_shard_capacity: usize,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
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
        self.shards.iter().map(|s| lock(s).records.len()).sum()
    }

    /// Whether the store holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The locked shard of `key`, and the key's hash.
    fn shard(&self, key: &str) -> (MutexGuard<'_, Shard>, u64) {
        let hash = self.hasher.hash_one(key);
        // The table uses the low bits and the top 7; the shard takes bits from the middle.
        // The shard count is a power of two.
        let index = ((hash >> 32) as usize) & (self.shards.len() - 1);
        (lock(&self.shards[index]), hash)
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = self.clock.unix_millis();
        let (mut shard, hash) = self.shard(key);
        let lease_until = now.saturating_add(clock::millis(lease));
        let token = ClaimToken::random();
        let claimed = Record::InFlight {
            owner: token.as_u128(),
            lease_until,
        };
        match shard.records.find_mut(hash, |(k, _)| **k == *key) {
            Some((_, Record::Done { until })) if *until > now => return Ok(Claim::Done),
            Some((_, Record::InFlight { lease_until, .. })) if *lease_until > now => {
                return Ok(Claim::InFlight);
            }
            Some((_, expired)) => {
                *expired = claimed;
                return Ok(Claim::Claimed(token));
            }
            None => {}
        }
        shard.purge_expired(now, &self.hasher);
        if shard.records.len() >= self.per_shard_capacity
            && !shard.evict_oldest_completed(&self.hasher)
        {
            return Err(StoreError::new(
                StoreErrorKind::Full,
                "every record is an in-flight claim",
            ));
        }
        let hasher = &self.hasher;
        shard
            .records
            .insert_unique(hash, (Arc::from(key), claimed), |(k, _)| {
                hasher.hash_one(&**k)
            });
        Ok(Claim::Claimed(token))
    }

    fn complete_now(&self, key: &str, token: &ClaimToken, retention: Duration) {
        let now = self.clock.unix_millis();
        let (mut shard, hash) = self.shard(key);
        let until = now.saturating_add(clock::millis(retention));
        let owned = match shard.records.find_mut(hash, |(k, _)| **k == *key) {
            Some((key, record)) if record.is_owned_by(token) => {
                *record = Record::Done { until };
                Some(Arc::clone(key))
            }
            _ => None,
        };
        if let Some(key) = owned {
            shard.completed.push_back((key, until));
        }
        shard.purge_expired(now, &self.hasher);
    }

    fn release_now(&self, key: &str, token: &ClaimToken) {
        let (mut shard, hash) = self.shard(key);
        if let Ok(entry) = shard.records.find_entry(hash, |(k, _)| **k == *key)
            && entry.get().1.is_owned_by(token)
        {
            entry.remove();
        }
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
            .field("shards", &self.shards.len())
            .field("capacity", &(self.per_shard_capacity * self.shards.len()))
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl DedupStore for MemoryStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        let result = self.claim_now(key, lease);
        Box::pin(std::future::ready(result))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        self.complete_now(key, token, retention);
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.release_now(key, token);
        Box::pin(std::future::ready(Ok(())))
    }
}

impl MemoryStoreBuilder {
    /// The most records kept, in flight and completed (default 250,000). Spread evenly over the
    /// shards, rounded up.
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
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard_capacity: self.capacity.div_ceil(shards).max(1),
            hasher: RandomState::default(),
            clock: self.clock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const LEASE: Duration = Duration::from_secs(60);
    const KEEP: Duration = Duration::from_secs(3600);

    fn store(capacity: usize, clock: &ManualClock) -> MemoryStore {
        MemoryStore::builder()
            .capacity(capacity)
            .shards(1)
            .clock(clock.clone())
            .build()
    }

    fn claimed(claim: Result<Claim, StoreError>) -> ClaimToken {
        match claim {
            Ok(Claim::Claimed(token)) => token,
            other => panic!("not claimed: {other:?}"),
        }
    }

    #[test]
    fn claim_complete_release() {
        let clock = ManualClock::at_unix_seconds(1_000);
        let store = store(10, &clock);
        let token = claimed(store.claim_now("a", LEASE));
        assert_eq!(store.claim_now("a", LEASE), Ok(Claim::InFlight));
        store.release_now("a", &token);
        let token = claimed(store.claim_now("a", LEASE));
        store.complete_now("a", &token, KEEP);
        assert_eq!(store.claim_now("a", LEASE), Ok(Claim::Done));
        // Releasing a completed record does nothing.
        store.release_now("a", &token);
        assert_eq!(store.claim_now("a", LEASE), Ok(Claim::Done));
    }

    #[test]
    fn an_expired_lease_can_be_taken_over_and_the_old_owner_cannot_touch_it() {
        let clock = ManualClock::at_unix_seconds(1_000);
        let store = store(10, &clock);
        let first = claimed(store.claim_now("a", LEASE));
        clock.advance(LEASE);
        let second = claimed(store.claim_now("a", LEASE));
        // The first owner's late calls change nothing.
        store.complete_now("a", &first, KEEP);
        store.release_now("a", &first);
        assert_eq!(store.claim_now("a", LEASE), Ok(Claim::InFlight));
        store.complete_now("a", &second, KEEP);
        assert_eq!(store.claim_now("a", LEASE), Ok(Claim::Done));
    }

    #[test]
    fn completed_records_expire_after_retention() {
        let clock = ManualClock::at_unix_seconds(1_000);
        let store = store(10, &clock);
        let token = claimed(store.claim_now("a", LEASE));
        store.complete_now("a", &token, KEEP);
        clock.advance(KEEP - Duration::from_millis(1));
        assert_eq!(store.claim_now("a", LEASE), Ok(Claim::Done));
        clock.advance(Duration::from_millis(1));
        claimed(store.claim_now("a", LEASE));
        // Expired records are purged as the store is used.
        let token = claimed(store.claim_now("b", LEASE));
        store.complete_now("b", &token, Duration::from_secs(1));
        clock.advance(Duration::from_secs(2));
        let token = claimed(store.claim_now("c", LEASE));
        store.complete_now("c", &token, KEEP);
        assert_eq!(store.len(), 2, "a (in flight) and c");
    }

    #[test]
    fn full_store_evicts_oldest_completed_first_and_never_in_flight_claims() {
        let clock = ManualClock::at_unix_seconds(1_000);
        let store = store(3, &clock);
        let in_flight = claimed(store.claim_now("in-flight", LEASE));
        for key in ["old", "new"] {
            let token = claimed(store.claim_now(key, LEASE));
            store.complete_now(key, &token, KEEP);
            clock.advance(Duration::from_secs(1));
        }
        // Full: the next claim evicts "old", not "new" and not the in-flight claim.
        let x = claimed(store.claim_now("x", LEASE));
        assert_eq!(store.len(), 3);
        assert_eq!(store.claim_now("new", LEASE), Ok(Claim::Done));
        assert_eq!(store.claim_now("in-flight", LEASE), Ok(Claim::InFlight));
        // "old" was evicted, so it is new again: claiming it evicts "new", the only completed
        // record left.
        claimed(store.claim_now("old", LEASE));
        assert_eq!(store.len(), 3);
        // Now every record is in flight: a new claim fails instead of evicting one.
        let error = store.claim_now("y", LEASE).expect_err("full");
        assert_eq!(error.kind(), StoreErrorKind::Full);
        store.release_now("x", &x);
        claimed(store.claim_now("y", LEASE));
        store.release_now("in-flight", &in_flight);
    }

    #[test]
    fn capacity_is_spread_over_shards() {
        let store = MemoryStore::builder().capacity(1000).shards(60).build();
        assert_eq!(store.shards.len(), 64);
        assert_eq!(store.per_shard_capacity, 16);
        assert!(format!("{store:?}").contains("capacity: 1024"));
    }
}
