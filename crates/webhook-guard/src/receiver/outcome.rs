//! [`Outcome`]: what became of a delivery, for logs and metrics.

use std::fmt;

/// What became of a delivery, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler answered 2xx.
    Processed,
    /// The handler answered something else, failed, or panicked; the claim was released.
    HandlerFailed,
    /// The response was dropped before the handler answered (the client went away).
    Abandoned,
    /// A duplicate of a completed delivery.
    Duplicate,
    /// A duplicate of a delivery in flight.
    InFlight,
    /// Not authentic.
    Unauthorized,
    /// Body or delivery id unreadable.
    Malformed,
    /// Body over the limit.
    TooLarge,
    /// Body not received within the read timeout.
    TimedOut,
    /// The store failed, fail-closed.
    StoreUnavailable,
    /// Refused for want of memory for unverified bodies (see
    /// [`MemoryBudget`](crate::MemoryBudget)).
    Overloaded,
    /// Stored in the receiver's [inbox](crate::inbox) and answered 202; a worker runs the
    /// handler.
    Queued,
}

impl Outcome {
    /// A short lowercase name: `processed`, `duplicate`, ...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::HandlerFailed => "handler_failed",
            Self::Abandoned => "abandoned",
            Self::Duplicate => "duplicate",
            Self::InFlight => "in_flight",
            Self::Unauthorized => "unauthorized",
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::TimedOut => "timed_out",
            Self::StoreUnavailable => "store_unavailable",
            Self::Overloaded => "overloaded",
            Self::Queued => "queued",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
