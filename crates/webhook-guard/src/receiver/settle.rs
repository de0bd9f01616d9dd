//! Settling a claim: completing or releasing it in the store, or ending its transaction,
//! with the store calls that must outlive their request finished in the background.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use web_time::Instant;

use super::{
    Outcome, Rejection, RejectionKind,
    metrics::{Labels, StoreCall},
    renewer::Renew,
    runtime::{Runtime, Spawn, Task},
    settings::Settings,
};
use crate::dedup::{ClaimToken, DedupKey, DedupStore, StoreError, StoreFuture, Transaction};

/// The most store-call retries running in the background at once, in this process, in each of
/// two pools. The releases of claims whose `claim` call failed (orphans: during a store outage
/// every replay of a captured delivery makes one) have a pool of their own, so they never take
/// the place of a delivery whose handler ran. Past the bound an orphan is left to expire with
/// its lease, which is what a retry would have achieved at the latest; a completion that finds
/// its pool full is retried in place, before the handler's answer is sent: a handler that ran
/// is never left to run again.
pub const MAX_BACKGROUND_RETRIES: usize = 4096;

/// The background releases of orphaned claims.
static ORPHAN_RELEASES: AtomicUsize = AtomicUsize::new(0);
/// The background retries of completions and releases of claims whose handler ran.
static SETTLE_RETRIES: AtomicUsize = AtomicUsize::new(0);

/// A place in one of the pools of background retries, given back when dropped.
struct RetrySlot(&'static AtomicUsize);

impl RetrySlot {
    fn take(pool: &'static AtomicUsize) -> Option<Self> {
        let taken = pool.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_BACKGROUND_RETRIES).then_some(n + 1)
        });
        // Not `then_some(Self)`: that builds (and drops, giving back a place never taken) a
        // slot even when none is free.
        match taken {
            Ok(_) => Some(Self(pool)),
            Err(_) => None,
        }
    }
}

impl Drop for RetrySlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The first wait before a failed store call is tried again; it doubles up to
/// [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);

/// A claim in a store.
pub(crate) struct Held {
    pub(crate) store: Arc<dyn DedupStore>,
    pub(crate) key: DedupKey,
    pub(crate) token: ClaimToken,
    /// The receiver's settings: the lease, the retention, the metrics' labels.
    pub(crate) settings: Arc<Settings>,
}

impl Renew for Held {
    fn renew(&self) -> StoreFuture<'_, bool> {
        self.store
            .renew(&self.key, &self.token, self.settings.lease)
    }

    fn lease(&self) -> Duration {
        self.settings.lease
    }

    fn key(&self) -> &DedupKey {
        &self.key
    }

    fn labels(&self) -> &Labels {
        &self.settings.labels
    }
}

/// What a settling call does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settling {
    Complete,
    Release,
}

impl Held {
    async fn call(&self, settling: Settling) -> Result<(), StoreError> {
        let (result, call) = match settling {
            Settling::Complete => (
                self.store
                    .complete(&self.key, &self.token, self.settings.retention)
                    .await,
                StoreCall::Complete,
            ),
            Settling::Release => (
                self.store.release(&self.key, &self.token).await,
                StoreCall::Release,
            ),
        };
        if result.is_err() {
            self.settings.labels.store_error(call);
        }
        result
    }

    /// Settles the claim: one try in place, and on failure more tries in the background (or,
    /// for a completion whose pool is full, in place).
    fn settle(self: Arc<Self>, settling: Settling, runtime: Runtime) -> Task {
        Box::pin(async move {
            let Err(error) = self.call(settling).await else {
                return;
            };
            match RetrySlot::take(&SETTLE_RETRIES) {
                Some(slot) => {
                    tracing::warn!(%error, key = %self.key, "dedup store call failed; trying again in the background");
                    (runtime.spawn)(Box::pin(async move {
                        self.retry(settling, runtime).await;
                        drop(slot);
                    }));
                }
                None if settling == Settling::Complete => {
                    tracing::warn!(%error, key = %self.key, "dedup store call failed and too many retries run; completing before answering");
                    self.retry(settling, runtime).await;
                }
                None => {
                    tracing::warn!(%error, key = %self.key, "dedup store call failed; too many retries running, the claim expires with its lease");
                }
            }
        })
    }

    /// Tries `settling` again, waiting 100 ms and then twice as long each time (at most 1 s),
    /// until the store answers or the lease is over, whichever comes first. The lease bounds
    /// the waits and the wall time alike: calls that time out count.
    async fn retry(&self, settling: Settling, runtime: Runtime) {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut delay = FIRST_RETRY_DELAY;
        while waited < self.settings.lease && started.elapsed() < self.settings.lease {
            (runtime.sleep)(delay).await;
            waited += delay;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
            match self.call(settling).await {
                Ok(()) => return,
                Err(error) => tracing::debug!(%error, key = %self.key, "dedup store still failing"),
            }
        }
        tracing::warn!(key = %self.key, "dedup store unreachable for the whole lease; the claim has expired");
    }

    /// Releases, in the background, a claim whose `claim` call failed: it may have been
    /// recorded all the same (a time-out after the store applied it). Tried until the store
    /// answers once, within one lease. A claim still on its way to the store (queued on a
    /// connection the client gave up on) is harmless after that: a release that finds no
    /// claim of its token fences the token (see [`DedupStore::release`]), so the late claim
    /// is refused instead of holding the delivery for a lease. The token is this claim's own,
    /// so a release never touches another owner's record.
    pub(crate) fn release_orphan(self, runtime: Runtime) {
        let Some(slot) = RetrySlot::take(&ORPHAN_RELEASES) else {
            tracing::warn!(key = %self.key, "too many retries running; the claim expires with its lease");
            return;
        };
        (runtime.spawn)(Box::pin(async move {
            self.retry(Settling::Release, runtime).await;
            drop(slot);
        }));
    }
}

/// What the end of a transaction records, and answers when its commit fails.
pub(crate) struct TransactionEnd {
    pub(crate) labels: Arc<Labels>,
    /// The `retry-after` of the 503 after a failed commit.
    pub(crate) retry_after: Duration,
    /// When the claim was taken, for the handler-duration histogram.
    #[cfg(feature = "metrics")]
    pub(crate) started: web_time::Instant,
}

impl TransactionEnd {
    /// Commits or rolls back `transaction`. A commit records the outcome when it has
    /// answered: `processed`, or `store_unavailable` with the 503 to send instead.
    fn run(self, transaction: Box<dyn Transaction>, settling: Settling) -> Answer {
        let Self {
            labels,
            retry_after,
            #[cfg(feature = "metrics")]
            started,
        } = self;
        Box::pin(async move {
            match settling {
                Settling::Complete => {
                    let committed = transaction.commit().await;
                    let outcome = match committed {
                        Ok(()) => Outcome::Processed,
                        Err(_) => Outcome::StoreUnavailable,
                    };
                    labels.outcome(outcome);
                    #[cfg(feature = "metrics")]
                    labels.handler_time(started, outcome);
                    committed.map_err(|error| {
                        labels.store_error(StoreCall::Complete);
                        tracing::warn!(%error, "the delivery's transaction did not commit; answering 503 so the provider retries");
                        let kind = RejectionKind::StoreUnavailable(error);
                        Rejection::new(kind, Some(retry_after))
                    })
                }
                Settling::Release => {
                    if let Err(error) = transaction.rollback().await {
                        // The database rolls back a transaction whose connection is gone.
                        labels.store_error(StoreCall::Release);
                        tracing::warn!(%error, "the delivery's transaction could not be rolled back explicitly");
                    }
                    Ok(())
                }
            }
        })
    }
}

/// The end of a settling call: `Err` with the answer to send instead of the handler's.
type Answer = Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'static>>;

/// The store call of [`ClaimGuard::finish`](super::claim::ClaimGuard::finish) or
/// [`ClaimGuard::release`](super::claim::ClaimGuard::release); if dropped before its
/// end, the call finishes on the adapter's runtime. Its output is `Err` only when a
/// transaction's commit failed: answer that [`Rejection`], not the handler's response.
#[derive(Debug)]
#[must_use = "the claim is settled when this future is awaited or dropped"]
pub struct Settle(Option<Detached>);

impl Settle {
    /// A leased claim's completion or release: one try in place, more in the background.
    pub(crate) fn store(held: Arc<Held>, settling: Settling, runtime: Runtime) -> Self {
        let task = held.settle(settling, runtime);
        Self(Some(Detached::new(Job::Store(task), runtime.spawn)))
    }

    /// The commit or rollback of a claim's transaction.
    pub(crate) fn transaction(
        transaction: Box<dyn Transaction>,
        settling: Settling,
        ending: TransactionEnd,
        spawn: Spawn,
    ) -> Self {
        let answer = ending.run(transaction, settling);
        Self(Some(Detached::new(Job::Transaction(answer), spawn)))
    }

    /// Nothing to settle (fail-open: no claim was held).
    pub(crate) fn nothing() -> Self {
        Self(None)
    }
}

impl Future for Settle {
    type Output = Result<(), Rejection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            Some(detached) => Pin::new(detached).poll(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

/// A settling call: a store call of a leased claim, or the end of a transaction (whose
/// answer may replace the handler's). Two kinds, so a leased claim's call is not boxed twice.
enum Job {
    Store(Task),
    Transaction(Answer),
}

/// A task awaited in place that, if dropped before its end, finishes on the adapter's
/// runtime: a store call is never cut off half-way.
struct Detached {
    job: Option<Job>,
    spawn: Spawn,
}

impl fmt::Debug for Detached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detached")
            .field("done", &self.job.is_none())
            .finish_non_exhaustive()
    }
}

impl Detached {
    fn new(job: Job, spawn: Spawn) -> Self {
        Self {
            job: Some(job),
            spawn,
        }
    }
}

impl Future for Detached {
    type Output = Result<(), Rejection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let poll = match self.job.as_mut() {
            None => return Poll::Ready(Ok(())),
            Some(Job::Store(task)) => task.as_mut().poll(cx).map(Ok),
            Some(Job::Transaction(answer)) => answer.as_mut().poll(cx),
        };
        if poll.is_ready() {
            self.job = None;
        }
        poll
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        match self.job.take() {
            None => {}
            Some(Job::Store(task)) => (self.spawn)(task),
            Some(Job::Transaction(answer)) => (self.spawn)(Box::pin(async move {
                // Nobody is left to answer: a failed commit was logged and counted.
                let _ = answer.await;
            })),
        }
    }
}
