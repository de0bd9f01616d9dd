//! The durable inbox: answer a delivery as soon as it is stored, run its handler later, lose
//! nothing, run it once.
//!
//! A receiver built with [`ReceiverBuilder::inbox`](crate::receiver::ReceiverBuilder::inbox)
//! verifies a delivery as always, then writes it and its dedup record in one atomic step and
//! answers `202 Accepted` (configurable) — never a 2xx before the commit. A copy of a stored
//! delivery is answered `200` with the `webhook-guard-duplicate` header and counted on its
//! entry. `Worker`s, in the same process or others, claim entries under leases, run the
//! handler with the same typed [`Delivery`](crate::Delivery) an inline handler gets, and
//! settle each attempt: done, retried with backoff, or dead after the last attempt.
//!
//! ```text
//!  sender ──▶ receiver: verify ─▶ enqueue (entry + dedup record, one commit) ─▶ 202
//!                                        │
//!  worker ◀── claim (lease) ◀────────────┘   handler ─▶ done | retry (backoff) | dead
//! ```
//!
//! | backend | crate | durable | transactions for handlers |
//! |---|---|---|---|
//! | `MemoryInbox` | this one (feature `inbox`) | no: demo and tests | no |
//! | `PgInbox` | `webhook-guard-postgres` | yes | yes: the done mark commits with the handler's writes |
//!
//! The guide "Acknowledge fast, process later" (`docs/inbox.md` in the repository) walks
//! through a deployment: receivers and workers, crashes, retries, replays, operations.
//!
//! ```
//! use std::time::Duration;
//! use webhook_guard::{Receiver, inbox::{Inbox, MemoryInbox, Verdict}, parseflow::{Event, ParseFlow}};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let inbox = Inbox::new(MemoryInbox::new());
//! let receiver = Receiver::builder(ParseFlow::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456")?)
//!     .inbox(&inbox)
//!     .build()?;
//! // Mount `receiver` with an adapter; then, here or in another process:
//! let worker = inbox
//!     .worker()
//!     .concurrency(8)
//!     .route(&receiver, async |delivery, _attempt| match delivery.event {
//!         Event::ExtractionCompleted(_) => Verdict::Done,
//!         _ => Verdict::Done,
//!     });
//! worker.run_until(tokio::time::sleep(Duration::from_millis(10))).await;
//! # Ok(()) }
//! ```

#[cfg(feature = "inbox")]
mod attempt;
mod entry;
#[cfg(feature = "inbox")]
mod memory;
pub(crate) mod metrics;
mod retry;
#[cfg(feature = "inbox")]
mod route;
#[cfg(feature = "inbox")]
mod run;
#[cfg(feature = "inbox")]
mod shared;
mod store;
#[cfg(feature = "inbox")]
mod worker;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

#[cfg(feature = "inbox")]
pub use attempt::Attempt;
pub use entry::{
    AttemptRecord, ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, EntryState, Filter, Lease,
    NewEntry, PauseScope, Stats, StoredHeaders, UnknownState,
};
#[cfg(feature = "inbox")]
pub use memory::MemoryInbox;
pub use retry::{DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BASE, RetryPolicy, Verdict};
pub use store::{InboxStore, ReplayStep, Settlement};
#[cfg(feature = "inbox")]
pub use worker::{
    DEFAULT_CONCURRENCY, DEFAULT_INBOX_LEASE, DEFAULT_POLL_INTERVAL, DEFAULT_SHUTDOWN_DEADLINE,
    Worker,
};

use crate::dedup::StoreError;

/// An inbox: its store, shared by receivers, workers and operations. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Inbox {
    store: Arc<dyn InboxStore>,
}

/// A flag that stops a bulk replay between two steps. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not raised.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises it: the replay stops after the step in progress (each entry of which is
    /// replayed whole).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Raised?
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// How fast a bulk replay goes: `batch` entries per step, `pause` between steps (so replaying
/// a day of dead letters does not starve new deliveries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Throttle {
    /// Entries per step (one statement).
    pub batch: usize,
    /// The pause after each step.
    pub pause: Duration,
}

impl Default for Throttle {
    /// 100 entries per step, 100 ms apart: at most 1,000 entries a second.
    fn default() -> Self {
        Self {
            batch: 100,
            pause: Duration::from_millis(100),
        }
    }
}

impl Throttle {
    /// `batch` entries per step (at least 1), `pause` apart.
    #[must_use]
    pub fn new(batch: usize, pause: Duration) -> Self {
        Self {
            batch: batch.max(1),
            pause,
        }
    }
}

/// What a bulk replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayReport {
    /// Entries put back to `pending`.
    pub replayed: u64,
    /// `true` if it stopped because it was cancelled.
    pub cancelled: bool,
}

impl Inbox {
    /// An inbox on `store`.
    pub fn new(store: impl InboxStore) -> Self {
        Self {
            store: Arc::new(store),
        }
    }

    /// An inbox on a shared store.
    #[must_use]
    pub fn from_arc(store: Arc<dyn InboxStore>) -> Self {
        Self { store }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn InboxStore> {
        &self.store
    }

    /// A worker to configure with [`route`](Worker::route)s and run.
    #[cfg(feature = "inbox")]
    pub fn worker(&self) -> Worker {
        Worker::new(Arc::clone(&self.store))
    }

    /// Replays every entry matching `filter` (none `running`), `throttle.batch` at a time in
    /// id order, until none is left or `cancel` is raised. Each entry is replayed whole, in
    /// one step; entries stored after the replay started are left alone.
    ///
    /// # Errors
    /// The store's; the entries replayed before it stay replayed.
    pub async fn replay_matching(
        &self,
        filter: &Filter,
        throttle: Throttle,
        cancel: &Cancel,
        sleep: impl AsyncFn(Duration),
    ) -> Result<ReplayReport, StoreError> {
        let mut report = ReplayReport {
            replayed: 0,
            cancelled: false,
        };
        // Entries stored after this point are not part of the replay.
        let Some(newest) = self.store.newest().await? else {
            return Ok(report);
        };
        let mut after = None;
        loop {
            if cancel.is_cancelled() {
                report.cancelled = true;
                return Ok(report);
            }
            let step = self
                .store
                .replay_step(&bounded(filter, newest), after, throttle.batch)
                .await?;
            report.replayed += step.replayed;
            match step.last {
                Some(last) if last < newest => after = Some(last),
                _ => return Ok(report),
            }
            sleep(throttle.pause).await;
        }
    }
}

/// `filter`, for entries up to `newest`.
fn bounded(filter: &Filter, newest: EntryId) -> Filter {
    Filter {
        up_to: Some(filter.up_to.map_or(newest, |up_to| up_to.min(newest))),
        ..filter.clone()
    }
}
