//! [`ResponseFuture`].

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

/// The response future of [`WebhookGuard`](crate::WebhookGuard).
pub struct ResponseFuture<T, E> {
    pub(crate) inner: Pin<Box<dyn Future<Output = Result<T, E>> + Send>>,
}

impl<T, E> Future for ResponseFuture<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T, E> fmt::Debug for ResponseFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
