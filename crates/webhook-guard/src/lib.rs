#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
pub mod headers;
pub mod scheme;
mod secret;

pub use error::{ConfigError, VerifyError};
pub use scheme::{
    BodyHmac, Ed25519SigningKey, Scheme, SignedHeaders, StandardWebhooks, TimestampedHmac, Verified,
};
pub use secret::Secret;

// The workspace README's examples run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
