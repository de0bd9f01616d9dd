//! What a handler answers ([`Verdict`]), and when a failed attempt runs again
//! ([`RetryPolicy`]).

use std::{fmt, time::Duration};

/// A worker handler's answer for one attempt.
///
/// A handler may also answer `Result<(), E>` (any `E: Display`): `Ok` is
/// [`Verdict::Done`], `Err` a [`Verdict::Retry`] on the [`RetryPolicy`]'s schedule. A panic
/// is a retry too.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Handled: the entry is done (with the handler's transaction, if it took one).
    Done,
    /// Failed for now: run again after `after` (`None`: the policy's backoff), unless this
    /// was the last attempt, which makes it dead.
    Retry {
        /// The delay the handler asks for, if any.
        after: Option<Duration>,
        /// Why, kept in the entry's history.
        error: String,
    },
    /// Will never succeed (the event cannot be handled): dead at once, kept for a replay.
    Fail {
        /// Why.
        error: String,
    },
}

impl Verdict {
    /// [`Verdict::Retry`] on the policy's schedule.
    pub fn retry(error: impl fmt::Display) -> Self {
        Self::Retry {
            after: None,
            error: error.to_string(),
        }
    }

    /// [`Verdict::Retry`] after `delay` (a sender's rate limit says when, say).
    pub fn retry_after(delay: Duration, error: impl fmt::Display) -> Self {
        Self::Retry {
            after: Some(delay),
            error: error.to_string(),
        }
    }

    /// [`Verdict::Fail`]: dead at once.
    pub fn fail(error: impl fmt::Display) -> Self {
        Self::Fail {
            error: error.to_string(),
        }
    }
}

impl From<()> for Verdict {
    fn from((): ()) -> Self {
        Self::Done
    }
}

impl<E: fmt::Display> From<Result<(), E>> for Verdict {
    fn from(result: Result<(), E>) -> Self {
        match result {
            Ok(()) => Self::Done,
            Err(error) => Self::retry(error),
        }
    }
}

/// When a failed attempt runs again, and how many attempts an entry gets.
///
/// The delay before attempt `k + 1` is `base · 2^(k−1)`, at most `base · 64`, plus a random
/// jitter of at most `base` (so entries that failed together do not all come back together).
/// The defaults, `base` 30 s and 55 attempts, outlast a day-long outage of whatever the
/// handler calls: the first 7 retries wait 1 h 3.5 min in all, the next 47 come every 32 min,
/// so the last attempt runs about 26 h 10 min after the first (26 h 37 min with the jitter at
/// its largest).
/// Attempts cut off by a crash count: a delivery that kills its worker stops after the last
/// attempt instead of killing workers forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    max_attempts: u32,
}

/// The default base delay.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(30);
/// The default number of attempts.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 55;
/// The longest delay, in multiples of the base.
const CAP_FACTOR: u32 = 64;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: DEFAULT_RETRY_BASE,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl RetryPolicy {
    /// A policy of `max_attempts` attempts (at least 1) with delays from `base`.
    #[must_use]
    pub fn new(base: Duration, max_attempts: u32) -> Self {
        Self {
            base,
            max_attempts: max_attempts.max(1),
        }
    }

    /// The base delay.
    #[must_use]
    pub fn base(&self) -> Duration {
        self.base
    }

    /// Attempts before an entry is dead.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay before the attempt after `attempt` (counted from 1), without the jitter.
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(CAP_FACTOR.trailing_zeros());
        self.base.saturating_mul(1 << doublings)
    }

    /// [`backoff`](Self::backoff) plus a random jitter in `[0, base]`.
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let jitter = self.base.mul_f64(unit_random());
        self.backoff(attempt).saturating_add(jitter)
    }
}

/// A number in `[0, 1]`, random enough to spread retries (not for secrets): a hash of a
/// counter with a key drawn once per process, which is what `foldhash`'s random state is.
fn unit_random() -> f64 {
    use std::{
        hash::BuildHasher as _,
        sync::{
            OnceLock,
            atomic::{AtomicU64, Ordering},
        },
    };
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = STATE.get_or_init(foldhash::fast::RandomState::default);
    let bits = state.hash_one(COUNTER.fetch_add(1, Ordering::Relaxed)) >> 11;
    #[allow(clippy::cast_precision_loss)] // 53 bits: exact in an f64
    let unit = bits as f64 / (1_u64 << 53) as f64;
    unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_sixty_four_times_the_base() {
        let policy = RetryPolicy::new(Duration::from_millis(100), 20);
        let delays: Vec<u128> = (1..=9).map(|k| policy.backoff(k).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 6400, 6400, 6400]);
        for k in 1..=20 {
            let delay = policy.delay(k);
            assert!(delay >= policy.backoff(k));
            assert!(delay <= policy.backoff(k) + Duration::from_millis(100));
        }
    }

    #[test]
    fn the_default_outlasts_a_day() {
        let policy = RetryPolicy::default();
        let total: Duration = (1..policy.max_attempts()).map(|k| policy.backoff(k)).sum();
        assert!(total > Duration::from_secs(26 * 3600), "{total:?}");
        assert!(total < Duration::from_secs(27 * 3600), "{total:?}");
    }

    #[test]
    fn results_become_verdicts() {
        assert_eq!(Verdict::from(Ok::<(), String>(())), Verdict::Done);
        assert_eq!(Verdict::from(Err::<(), _>("boom")), Verdict::retry("boom"));
        assert_eq!(RetryPolicy::new(Duration::ZERO, 0).max_attempts(), 1);
    }
}
