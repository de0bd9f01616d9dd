//! The store's health as the receiver sees it: a circuit breaker in front of the claim.
//!
//! While a store fails, every claim costs a call that times out, and (for a lease) an orphan
//! release in the background; a replay storm during an outage multiplies both, and they
//! compete with the real deliveries once the store is back. After
//! [`DEFAULT_BREAKER_THRESHOLD`] failed claims in a row the breaker opens: claims are answered
//! at once (503 fail-closed, or processed without deduplication fail-open) with no store call
//! and no task. One claim per [`DEFAULT_BREAKER_PROBE_INTERVAL`] goes through as a probe; the
//! first that succeeds closes the breaker, so service is back within that interval of the
//! store answering again. [`Receiver::health`](crate::Receiver::health) reports it.

use std::{
    sync::atomic::{AtomicI64, AtomicU32, Ordering},
    time::Duration,
};

use crate::{clock::millis, dedup::StoreErrorKind};

/// Failed claims in a row that open the breaker, unless configured otherwise: 5.
pub const DEFAULT_BREAKER_THRESHOLD: u32 = 5;
/// How often an open breaker lets one claim through to see whether the store is back: 500 ms.
pub const DEFAULT_BREAKER_PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// What a receiver knows of its store, for a readiness probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// `false` while the breaker is open: the store failed its last claims, and deliveries are
    /// answered 503 (fail-closed) or processed without deduplication (fail-open).
    pub store_available: bool,
    /// Claims that failed in a row (0 after one that succeeded).
    pub consecutive_failures: u32,
    /// When the breaker opened, in Unix milliseconds of the receiver's clock.
    pub unavailable_since: Option<i64>,
}

impl Health {
    /// Whether the receiver can deduplicate deliveries now: for a readiness probe.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.store_available
    }
}

/// The breaker of one receiver.
#[derive(Debug)]
pub(crate) struct Breaker {
    /// 0: never opens.
    threshold: u32,
    probe_interval: i64,
    failures: AtomicU32,
    /// When it opened (Unix ms); 0 while closed.
    opened_at: AtomicI64,
    /// When the last probe went through (Unix ms).
    last_probe: AtomicI64,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, probe_interval: Duration) -> Self {
        Self {
            threshold,
            probe_interval: millis(probe_interval),
            failures: AtomicU32::new(0),
            opened_at: AtomicI64::new(0),
            last_probe: AtomicI64::new(0),
        }
    }

    /// Whether a claim may go to the store now (`now` is read only while open): always
    /// while closed; while open, one probe per interval (the caller that wins the race).
    pub(crate) fn admit(&self, now: impl FnOnce() -> i64) -> bool {
        if self.opened_at.load(Ordering::Acquire) == 0 {
            return true;
        }
        let now = now();
        let last = self.last_probe.load(Ordering::Acquire);
        now.saturating_sub(last) >= self.probe_interval
            && self
                .last_probe
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// A claim the store answered: the breaker closes. `true` when it was open.
    pub(crate) fn succeeded(&self) -> bool {
        self.failures.store(0, Ordering::Release);
        let was_open = self.opened_at.swap(0, Ordering::AcqRel) != 0;
        if was_open {
            tracing::info!("the dedup store answers again; claims go to it again");
        }
        was_open
    }

    /// A claim that failed with `kind` at `now`. A full store is not a sick one: only
    /// unavailable and timed-out calls count. `true` when this failure opened the breaker.
    pub(crate) fn failed(&self, kind: StoreErrorKind, now: i64) -> bool {
        if kind == StoreErrorKind::Full || self.threshold == 0 {
            return false;
        }
        let failures = self
            .failures
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        if failures >= self.threshold {
            self.last_probe.store(now, Ordering::Release);
            let opened = now.max(1);
            if self
                .opened_at
                .compare_exchange(0, opened, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                tracing::warn!(
                    failures,
                    "the dedup store failed {failures} claims in a row; answering at once until a probe succeeds"
                );
                return true;
            }
        }
        false
    }

    pub(crate) fn health(&self) -> Health {
        let opened = self.opened_at.load(Ordering::Acquire);
        Health {
            store_available: opened == 0,
            consecutive_failures: self.failures.load(Ordering::Acquire),
            unavailable_since: (opened != 0).then_some(opened),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_probes_once_per_interval_and_closes_on_success() {
        let breaker = Breaker::new(3, Duration::from_millis(500));
        for now in 0..2 {
            assert!(breaker.admit(|| now));
            breaker.failed(StoreErrorKind::Timeout, now);
        }
        assert!(breaker.health().is_ready(), "two failures: still closed");
        breaker.failed(StoreErrorKind::Unavailable, 2);
        assert!(!breaker.health().is_ready());
        assert_eq!(breaker.health().unavailable_since, Some(2));
        assert!(!breaker.admit(|| 100), "open: answered at once");
        assert!(breaker.admit(|| 502), "a probe after the interval");
        assert!(!breaker.admit(|| 503), "one probe per interval");
        breaker.failed(StoreErrorKind::Timeout, 503);
        assert!(!breaker.admit(|| 900));
        assert!(breaker.admit(|| 1003));
        assert!(breaker.succeeded(), "it was open");
        assert!(breaker.health().is_ready());
        assert_eq!(breaker.health().consecutive_failures, 0);
        assert!(breaker.admit(|| 1004));
    }

    #[test]
    fn a_full_store_does_not_open_it_and_zero_disables_it() {
        let breaker = Breaker::new(1, Duration::from_millis(500));
        breaker.failed(StoreErrorKind::Full, 0);
        assert!(breaker.health().is_ready());
        let never = Breaker::new(0, Duration::from_millis(500));
        for now in 0..100 {
            never.failed(StoreErrorKind::Timeout, now);
        }
        assert!(never.health().is_ready());
    }
}
