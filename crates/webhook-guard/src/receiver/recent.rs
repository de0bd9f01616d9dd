//! [`RecentlyDone`]: the keys the store answered as completed in the last minute, so that a
//! replay storm of a captured delivery is answered as a duplicate with one store call, not one
//! per copy.
//!
//! Only a record the store reported completed is remembered, and for less than the store
//! keeps it (a minute, or the retention if shorter, on the receiver's clock), so an answer
//! from here is one the store would give: never a delivery skipped. Empty until a duplicate
//! arrives, so a delivery that is not one costs an atomic load. Bounded: the oldest entries
//! make room for new ones.

use std::{
    collections::{HashSet, VecDeque},
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use crate::{clock::Clock, dedup::DedupKey};

/// How many keys are remembered at most.
const CAPACITY: usize = 4096;
/// How long a key is remembered at most.
const TTL: Duration = Duration::from_secs(60);

/// The keys completed recently.
#[derive(Default)]
pub(crate) struct RecentlyDone {
    keys: Mutex<Keys>,
    /// How many keys are remembered: read without the lock.
    len: AtomicUsize,
}

#[derive(Default)]
struct Keys {
    set: HashSet<Box<str>>,
    /// In the order they were added, with when they stop counting (Unix milliseconds).
    order: VecDeque<(Box<str>, i64)>,
}

impl RecentlyDone {
    /// Whether the store reported `key` completed within the last minute (or the retention,
    /// if shorter).
    pub(crate) fn contains(&self, key: &DedupKey, clock: &dyn Clock) -> bool {
        if self.len.load(Ordering::Acquire) == 0 {
            return false;
        }
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.expire(clock.unix_millis());
        self.len.store(keys.order.len(), Ordering::Release);
        keys.set.contains(key.as_str())
    }

    /// Forgets `key` (the store's record of it was removed).
    pub(crate) fn remove(&self, key: &DedupKey) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.set.remove(key.as_str()) {
            keys.order.retain(|(k, _)| **k != *key.as_str());
            self.len.store(keys.order.len(), Ordering::Release);
        }
    }

    /// Remembers `key` as completed, for at most a minute and at most `retention`.
    pub(crate) fn insert(&self, key: &DedupKey, retention: Duration, clock: &dyn Clock) {
        let keep = i64::try_from(TTL.min(retention).as_millis()).unwrap_or(i64::MAX);
        let until = clock.unix_millis().saturating_add(keep);
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.set.contains(key.as_str()) {
            return;
        }
        if keys.order.len() >= CAPACITY
            && let Some((oldest, _)) = keys.order.pop_front()
        {
            keys.set.remove(&oldest);
        }
        let key: Box<str> = key.as_str().into();
        keys.set.insert(key.clone());
        keys.order.push_back((key, until));
        self.len.store(keys.order.len(), Ordering::Release);
    }
}

impl Keys {
    fn expire(&mut self, now: i64) {
        while let Some((_, until)) = self.order.front() {
            if *until > now {
                break;
            }
            if let Some((key, _)) = self.order.pop_front() {
                self.set.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::clock::ManualClock;

    #[test]
    fn remembers_briefly_and_boundedly() {
        let clock = ManualClock::at_unix_seconds(1_700_000_000);
        let recent = RecentlyDone::default();
        let key = |i: usize| DedupKey::new("p:e", &format!("d{i}"));
        let hour = Duration::from_secs(3600);
        assert!(!recent.contains(&key(0), &clock));
        recent.insert(&key(0), hour, &clock);
        assert!(recent.contains(&key(0), &clock));
        clock.advance(Duration::from_secs(61));
        assert!(!recent.contains(&key(0), &clock), "a minute at most");
        recent.insert(&key(1), Duration::ZERO, &clock);
        assert!(
            !recent.contains(&key(1), &clock),
            "never longer than the retention"
        );
        for i in 2..CAPACITY + 3 {
            recent.insert(&key(i), hour, &clock);
        }
        assert!(!recent.contains(&key(2), &clock), "the oldest made room");
        assert!(recent.contains(&key(CAPACITY + 2), &clock));
    }
}
