//! [`MemoryBudget`]: a bound on the bytes held for bodies not yet verified, across every
//! connection and every receiver that shares it.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

/// The size up to which a body may use the whole budget; larger ones only its first three
/// quarters.
pub const SMALL_BODY: usize = 64 * 1024;

/// The bytes of unverified bodies all receivers hold at once by default: 64 MiB, shared by
/// every receiver of the process ([`MemoryBudget::shared`]).
pub const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;

/// A bound on the memory held for request bodies before their signature is checked, shared
/// by every request of every receiver given the same budget.
///
/// An unauthenticated client can open many connections and send each a large body slowly;
/// each receiver's [`body_limit`](crate::ReceiverBuilder::body_limit) bounds one body, this
/// bounds them all together. A body's buffer takes from the budget as it grows (at most
/// 64 KiB ahead of the bytes that arrived) and gives all of it back once the body was read
/// (it is verified at once) or refused. When a body cannot grow within the budget, it waits
/// briefly (up to [`BUDGET_WAIT`](crate::adapter::BUDGET_WAIT)) for others to finish, then
/// is answered 503 with `retry-after`: a sender retries it, while the memory stays bounded.
///
/// Bodies past [`SMALL_BODY`] (64 KiB; webhooks are mostly far smaller) may only grow while
/// three quarters of the budget or less is in use: the last quarter is kept for small
/// bodies, so a flood of large unfinished bodies leaves room for the deliveries of real
/// senders.
///
/// By default every receiver shares one process-wide budget of [`DEFAULT_MEMORY_BUDGET`]
/// ([`MemoryBudget::shared`]).
///
/// ```
/// use webhook_guard::{MemoryBudget, Receiver, parallel::Parallel};
///
/// // 16 MiB for the bodies of this receiver and any other given the same budget.
/// let budget = MemoryBudget::new(16 << 20);
/// let receiver = Receiver::builder(Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?)
///     .memory_budget(budget.clone())
///     .build()?;
/// assert_eq!(budget.in_use(), 0);
/// # drop(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct MemoryBudget(Option<Arc<Budget>>);

#[derive(Debug)]
struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `bytes`, for the receivers it is given to.
    #[must_use]
    pub fn new(bytes: usize) -> Self {
        Self(Some(Arc::new(Budget {
            limit: bytes,
            used: AtomicUsize::new(0),
        })))
    }

    /// No budget: each body is bounded by its receiver's
    /// [`body_limit`](crate::ReceiverBuilder::body_limit) alone, and nothing is counted. For a
    /// receiver behind a proxy that already bounds what it buffers for unverified clients.
    #[must_use]
    pub fn unlimited() -> Self {
        Self(None)
    }

    /// `true` for [`unlimited`](Self::unlimited).
    #[must_use]
    pub fn is_unlimited(&self) -> bool {
        self.0.is_none()
    }

    /// The process-wide budget every receiver uses unless given another:
    /// [`DEFAULT_MEMORY_BUDGET`].
    #[must_use]
    pub fn shared() -> Self {
        static SHARED: OnceLock<MemoryBudget> = OnceLock::new();
        SHARED
            .get_or_init(|| Self::new(DEFAULT_MEMORY_BUDGET))
            .clone()
    }

    /// The budget, in bytes.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.0.as_ref().map_or(usize::MAX, |budget| budget.limit)
    }

    /// The bytes held for unverified bodies now.
    #[must_use]
    pub fn in_use(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |budget| budget.used.load(Ordering::Acquire))
    }

    /// Takes `bytes` from the budget for a buffer that grows to `capacity`, unless that
    /// would pass the limit (for a buffer past [`SMALL_BODY`], three quarters of it).
    pub(crate) fn try_take(&self, bytes: usize, capacity: usize) -> bool {
        let Some(budget) = &self.0 else {
            return true;
        };
        let limit = if capacity > SMALL_BODY {
            budget.limit / 4 * 3
        } else {
            budget.limit
        };
        budget
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= limit)
            })
            .is_ok()
    }

    /// Gives back `bytes` taken before.
    pub(crate) fn give_back(&self, bytes: usize) {
        if let Some(budget) = &self.0 {
            budget.used.fetch_sub(bytes, Ordering::AcqRel);
        }
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        Self::shared()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_up_to_the_limit_and_gives_back() {
        let budget = MemoryBudget::new(100);
        assert!(budget.try_take(60, 60));
        assert!(!budget.try_take(41, 41), "past the limit");
        assert!(budget.try_take(40, 40));
        assert_eq!(budget.in_use(), 100);
        budget.give_back(60);
        assert!(budget.try_take(10, 10));
        assert_eq!(budget.in_use(), 50);
        assert!(!budget.try_take(usize::MAX, 1), "no overflow");
    }

    #[test]
    fn large_bodies_leave_the_last_quarter_to_small_ones() {
        let budget = MemoryBudget::new(4 * SMALL_BODY * 4);
        let large = SMALL_BODY + 1;
        let mut taken = 0;
        while budget.try_take(SMALL_BODY, large) {
            taken += 1;
        }
        assert_eq!(taken, 12, "three quarters");
        let mut small = 0;
        while budget.try_take(SMALL_BODY, SMALL_BODY) {
            small += 1;
        }
        assert_eq!(small, 4, "the last quarter, for small bodies");
        assert!(MemoryBudget::shared().limit() == DEFAULT_MEMORY_BUDGET);
        let unlimited = MemoryBudget::unlimited();
        assert!(unlimited.try_take(usize::MAX, usize::MAX));
        assert_eq!(unlimited.in_use(), 0);
    }
}
