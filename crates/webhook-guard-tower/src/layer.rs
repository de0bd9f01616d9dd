//! [`WebhookGuardLayer`].

use tower_layer::Layer;
use webhook_guard::Receiver;

use crate::WebhookGuard;

/// Applies [`WebhookGuard`] to a service: every request is read, verified, deduplicated and
/// parsed by `receiver` (which also holds the body limit and read timeout) before the service
/// sees it.
#[derive(Debug)]
pub struct WebhookGuardLayer<P> {
    receiver: Receiver<P>,
}

impl<P> WebhookGuardLayer<P> {
    /// A layer for `receiver`.
    pub fn new(receiver: Receiver<P>) -> Self {
        Self { receiver }
    }
}

impl<S, P> WebhookGuard<S, P> {
    /// A [`WebhookGuardLayer`] for `receiver` (the service's constructor, as a layer: written
    /// here so that the service does not import its layer).
    pub fn layer(receiver: Receiver<P>) -> WebhookGuardLayer<P> {
        WebhookGuardLayer::new(receiver)
    }
}

impl<P> Clone for WebhookGuardLayer<P> {
    fn clone(&self) -> Self {
        Self {
            receiver: self.receiver.clone(),
        }
    }
}

impl<S, P> Layer<S> for WebhookGuardLayer<P> {
    type Service = WebhookGuard<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookGuard::new(inner, self.receiver.clone())
    }
}
