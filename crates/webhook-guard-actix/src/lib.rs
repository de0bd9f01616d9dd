#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod extract;
mod headers;
mod middleware;
mod rejection;

pub use extract::{MissingDelivery, Webhook, WebhookMeta};
pub use headers::ActixHeaders;
pub use middleware::{WebhookGuard, WebhookGuardMiddleware};
pub use rejection::WebhookRejection;

/// The default body limit: 5 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 5 * 1024 * 1024;

/// The default time to receive a whole body: 30 s. A slower sender gets 408.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
