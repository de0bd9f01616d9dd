#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod layer;
mod service;

#[cfg(feature = "axum")]
pub use extract::{MissingDelivery, Webhook, WebhookMeta};
pub use future::ResponseFuture;
pub use layer::WebhookGuardLayer;
pub use service::{GuardBody, WebhookGuard};

/// The default body limit: 5 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 5 * 1024 * 1024;

/// The default time to receive a whole body: 30 s. A slower sender gets 408.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Settings shared by a layer and its services.
#[derive(Debug, Clone)]
struct Config {
    body_limit: usize,
    body_timeout: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}
