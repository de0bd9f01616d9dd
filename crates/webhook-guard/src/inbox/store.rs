//! [`InboxStore`]: what a durable inbox backend does, for the receiver, the workers and the
//! operations.

use std::{fmt, time::Duration};

use super::entry::{
    ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, Filter, Lease, NewEntry, PauseScope,
    Stats,
};
use crate::dedup::{StoreFuture, Transaction};

/// How a worker settles an attempt. Not `#[non_exhaustive]`: every store applies each of
/// them, so a new one is a breaking change on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Handled: `done`.
    Done,
    /// Back to `pending`, due after `after`.
    Retry {
        /// The delay.
        after: Duration,
        /// The attempt's error.
        error: String,
    },
    /// `dead`: kept with its history until replayed or purged.
    Dead {
        /// The last error.
        error: String,
    },
    /// Back to `pending` at once, this attempt not counted (a worker shutting down before its
    /// handler finished).
    Release,
}

impl Settlement {
    /// The outcome's name in an entry's history.
    #[must_use]
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retry { .. } => "retry",
            Self::Dead { .. } => "dead",
            Self::Release => "released",
        }
    }

    /// The error, if any.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Retry { error, .. } | Self::Dead { error } => Some(error),
            Self::Done | Self::Release => None,
        }
    }
}

/// One step of a bulk replay: how many entries it replayed, and the largest id it looked at
/// (the next step starts after it; `None` when nothing was left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayStep {
    /// Entries put back to `pending`.
    pub replayed: u64,
    /// The largest id looked at.
    pub last: Option<EntryId>,
}

impl ReplayStep {
    /// A step.
    #[must_use]
    pub fn new(replayed: u64, last: Option<EntryId>) -> Self {
        Self { replayed, last }
    }
}

/// A durable inbox: entries written by the receiver in one atomic step with their dedup
/// record, claimed by workers under leases, settled, replayed, paused, purged.
///
/// The rules every implementation keeps (the conformance tests in
/// `webhook_guard::testkit::inbox` check them):
/// - [`enqueue`](Self::enqueue) returns only once the entry is durable; a second entry with the
///   same dedup key is never stored, in any state, until the first is purged or forgotten.
/// - [`claim`](Self::claim) hands an entry to one worker at a time: `pending`, due, not
///   paused, of one of the request's routes, and with no earlier unfinished (`pending` or
///   `running`) entry of its ordering key; it counts the attempt.
/// - Settling and renewing need the current lease: after a lease was taken over they change
///   nothing and say so.
/// - A replay never touches a `running` entry, and puts each entry back whole (one step per
///   entry): `pending`, due now, attempts from zero, history kept.
pub trait InboxStore: Send + Sync + fmt::Debug + 'static {
    /// Stores an entry and its dedup record in one atomic step.
    fn enqueue<'a>(&'a self, entry: &'a NewEntry) -> StoreFuture<'a, Enqueued>;

    /// Claims up to `request.limit` entries for a worker.
    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> StoreFuture<'a, Vec<ClaimedEntry>>;

    /// Opens the transaction an attempt's handler writes in, if the store has them: its
    /// [`commit`](Transaction::commit) marks the entry done, fenced by `lease`, together with
    /// the handler's writes (a lease taken over fails the commit and rolls everything back).
    /// `None` (the default): the handler has no transaction, the entry is settled on its own.
    fn begin<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Option<Box<dyn Transaction>>> {
        let _ = lease;
        Box::pin(async { Ok(None) })
    }

    /// Extends the leases still held by `duration`; returns the ids of those renewed.
    fn renew<'a>(
        &'a self,
        leases: &'a [Lease],
        duration: Duration,
    ) -> StoreFuture<'a, Vec<EntryId>>;

    /// Settles an attempt; `false` when the lease was no longer held (nothing changed).
    fn settle<'a>(&'a self, lease: &'a Lease, settlement: &'a Settlement) -> StoreFuture<'a, bool>;

    /// Puts `running` entries whose lease expired (a crashed or stalled worker) back to
    /// `pending`, or `dead` when they had `max_attempts`; returns how many.
    fn rescue(&self, max_attempts: u32) -> StoreFuture<'_, u64>;

    /// Waits until new entries may be claimable (a notification), or `timeout`.
    fn wait(&self, timeout: Duration) -> StoreFuture<'_, ()>;

    /// One entry, with its headers and body.
    fn get(&self, id: EntryId) -> StoreFuture<'_, Option<Entry>>;

    /// Entries matching `filter` with ids after `after`, by id, at most `limit`, without their
    /// headers and bodies.
    fn list<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<Entry>>;

    /// The largest id stored.
    fn newest(&self) -> StoreFuture<'_, Option<EntryId>>;

    /// Counts by state.
    fn stats(&self) -> StoreFuture<'_, Stats>;

    /// Replays these entries (any state but `running`); returns the ids replayed.
    fn replay<'a>(&'a self, ids: &'a [EntryId]) -> StoreFuture<'a, Vec<EntryId>>;

    /// Replays up to `limit` entries matching `filter` with ids after `after`, in id order:
    /// one step of [`Inbox::replay_matching`](super::Inbox::replay_matching).
    fn replay_step<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        limit: usize,
    ) -> StoreFuture<'a, ReplayStep>;

    /// Pauses processing for `scope` (deliveries keep being stored).
    fn pause<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, ()>;

    /// Resumes processing for `scope`; `false` if it was not paused.
    fn resume<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, bool>;

    /// The paused scopes.
    fn paused(&self) -> StoreFuture<'_, Vec<PauseScope>>;

    /// Deletes up to `limit` `done` entries finished more than `older_than` ago (and `dead`
    /// ones too with `dead`); returns how many.
    fn purge(&self, older_than: Duration, dead: bool, limit: usize) -> StoreFuture<'_, u64>;

    /// Deletes the entry of `dedup_key` unless it is `pending` or `running`, so that the
    /// next copy of the delivery is stored (and run) again; `true` if one was deleted.
    fn forget<'a>(&'a self, dedup_key: &'a str) -> StoreFuture<'a, bool>;
}
