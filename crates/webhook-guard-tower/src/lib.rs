#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod extract;
mod layer;
mod service;

#[cfg(feature = "axum")]
pub use extract::{MissingDelivery, Webhook, WebhookMeta};
pub use layer::WebhookGuardLayer;
pub use service::{GuardBody, ResponseFuture, WebhookGuard};
