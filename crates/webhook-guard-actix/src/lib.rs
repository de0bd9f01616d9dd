#![doc = include_str!("../README.md")]
//!
//! ## Cargo features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
// Examples in the docs compile without warnings, as users copy them.
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod extract;
mod headers;
mod middleware;

pub use extract::{MissingDelivery, Webhook, WebhookMeta};
pub use headers::ActixHeaders;
pub use middleware::{WebhookGuard, WebhookGuardMiddleware};
