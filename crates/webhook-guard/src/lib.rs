#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
pub mod event;

pub mod adapter;
pub mod clock;
pub mod dedup;
mod error;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod fullenrich;
pub mod generic;
pub mod headers;
pub mod parallel;
pub mod parseflow;
pub mod provider;
pub mod receiver;
pub mod scheme;
mod secret;
pub mod sixtyfour;

pub use error::{ConfigError, VerifyError};
pub use event::{ParseError, WebhookEvent};
pub use provider::{Authenticity, DeliveryId, OpenError, Opened, Provider};
pub use receiver::{Delivery, DeliveryMeta, MissingDelivery, Receiver, Rejection};
pub use scheme::{
    BodyHmac, Ed25519SigningKey, Scheme, SignedHeaders, StandardWebhooks, TimestampedHmac, Verified,
};
pub use secret::Secret;
