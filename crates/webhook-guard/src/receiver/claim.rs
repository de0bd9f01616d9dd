//! [`ClaimGuard`]: the claim an accepted delivery holds while its handler runs, and
//! [`Renewing`], the handler's future with the claim renewed.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use http::StatusCode;

use super::{
    Outcome,
    renewer::Registration,
    runtime::Runtime,
    settings::Settings,
    settle::{Held, Settle, Settling, TransactionEnd},
};
use crate::dedup::{Transaction, TransactionHandle};

/// The claim on an accepted delivery, held by the adapter while the handler runs.
///
/// - [`renewing`](Self::renewing) the handler's future: while it runs, the claim's lease is
///   renewed every third of the lease (from a task of its own), so a retry can never take over a delivery whose handler
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
/// the answer into a 503 ([`finish`](Self::finish) answers the
/// [`Rejection`](super::Rejection) to send instead of the handler's response).
///
/// Each of the three records the delivery's [`Outcome`]. A store call that cannot finish at
/// once goes on in the background through the adapter's [`Runtime`], and one that fails is
/// tried again there (from 100 ms, doubling to 1 s) until it succeeds or the lease is over —
/// after which the claim has expired anyway. In fail-open mode, after a store failure, the
/// guard holds no claim and only records the outcome.
#[must_use = "a dropped guard releases the claim: finish it with the handler's status"]
pub struct ClaimGuard {
    held: Option<Arc<Held>>,
    /// The open transaction holding the claim, with a transactional store.
    transaction: Option<Box<dyn Transaction>>,
    /// The receiver's settings: the metrics' labels, the `retry-after` of a 503 after a
    /// failed commit.
    settings: Arc<Settings>,
    runtime: Runtime,
    armed: bool,
    /// When the claim was taken, for the handler-duration histogram.
    #[cfg(feature = "metrics")]
    started: web_time::Instant,
}

impl ClaimGuard {
    pub(crate) fn new(held: Option<Arc<Held>>, settings: Arc<Settings>, runtime: Runtime) -> Self {
        Self {
            held,
            transaction: None,
            settings,
            runtime,
            armed: true,
            #[cfg(feature = "metrics")]
            started: web_time::Instant::now(),
        }
    }

    /// The guard of a claim held by an open transaction.
    pub(crate) fn transactional(
        transaction: Box<dyn Transaction>,
        settings: Arc<Settings>,
        runtime: Runtime,
    ) -> Self {
        let mut guard = Self::new(None, settings, runtime);
        guard.transaction = Some(transaction);
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
    /// claim's lease while it runs, from a task on the runtime's background thread
    /// ([`Runtime::background`]): a handler that blocks its thread keeps its claim too. A
    /// handler that answers at once costs an entry in a map, no timer and no task.
    pub fn renewing<F: Future>(&self, handler: F) -> Renewing<'_, F> {
        Renewing::new(handler, self)
    }

    /// Registers the leased claim (if any) for renewal until the registration drops.
    fn register_renewals(&self) -> Option<Registration<'_>> {
        let held = self.held.as_ref()?;
        let renewals = &held.settings.renewals;
        Some(renewals.register(Arc::clone(held) as _, self.runtime))
    }

    /// Settles the claim with the handler's `status`: completes it after a 2xx (outcome
    /// `processed`), releases it otherwise (`handler_failed`). The returned future is small;
    /// dropped before its end, it finishes the store call in the background.
    ///
    /// It answers `Err` only with a transactional store whose commit failed (outcome
    /// `store_unavailable`): the handler's writes may not be there, so its 2xx must not be
    /// sent; the adapter answers the [`Rejection`](super::Rejection) (503 with `retry-after`)
    /// instead, and the provider retries.
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
            let ending = TransactionEnd {
                labels: Arc::clone(&self.settings.labels),
                retry_after: self.settings.retry_after,
                #[cfg(feature = "metrics")]
                started: self.started,
            };
            return Settle::transaction(transaction, settling, ending, runtime.spawn);
        }
        match self.held.take() {
            Some(held) => Settle::store(held, settling, runtime),
            None => Settle::nothing(),
        }
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
        self.settings.labels.outcome(outcome);
        #[cfg(feature = "metrics")]
        self.settings.labels.handler_time(self.started, outcome);
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
            .field("provider", &self.settings.labels.provider)
            .field("key", &self.held.as_ref().map(|held| &held.key))
            .field("token", &self.held.as_ref().map(|held| &held.token))
            .field("transaction", &self.transaction)
            .finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`ClaimGuard::renewing`]: the
    /// handler's, with the claim registered for renewal (every third of its lease, by a task
    /// on the runtime's background thread) from its first poll until it answers or is
    /// dropped.
    #[must_use = "futures do nothing unless polled"]
    pub struct Renewing<'a, F> {
        #[pin]
        handler: F,
        guard: Option<&'a ClaimGuard>,
        registration: Option<Registration<'a>>,
    }
}

impl<'a, F> Renewing<'a, F> {
    /// `handler`, renewing `guard`'s claim (if it holds a leased one).
    fn new(handler: F, guard: &'a ClaimGuard) -> Self {
        Self {
            handler,
            guard: Some(guard),
            registration: None,
        }
    }
}

impl<F> fmt::Debug for Renewing<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renewing")
            .field("renewing", &self.registration.is_some())
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Renewing<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // Registered before the handler's first poll: a handler that blocks its thread in
        // that poll is renewed all the same.
        if let Some(guard) = this.guard.take() {
            *this.registration = guard.register_renewals();
        }
        let output = this.handler.poll(cx);
        if output.is_ready() {
            *this.registration = None;
        }
        output
    }
}
