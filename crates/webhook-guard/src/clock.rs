//! Where the receiver and the memory store read the time, so tests can set it.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use web_time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time, in milliseconds since the Unix epoch.
///
/// The [`Receiver`](crate::Receiver) checks signature timestamps against it and the
/// [`MemoryStore`](crate::dedup::MemoryStore) times leases and retention with it.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn unix_millis(&self) -> i64;

    /// The current time in whole seconds since the Unix epoch (rounded down).
    fn unix_seconds(&self) -> i64 {
        self.unix_millis().div_euclid(1000)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn unix_millis(&self) -> i64 {
        (**self).unix_millis()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
        }
    }
}

/// A clock that only moves when told to, for tests. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use webhook_guard::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::at_unix_seconds(1_700_000_000);
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(clock.unix_seconds(), 1_700_000_061);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing `seconds` after the Unix epoch.
    #[must_use]
    pub fn at_unix_seconds(seconds: i64) -> Self {
        Self(Arc::new(AtomicI64::new(seconds.saturating_mul(1000))))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock, in milliseconds since the Unix epoch.
    pub fn set_unix_millis(&self, millis: i64) {
        self.0.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn unix_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Milliseconds in a duration, saturating.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020_and_seconds_round_down() {
        assert!(SystemClock.unix_seconds() > 1_577_836_800);
        let clock = ManualClock::default();
        clock.set_unix_millis(-1);
        assert_eq!(clock.unix_seconds(), -1);
        clock.set_unix_millis(1999);
        assert_eq!(clock.unix_seconds(), 1);
    }
}
