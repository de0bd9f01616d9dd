//! The claim a delivery holds while its handler runs.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Waker},
    time::Duration,
};

use crate::dedup::{ClaimToken, DedupStore, StoreError};

/// The claim on one delivery id, to settle once the handler has answered: complete it after a
/// 2xx, release it otherwise. Adapters hold it in a [`ReleaseOnDrop`] so a panic or a dropped
/// response future releases it too.
pub struct Ticket {
    store: Arc<dyn DedupStore>,
    key: String,
    token: ClaimToken,
    retention: Duration,
}

/// A boxed future that settles a ticket, for spawning.
pub type SettleFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'static>>;

impl Ticket {
    pub(crate) fn new(
        store: Arc<dyn DedupStore>,
        key: String,
        token: ClaimToken,
        retention: Duration,
    ) -> Self {
        Self {
            store,
            key,
            token,
            retention,
        }
    }

    /// The namespaced key in the store.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Keeps the delivery id as processed, for the retention period.
    ///
    /// # Errors
    /// The store's error; the record then expires with its lease and a retry is processed again.
    pub async fn complete(self) -> Result<(), StoreError> {
        self.store
            .complete(&self.key, &self.token, self.retention)
            .await
    }

    /// Forgets the claim so the provider's retry is processed.
    ///
    /// # Errors
    /// The store's error; the claim then expires with its lease.
    pub async fn release(self) -> Result<(), StoreError> {
        self.store.release(&self.key, &self.token).await
    }

    /// Completes after a 2xx status, releases otherwise.
    ///
    /// # Errors
    /// The store's error.
    pub async fn settle(self, status: u16) -> Result<(), StoreError> {
        if (200..300).contains(&status) {
            self.complete().await
        } else {
            self.release().await
        }
    }

    /// The release, as an owned future to spawn.
    #[must_use]
    pub fn into_release(self) -> SettleFuture {
        Box::pin(async move { self.release().await })
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("key", &self.key)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Holds a [`Ticket`] and releases it when dropped unsettled: when the handler panicked, or
/// the response future was dropped because the client went away.
///
/// On drop, the release is polled once at once (a [`MemoryStore`](crate::dedup::MemoryStore)
/// finishes there, so a retry right after sees the claim gone); a store that needs to wait
/// (network) gets the rest of the release handed to `spawn`, the adapter's runtime.
pub struct ReleaseOnDrop {
    ticket: Option<Ticket>,
    spawn: fn(SettleFuture),
    provider: Option<std::sync::Arc<str>>,
}

impl ReleaseOnDrop {
    /// Guards `ticket`; `spawn` runs a release that could not finish at once.
    #[must_use]
    pub fn new(ticket: Option<Ticket>, spawn: fn(SettleFuture)) -> Self {
        Self {
            ticket,
            spawn,
            provider: None,
        }
    }

    /// Also records the [`Outcome`](super::Outcome) when dropped unsettled:
    /// `handler_failed` during a panic, `abandoned` otherwise.
    #[must_use]
    pub fn recording_outcome_for(mut self, provider: std::sync::Arc<str>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Settles the ticket from the handler's status (see [`Ticket::settle`]). Without a ticket
    /// (fail-open after a store failure) there is nothing to do.
    ///
    /// # Errors
    /// The store's error.
    pub async fn settle(mut self, status: u16) -> Result<(), StoreError> {
        self.provider = None;
        match self.ticket.take() {
            Some(ticket) => ticket.settle(status).await,
            None => Ok(()),
        }
    }
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let outcome = if std::thread::panicking() {
                super::Outcome::HandlerFailed
            } else {
                super::Outcome::Abandoned
            };
            tracing::debug!(%outcome, "delivery not settled; releasing its claim");
            outcome.record(&provider);
        }
        if let Some(ticket) = self.ticket.take() {
            let mut release = ticket.into_release();
            let mut cx = Context::from_waker(Waker::noop());
            if release.as_mut().poll(&mut cx).is_pending() {
                (self.spawn)(release);
            }
        }
    }
}

impl fmt::Debug for ReleaseOnDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleaseOnDrop")
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}
