//! [`ClaimGuard`]: the claim an accepted delivery holds while its handler runs.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
    time::Duration,
};

use http::StatusCode;

use super::{
    Outcome, Rejection, RejectionKind,
    metrics::{Labels, StoreCall},
};
use crate::dedup::{
    ClaimToken, DedupKey, DedupStore, StoreError, StoreFuture, Transaction, TransactionHandle,
};

/// A background task: a store call that must finish after its request is gone.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A timer of the adapter's runtime.
pub type Timer = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How an adapter runs a [`Task`] on its framework's runtime (for instance `tokio::spawn`).
pub type Spawn = fn(Task);

/// What the core needs of the adapter's async runtime, which it does not have itself: a way to
/// run a task in the background, and a timer.
///
/// ```
/// use webhook_guard::adapter::Runtime;
///
/// // With Tokio:
/// // const TOKIO: Runtime = Runtime {
/// //     spawn: |task| drop(tokio::spawn(task)),
/// //     sleep: |after| Box::pin(tokio::time::sleep(after)),
/// // };
/// const NONE: Runtime = Runtime { spawn: |task| drop(task), sleep: |_| Box::pin(std::future::pending()) };
/// # let _ = NONE;
/// ```
#[derive(Clone, Copy)]
pub struct Runtime {
    /// Runs a task to its end in the background.
    pub spawn: Spawn,
    /// A future that is ready after the duration.
    pub sleep: fn(Duration) -> Timer,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// The most store-call retries running in the background at once, in this process. During a
/// store outage every failed claim starts one (for up to a lease); replays of a captured
/// delivery would otherwise pile them up. Past the bound a claim is left to expire with its
/// lease, which is what a retry would have achieved at the latest.
pub const MAX_BACKGROUND_RETRIES: usize = 4096;
static BACKGROUND_RETRIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A place among the background retries, given back when dropped.
struct RetrySlot;

impl RetrySlot {
    fn take() -> Option<Self> {
        use std::sync::atomic::Ordering;
        let taken = BACKGROUND_RETRIES.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_BACKGROUND_RETRIES).then_some(n + 1)
        });
        // Not `then_some(Self)`: that builds (and drops, giving back a place never taken) a
        // slot even when none is free.
        match taken {
            Ok(_) => Some(Self),
            Err(_) => None,
        }
    }
}

impl Drop for RetrySlot {
    fn drop(&mut self) {
        BACKGROUND_RETRIES.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The first wait before a failed store call is tried again; it doubles up to
/// [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The claim on an accepted delivery, held by the adapter while the handler runs.
///
/// - [`renewing`](Self::renewing) the handler's future: while it runs, the claim's lease is
///   renewed every third of the lease, so a retry can never take over a delivery whose handler
///   is still at work, however slow; and a crashed process stops renewing, so its claim is
///   free again within one lease.
/// - [`finish`](Self::finish) with the handler's status: a 2xx completes the claim (the
///   delivery id is kept for the retention period, a retry is a duplicate), anything else
///   releases it (the provider's retry is processed).
/// - [`release`](Self::release) when the handler failed without a status.
/// - Dropped unfinished (the handler panicked, the client went away and the response future
///   was dropped): the claim is released.
///
/// With a [`TransactionalStore`](crate::dedup::TransactionalStore) the claim is an open
/// transaction: a 2xx commits it, anything else rolls it back, and a commit that fails turns
/// the answer into a 503 ([`finish`](Self::finish) answers the [`Rejection`] to send instead
/// of the handler's response).
///
/// Each of the three records the delivery's [`Outcome`]. A store call that cannot finish at
/// once goes on in the background through the adapter's [`Runtime`], and one that fails is
/// tried again there (from 100 ms, doubling to 1 s) until it succeeds or the lease is over —
/// after which the claim has expired anyway. In fail-open mode, after a store failure, the
/// guard holds no claim and only records the outcome.
#[must_use = "a dropped guard releases the claim: finish it with the handler's status"]
pub struct ClaimGuard {
    held: Option<Held>,
    /// The open transaction holding the claim, with a transactional store.
    transaction: Option<Box<dyn Transaction>>,
    labels: Arc<Labels>,
    runtime: Runtime,
    armed: bool,
    /// The `retry-after` of a 503 after a failed commit.
    retry_after: Duration,
    /// When the claim was taken, for the handler-duration histogram.
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

/// A claim in a store.
pub(crate) struct Held {
    pub(crate) store: Arc<dyn DedupStore>,
    pub(crate) key: DedupKey,
    pub(crate) token: ClaimToken,
    pub(crate) lease: Duration,
    pub(crate) retention: Duration,
    /// The metrics' labels, for the store errors counted in the background.
    pub(crate) labels: Arc<Labels>,
}

/// What a settling call does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Settling {
    Complete,
    Release,
}

impl Held {
    async fn call(&self, settling: Settling) -> Result<(), StoreError> {
        let (result, call) = match settling {
            Settling::Complete => (
                self.store
                    .complete(&self.key, &self.token, self.retention)
                    .await,
                StoreCall::Complete,
            ),
            Settling::Release => (
                self.store.release(&self.key, &self.token).await,
                StoreCall::Release,
            ),
        };
        if result.is_err() {
            self.labels.store_error(call);
        }
        result
    }

    /// Settles the claim: one try in place, and on failure more tries in the background.
    fn settle(self, settling: Settling, runtime: Runtime) -> Task {
        Box::pin(async move {
            if let Err(error) = self.call(settling).await {
                let Some(slot) = RetrySlot::take() else {
                    tracing::warn!(%error, key = %self.key, "dedup store call failed; too many retries running, the claim expires with its lease");
                    return;
                };
                tracing::warn!(%error, key = %self.key, "dedup store call failed; trying again in the background");
                (runtime.spawn)(Box::pin(async move {
                    self.retry(settling, runtime, false).await;
                    drop(slot);
                }));
            }
        })
    }

    /// Tries `settling` again, waiting 100 ms and then twice as long each time (at most 1 s),
    /// until the lease is over — or, unless `over_the_whole_lease`, until it succeeds.
    async fn retry(self, settling: Settling, runtime: Runtime, over_the_whole_lease: bool) {
        let mut waited = Duration::ZERO;
        let mut delay = FIRST_RETRY_DELAY;
        let mut succeeded = false;
        while waited < self.lease {
            (runtime.sleep)(delay).await;
            waited += delay;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
            match self.call(settling).await {
                Ok(()) if !over_the_whole_lease => return,
                Ok(()) => succeeded = true,
                Err(error) => tracing::debug!(%error, key = %self.key, "dedup store still failing"),
            }
        }
        if !succeeded {
            tracing::warn!(key = %self.key, "dedup store unreachable for the whole lease; the claim has expired");
        }
    }

    /// Releases, in the background, a claim whose `claim` call failed: it may have been
    /// recorded all the same (a time-out after the store applied it). The release is sent
    /// again over the whole lease, not only until the store first answers: after a time-out
    /// the client may reconnect, and a release on the new connection can reach the store
    /// before the claim still queued on the old one. The token is this claim's own, so a
    /// release never touches another owner's record.
    pub(crate) fn release_orphan(self, runtime: Runtime) {
        let Some(slot) = RetrySlot::take() else {
            tracing::warn!(key = %self.key, "too many retries running; the claim expires with its lease");
            return;
        };
        (runtime.spawn)(Box::pin(async move {
            self.retry(Settling::Release, runtime, true).await;
            drop(slot);
        }));
    }
}

impl ClaimGuard {
    pub(crate) fn new(held: Option<Held>, labels: Arc<Labels>, runtime: Runtime) -> Self {
        Self {
            held,
            transaction: None,
            labels,
            runtime,
            armed: true,
            retry_after: Duration::ZERO,
            #[cfg(feature = "metrics")]
            started: std::time::Instant::now(),
        }
    }

    /// The guard of a claim held by an open transaction.
    pub(crate) fn transactional(
        transaction: Box<dyn Transaction>,
        labels: Arc<Labels>,
        runtime: Runtime,
        retry_after: Duration,
    ) -> Self {
        let mut guard = Self::new(None, labels, runtime);
        guard.transaction = Some(transaction);
        guard.retry_after = retry_after;
        guard
    }

    /// `false` when the store failed and the receiver is fail-open: there is no claim.
    #[must_use]
    pub fn holds_claim(&self) -> bool {
        self.held.is_some() || self.transaction.is_some()
    }

    /// With a transactional store, the handle the handler's extractor finds its transaction
    /// by: the adapter puts it in the request's extensions. `None` with any other store.
    #[must_use]
    pub fn transaction(&self) -> Option<TransactionHandle> {
        self.transaction
            .as_ref()
            .map(|transaction| transaction.handle())
    }

    /// Runs `handler` (the framework's future for the handler's answer) and renews the
    /// claim's lease while it runs. A handler that answers at once costs nothing more; the
    /// first timer starts when it first waits.
    pub fn renewing<F: Future>(&self, handler: F) -> Renewing<'_, F> {
        Renewing {
            handler,
            held: self.held.as_ref(),
            sleep: self.runtime.sleep,
            timer: None,
            renewal: None,
        }
    }

    /// Settles the claim with the handler's `status`: completes it after a 2xx (outcome
    /// `processed`), releases it otherwise (`handler_failed`). The returned future is small;
    /// dropped before its end, it finishes the store call in the background.
    ///
    /// It answers `Err` only with a transactional store whose commit failed (outcome
    /// `store_unavailable`): the handler's writes may not be there, so its 2xx must not be
    /// sent; the adapter answers the [`Rejection`] (503 with `retry-after`) instead, and the
    /// provider retries.
    pub fn finish(mut self, status: StatusCode) -> Settle {
        if status.is_success() && self.transaction.is_some() {
            // Recorded once the commit has answered.
            self.armed = false;
            return self.settle(Settling::Complete);
        }
        let settling = if status.is_success() {
            self.disarm(Outcome::Processed);
            Settling::Complete
        } else {
            self.disarm(Outcome::HandlerFailed);
            Settling::Release
        };
        self.settle(settling)
    }

    /// Releases the claim of a handler that failed without answering (outcome
    /// `handler_failed`), so the provider's retry is processed.
    pub fn release(mut self) -> Settle {
        self.disarm(Outcome::HandlerFailed);
        self.settle(Settling::Release)
    }

    /// Releases the claim of a delivery refused after its claim (a malformed body), at once
    /// or in the background; the rejection records the outcome.
    pub(crate) fn reject(mut self) {
        self.armed = false;
        self.release_in_background();
    }

    fn settle(&mut self, settling: Settling) -> Settle {
        let runtime = self.runtime;
        if let Some(transaction) = self.transaction.take() {
            let answer = self.end_transaction(transaction, settling);
            return Settle(Some(Detached::new(Job::Transaction(answer), runtime.spawn)));
        }
        Settle(self.held.take().map(|held| {
            let task = held.settle(settling, runtime);
            Detached::new(Job::Store(task), runtime.spawn)
        }))
    }

    /// Commits or rolls back the claim's transaction. A commit records the outcome when it
    /// has answered: `processed`, or `store_unavailable` with the 503 to send instead.
    fn end_transaction(&self, transaction: Box<dyn Transaction>, settling: Settling) -> Answer {
        let labels = Arc::clone(&self.labels);
        let retry_after = self.retry_after;
        #[cfg(feature = "metrics")]
        let started = self.started;
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

    fn release_in_background(&mut self) {
        let mut release = self.settle(Settling::Release);
        // Polled once here: a store that answers at once is done before this returns; the
        // rest is spawned when `release` drops.
        let _ = Pin::new(&mut release).poll(&mut Context::from_waker(Waker::noop()));
    }

    fn disarm(&mut self, outcome: Outcome) {
        self.armed = false;
        self.record(outcome);
    }

    fn record(&self, outcome: Outcome) {
        self.labels.outcome(outcome);
        #[cfg(feature = "metrics")]
        self.labels.handler_time(self.started, outcome);
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let outcome = if std::thread::panicking() {
            Outcome::HandlerFailed
        } else {
            Outcome::Abandoned
        };
        tracing::debug!(%outcome, "delivery not finished; releasing its claim");
        self.record(outcome);
        self.release_in_background();
    }
}

impl fmt::Debug for ClaimGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimGuard")
            .field("provider", &self.labels.provider)
            .field("key", &self.held.as_ref().map(|held| &held.key))
            .field("token", &self.held.as_ref().map(|held| &held.token))
            .field("transaction", &self.transaction)
            .finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`ClaimGuard::renewing`]: the handler's, with the claim renewed every
    /// third of its lease while it runs.
    #[must_use = "futures do nothing unless polled"]
    pub struct Renewing<'a, F> {
        #[pin]
        handler: F,
        held: Option<&'a Held>,
        sleep: fn(Duration) -> Timer,
        timer: Option<Timer>,
        renewal: Option<StoreFuture<'a, bool>>,
    }
}

impl<F> fmt::Debug for Renewing<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renewing")
            .field("renewing", &self.held.is_some())
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Renewing<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.handler.poll(cx) {
            return Poll::Ready(output);
        }
        let Some(held) = *this.held else {
            return Poll::Pending;
        };
        loop {
            if let Some(renewal) = this.renewal.as_mut()
                && let Poll::Ready(renewed) = renewal.as_mut().poll(cx)
            {
                *this.renewal = None;
                match renewed {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(key = %held.key, "claim lost while the handler runs (its lease ran out); no longer renewed");
                        *this.held = None;
                        return Poll::Pending;
                    }
                    Err(error) => {
                        held.labels.store_error(StoreCall::Renew);
                        tracing::warn!(%error, key = %held.key, "could not renew the claim; trying again at the next interval");
                    }
                }
            }
            let timer = this
                .timer
                .get_or_insert_with(|| (this.sleep)(held.lease / 3));
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            *this.timer = None;
            if this.renewal.is_none() {
                *this.renewal = Some(held.store.renew(&held.key, &held.token, held.lease));
            }
        }
    }
}

/// The end of a settling call: `Err` with the answer to send instead of the handler's.
type Answer = Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'static>>;

/// The store call of [`ClaimGuard::finish`] or [`ClaimGuard::release`]; if dropped before its
/// end, the call finishes on the adapter's runtime. Its output is `Err` only when a
/// transaction's commit failed: answer that [`Rejection`], not the handler's response.
#[derive(Debug)]
#[must_use = "the claim is settled when this future is awaited or dropped"]
pub struct Settle(Option<Detached>);

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
