#![doc = include_str!("../README.md")]
//!
//! ## Cargo features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
// Examples in the docs compile without warnings, as users copy them.
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod inbox;
mod inbox_inner;
mod inbox_ops;
mod inbox_row;
mod inbox_sql;
mod inbox_tx;
mod operate;
mod schema;
mod store;
#[cfg(feature = "test-server")]
pub mod test_server;
mod transaction;

pub use inbox::{PgInbox, PgInboxBuilder};
pub use inbox_sql::{DEFAULT_INBOX_TABLE, inbox_schema_sql};
pub use schema::{DEFAULT_SCHEMA, DEFAULT_TABLE, InvalidName, schema_sql};
pub use store::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_PURGE_INTERVAL, DEFAULT_TIMEOUT, PURGE_BATCH, PgStore,
    PgStoreBuilder, PgStoreError,
};
pub use transaction::{PgTx, PgTxError};
