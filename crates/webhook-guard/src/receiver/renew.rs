//! [`Renewing`]: the handler's future, with the claim's lease renewed while it runs.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use super::{metrics::StoreCall, runtime::Timer, settle::Held};
use crate::dedup::StoreFuture;

pin_project_lite::pin_project! {
    /// The future of [`ClaimGuard::renewing`](super::claim::ClaimGuard::renewing): the handler's, with the claim renewed every
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

impl<'a, F> Renewing<'a, F> {
    /// `handler`, renewing `held` (if any) with timers from `sleep`.
    pub(crate) fn new(handler: F, held: Option<&'a Held>, sleep: fn(Duration) -> Timer) -> Self {
        Self {
            handler,
            held,
            sleep,
            timer: None,
            renewal: None,
        }
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
                        held.settings.labels.store_error(StoreCall::Renew);
                        tracing::warn!(%error, key = %held.key, "could not renew the claim; trying again at the next interval");
                    }
                }
            }
            let timer = this
                .timer
                .get_or_insert_with(|| (this.sleep)(held.settings.lease / 3));
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            *this.timer = None;
            if this.renewal.is_none() {
                *this.renewal = Some(
                    held.store
                        .renew(&held.key, &held.token, held.settings.lease),
                );
            }
        }
    }
}
