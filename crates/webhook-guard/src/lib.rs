#![doc = include_str!("../README.md")]
//!
//! ## Cargo features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
// Examples in the docs compile without warnings, as users copy them.
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
pub mod event;

pub mod adapter;
#[cfg(feature = "fixtures")]
pub mod catalog;
pub mod clock;
pub mod dedup;
mod error;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod generic;
pub mod headers;
pub mod inbox;
pub mod prelude;
pub mod provider;
pub mod receiver;
pub mod scheme;
mod secret;
pub mod testkit;

/// The list of built-in providers, each with the feature of its name: one line here (and the
/// feature in `Cargo.toml`) beside a folder of its own adds a provider. Hands the list to
/// `$then`: the module declarations below, and the catalogue's registry.
macro_rules! with_providers {
    ($then:ident) => {
        $then! {
            parallel: "parallel",
            sixtyfour: "sixtyfour",
            fullenrich: "fullenrich",
            parseflow: "parseflow",
            github: "github",
            stripe: "stripe",
        }
    };
}
#[cfg_attr(not(feature = "fixtures"), allow(unused_imports))] // the catalogue reads it too
pub(crate) use with_providers;

/// Declares each built-in provider's module, behind the feature of its name.
macro_rules! provider_modules {
    ($($module:ident: $feature:literal),+ $(,)?) => {
        $(
            #[cfg(feature = $feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
            pub mod $module;
        )+
    };
}
with_providers!(provider_modules);

pub use error::{ConfigError, VerifyError};
pub use event::{ParseError, WebhookEvent};
pub use provider::{Authenticator, Authenticity, DeliveryId, OpenError, Opened, Provider};
pub use receiver::{
    Delivery, DeliveryMeta, MemoryBudget, MissingDelivery, Receiver, ReceiverBuilder, Rejection,
};
#[cfg(feature = "ed25519")]
pub use scheme::Ed25519SigningKey;
pub use scheme::{BodyHmac, Scheme, SignedHeaders, StandardWebhooks, TimestampedHmac, Verified};
pub use secret::Secret;
