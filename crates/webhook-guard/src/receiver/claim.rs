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

use super::Outcome;
use crate::dedup::{ClaimToken, DedupStore};

/// A background task: a store call that must finish after its request is gone.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How an adapter runs a [`Task`] on its framework's runtime (for instance
/// `tokio::spawn`). The core has no runtime of its own.
pub type Spawn = fn(Task);

/// The claim on an accepted delivery, held by the adapter while the handler runs.
///
/// - [`finish`](Self::finish) with the handler's status: a 2xx completes the claim (the
///   delivery id is kept for the retention period, a retry is a duplicate), anything else
///   releases it (the provider's retry is processed).
/// - [`release`](Self::release) when the handler failed without a status.
/// - Dropped unfinished (the handler panicked, the client went away and the response future
///   was dropped): the claim is released.
///
/// Each of the three records the delivery's [`Outcome`]. A store call that cannot finish at
/// once, or whose future is dropped half-way, is handed to the adapter's [`Spawn`] and
/// finishes in the background; a [`MemoryStore`](crate::dedup::MemoryStore) finishes at once,
/// so a retry right after sees the claim gone. In fail-open mode, after a store failure, the
/// guard holds no claim and only records the outcome.
#[must_use = "a dropped guard releases the claim: finish it with the handler's status"]
pub struct ClaimGuard {
    held: Option<Held>,
    provider: Arc<str>,
    spawn: Spawn,
    armed: bool,
}

/// A claim in a store.
pub(crate) struct Held {
    pub(crate) store: Arc<dyn DedupStore>,
    pub(crate) key: String,
    pub(crate) token: ClaimToken,
    pub(crate) retention: Duration,
}

impl Held {
    fn settle(self, complete: bool) -> Task {
        Box::pin(async move {
            let result = if complete {
                self.store
                    .complete(&self.key, &self.token, self.retention)
                    .await
            } else {
                self.store.release(&self.key, &self.token).await
            };
            if let Err(error) = result {
                let call = if complete { "complete" } else { "release" };
                tracing::warn!(%error, call, "dedup store call failed; the claim expires with its lease");
            }
        })
    }
}

impl ClaimGuard {
    pub(crate) fn new(held: Option<Held>, provider: Arc<str>, spawn: Spawn) -> Self {
        Self {
            held,
            provider,
            spawn,
            armed: true,
        }
    }

    /// `false` when the store failed and the receiver is fail-open: there is no claim.
    #[must_use]
    pub fn holds_claim(&self) -> bool {
        self.held.is_some()
    }

    /// Settles the claim with the handler's `status`: completes it after a 2xx (outcome
    /// `processed`), releases it otherwise (`handler_failed`). A store error is logged; the
    /// claim then expires with its lease. The returned future is small; dropped before its
    /// end, it finishes the store call in the background.
    pub fn finish(mut self, status: StatusCode) -> Settle {
        let processed = status.is_success();
        self.disarm(if processed {
            Outcome::Processed
        } else {
            Outcome::HandlerFailed
        });
        Settle(
            self.held
                .take()
                .map(|held| Detached::new(held.settle(processed), self.spawn)),
        )
    }

    /// Releases the claim of a handler that failed without answering (outcome
    /// `handler_failed`), so the provider's retry is processed.
    pub fn release(mut self) -> Settle {
        self.disarm(Outcome::HandlerFailed);
        Settle(
            self.held
                .take()
                .map(|held| Detached::new(held.settle(false), self.spawn)),
        )
    }

    /// Releases the claim of a delivery refused after its claim (a malformed body), at once
    /// or in the background; the rejection records the outcome.
    pub(crate) fn reject(mut self) {
        self.armed = false;
        self.release_in_background();
    }

    fn release_in_background(&mut self) {
        if let Some(held) = self.held.take() {
            let mut release = Detached::new(held.settle(false), self.spawn);
            // Polled once here: a store that answers at once is done before this returns; the
            // rest is spawned when `release` drops.
            let _ = Pin::new(&mut release).poll(&mut Context::from_waker(Waker::noop()));
        }
    }

    fn disarm(&mut self, outcome: Outcome) {
        self.armed = false;
        outcome.record(&self.provider);
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
        outcome.record(&self.provider);
        self.release_in_background();
    }
}

impl fmt::Debug for ClaimGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimGuard")
            .field("provider", &self.provider)
            .field("key", &self.held.as_ref().map(|held| &held.key))
            .field("token", &self.held.as_ref().map(|held| &held.token))
            .finish_non_exhaustive()
    }
}

/// The store call of [`ClaimGuard::finish`] or [`ClaimGuard::release`]; if dropped before its
/// end, the call finishes on the adapter's runtime.
#[derive(Debug)]
#[must_use = "the claim is settled when this future is awaited or dropped"]
pub struct Settle(Option<Detached>);

impl Future for Settle {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.0.as_mut() {
            Some(detached) => Pin::new(detached).poll(cx),
            None => Poll::Ready(()),
        }
    }
}

/// A task awaited in place that, if dropped before its end, finishes on the adapter's
/// runtime: a store call is never cut off half-way.
struct Detached {
    task: Option<Task>,
    spawn: Spawn,
}

impl fmt::Debug for Detached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detached")
            .field("done", &self.task.is_none())
            .finish_non_exhaustive()
    }
}

impl Detached {
    fn new(task: Task, spawn: Spawn) -> Self {
        Self {
            task: Some(task),
            spawn,
        }
    }
}

impl Future for Detached {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(());
        };
        let poll = task.as_mut().poll(cx);
        if poll.is_ready() {
            self.task = None;
        }
        poll
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            (self.spawn)(task);
        }
    }
}
