//! [`Renewing`]: the handler's future, with the claim's lease renewed while it runs.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use super::{claim::ClaimGuard, renewer::Registration};

pin_project_lite::pin_project! {
    /// The future of [`ClaimGuard::renewing`](super::claim::ClaimGuard::renewing): the
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
    pub(crate) fn new(handler: F, guard: &'a ClaimGuard) -> Self {
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
