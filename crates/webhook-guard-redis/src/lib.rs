#![doc = include_str!("../README.md")]
//!
//! ## Cargo features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
// Examples in the docs compile without warnings, as users copy them.
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod call;
mod inbox;
mod inbox_builder;
mod inbox_codec;
mod inbox_lua;
mod inbox_scan;
mod inbox_wait;
mod policy;
mod scripts;
mod store;
#[cfg(feature = "test-server")]
pub mod test_server;

pub use builder::{ConnectError, RedisStoreBuilder};
pub use inbox::{DEFAULT_INBOX_NAME, RedisInbox};
pub use inbox_builder::RedisInboxBuilder;
pub use policy::DEFAULT_POLICY_CHECK_INTERVAL;
pub use store::{DEFAULT_PREFIX, DEFAULT_TIMEOUT, RedisStore};
