//! Refusing a Redis that may evict dedup records.
//!
//! A Redis with a `maxmemory` and an evicting `maxmemory-policy` drops keys when it is full:
//! `allkeys-*` any key, `volatile-*` any key with a time to live, which every record of the
//! store has. An evicted completed record turns a replay of its delivery into a new delivery
//! (its handler runs again); an evicted claim lets a retry run beside the first attempt. So
//! the store reads the server's policy (`INFO memory`, which managed services allow where they
//! refuse `CONFIG GET`) when it connects and again at an interval (a failover may land on a
//! differently configured server), and refuses an evicting one unless the user opted in.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use webhook_guard::dedup::{StoreError, StoreErrorKind};

/// How often a store reads the server's policy again, unless configured otherwise: 60 s.
pub const DEFAULT_POLICY_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// The one policy that never evicts.
const NO_EVICTION: &str = "noeviction";

/// The policy checks of one store (shared by its clones).
#[derive(Debug)]
pub(crate) struct PolicyCheck {
    /// Evicting policies accepted (the user opted in): nothing is checked.
    pub(crate) allowed: bool,
    interval: Duration,
    epoch: Instant,
    /// When the next check is due, in milliseconds since `epoch` (0: before the first).
    next_due: AtomicU64,
    /// The evicting policy the last check found.
    refused: Mutex<Option<String>>,
}

impl PolicyCheck {
    pub(crate) fn new(allowed: bool, interval: Duration) -> Self {
        Self {
            allowed,
            interval,
            epoch: Instant::now(),
            next_due: AtomicU64::new(0),
            refused: Mutex::new(None),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether this caller should read the policy now. One caller per interval gets `true`
    /// (the others go on with the last answer).
    pub(crate) fn take_due(&self) -> bool {
        if self.allowed {
            return false;
        }
        let now = self.now_ms();
        let due = self.next_due.load(Ordering::Acquire);
        let next = now.saturating_add(u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX));
        now >= due
            && self
                .next_due
                .compare_exchange(due, next.max(1), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// Makes the next call read the policy again (after a check that could not be made).
    pub(crate) fn retry_soon(&self) {
        self.next_due.store(0, Ordering::Release);
    }

    /// Records the policy an `INFO memory` answer names, and answers whether the store may
    /// be used.
    ///
    /// # Errors
    /// [`StoreErrorKind::Unavailable`] for an evicting policy.
    pub(crate) fn record(&self, info: &str) -> Result<(), StoreError> {
        let refused = match evicting_policy(info) {
            Policy::Evicting(policy) => Some(policy.to_owned()),
            Policy::NoEviction => None,
            Policy::Unreported => {
                tracing::warn!(
                    "the Redis server does not report its maxmemory-policy; make sure it is noeviction"
                );
                None
            }
        };
        let mut last = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        *last = refused;
        match &*last {
            Some(policy) => Err(evicting(policy)),
            None => Ok(()),
        }
    }

    /// The answer of the last check.
    ///
    /// # Errors
    /// As [`record`](Self::record).
    pub(crate) fn last(&self) -> Result<(), StoreError> {
        if self.allowed {
            return Ok(());
        }
        let last = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        match &*last {
            Some(policy) => Err(evicting(policy)),
            None => Ok(()),
        }
    }
}

/// What the `maxmemory_policy` lines of an `INFO` answer (one per node of a cluster) say.
pub(crate) enum Policy<'a> {
    /// A node evicts, by this policy.
    Evicting(&'a str),
    /// Every node reports `noeviction`.
    NoEviction,
    /// No node reports a policy.
    Unreported,
}

/// The first evicting policy of an `INFO` answer, else whether any node reported one.
pub(crate) fn evicting_policy(info: &str) -> Policy<'_> {
    let mut found = Policy::Unreported;
    for policy in info
        .lines()
        .filter_map(|line| line.strip_prefix("maxmemory_policy:"))
        .map(str::trim)
    {
        if policy != NO_EVICTION {
            return Policy::Evicting(policy);
        }
        found = Policy::NoEviction;
    }
    found
}

fn evicting(policy: &str) -> StoreError {
    StoreError::new(StoreErrorKind::Unavailable, refusal(policy))
}

/// Why an evicting server is refused, and what to do.
pub(crate) fn refusal(policy: &str) -> String {
    format!(
        "the Redis server's maxmemory-policy is {policy}: it may evict dedup records, and a \
         delivery whose record was evicted would run its handler again. Set \
         `maxmemory-policy noeviction` on this server (or give deduplication a Redis of its \
         own), or accept the risk with RedisStoreBuilder::allow_eviction(true)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_but_noeviction_is_refused() {
        let check = PolicyCheck::new(false, Duration::from_secs(60));
        for policy in [
            "allkeys-lru",
            "volatile-lru",
            "allkeys-lfu",
            "volatile-lfu",
            "allkeys-random",
            "volatile-random",
            "volatile-ttl",
        ] {
            let info = format!("# Memory\r\nused_memory:1\r\nmaxmemory_policy:{policy}\r\n");
            let refused = check.record(&info).expect_err(policy);
            assert!(refused.to_string().contains(policy), "{refused}");
            assert!(check.last().is_err());
        }
        check
            .record("# Memory\r\nmaxmemory_policy:noeviction\r\n")
            .expect("noeviction");
        assert!(check.last().is_ok());
    }

    #[test]
    fn one_evicting_node_of_a_cluster_is_enough_to_refuse() {
        let check = PolicyCheck::new(false, Duration::from_secs(60));
        let nodes = "maxmemory_policy:noeviction\r\n\nmaxmemory_policy:volatile-lru\r\n";
        assert!(check.record(nodes).is_err());
        assert!(matches!(
            evicting_policy("used_memory:1\r\n"),
            Policy::Unreported
        ));
    }

    #[test]
    fn one_caller_per_interval_reads_the_policy_and_none_when_allowed() {
        let check = PolicyCheck::new(false, Duration::from_secs(60));
        assert!(check.take_due(), "the first call checks");
        assert!(!check.take_due(), "not again within the interval");
        check.retry_soon();
        assert!(check.take_due(), "again after a failed check");
        let allowed = PolicyCheck::new(true, Duration::from_secs(60));
        assert!(!allowed.take_due());
        assert!(allowed.last().is_ok());
    }
}
