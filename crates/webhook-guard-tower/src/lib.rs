#![doc = include_str!("../README.md")]
//!
//! ## Cargo features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
// Examples in the docs compile without warnings, as users copy them.
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod extract;
mod layer;
#[cfg(feature = "serve")]
mod serve;
mod service;

#[cfg(feature = "axum")]
pub use extract::{MissingDelivery, Webhook, WebhookMeta};
pub use layer::WebhookGuardLayer;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub use serve::{HttpService, ResponseBody, ServeOptions, serve, serve_with};
pub use service::{GuardBody, ResponseFuture, WebhookGuard};
