//! [`Attempt`]: one attempt at an entry, as its handler sees it.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use super::entry::EntryId;
use crate::dedup::TransactionHandle;

/// One attempt at an entry, for its handler.
#[derive(Clone)]
#[non_exhaustive]
pub struct Attempt {
    /// The entry.
    pub entry: EntryId,
    /// This attempt's number, from 1.
    pub number: u32,
    /// Attempts before the entry is dead.
    pub max_attempts: u32,
    /// When the receiver stored it, Unix milliseconds.
    pub received_at_ms: i64,
    pub(super) transaction: Option<TransactionHandle>,
    pub(super) on_done: Arc<Mutex<Option<AfterDone>>>,
}

/// What runs once an attempt's entry is durably done.
pub(super) type AfterDone = Box<dyn FnOnce() + Send>;

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("entry", &self.entry)
            .field("number", &self.number)
            .field("max_attempts", &self.max_attempts)
            .field("transaction", &self.transaction.is_some())
            .finish_non_exhaustive()
    }
}

impl Attempt {
    /// The transaction the handler writes in, with a store that has them
    /// (`webhook_guard_postgres::PgTx::from_attempt` takes it): committed with the entry's
    /// done mark when the handler answers [`Verdict::Done`](super::Verdict::Done), rolled back otherwise.
    #[must_use]
    pub fn transaction(&self) -> Option<&TransactionHandle> {
        self.transaction.as_ref()
    }

    /// Runs `then` once the entry is durably done (after the commit of the handler's
    /// transaction, or the done mark): never for an attempt that fails, or whose commit does.
    /// For what must not happen before the effects are committed (printing, notifying). A
    /// later call replaces an earlier one.
    pub fn on_done(&self, then: impl FnOnce() + Send + 'static) {
        let mut slot = self.on_done.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some(Box::new(then));
    }

    /// Is this the last attempt (a failure makes the entry dead)?
    #[must_use]
    pub fn is_last(&self) -> bool {
        self.number >= self.max_attempts
    }
}
