//! [`WebhookGuardLayer`].

use std::sync::Arc;

use tower_layer::Layer;
use webhook_guard::{Provider, Receiver};

use crate::{Config, WebhookGuard};

/// Applies [`WebhookGuard`] to a service: every request is verified, deduplicated and parsed
/// by `receiver` before the service sees it.
#[derive(Debug)]
pub struct WebhookGuardLayer<P> {
    receiver: Receiver<P>,
    config: Arc<Config>,
}

impl<P: Provider> WebhookGuardLayer<P> {
    /// A layer for `receiver`, with a body limit of 5 MiB and a body timeout of 30 s.
    pub fn new(receiver: Receiver<P>) -> Self {
        Self {
            receiver,
            config: Arc::new(Config::default()),
        }
    }

    /// The largest accepted body, in bytes (default 5 MiB). Larger ones get 413.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config = Arc::new(Config {
            body_limit: bytes,
            ..(*self.config).clone()
        });
        self
    }

    /// How long the whole body may take to arrive once the headers are in (default 30 s).
    /// A slower sender gets 408, so a client trickling its body cannot hold a connection
    /// and a buffer for long.
    #[must_use]
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config = Arc::new(Config {
            body_timeout: timeout,
            ..(*self.config).clone()
        });
        self
    }
}

impl<P> Clone for WebhookGuardLayer<P> {
    fn clone(&self) -> Self {
        Self {
            receiver: self.receiver.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S, P> Layer<S> for WebhookGuardLayer<P> {
    type Service = WebhookGuard<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookGuard::from_parts(inner, self.receiver.clone(), Arc::clone(&self.config))
    }
}
