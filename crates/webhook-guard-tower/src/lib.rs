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

/// Settings shared by a layer and its services.
#[derive(Debug)]
struct Config {
    body_limit: usize,
}
