//! Parallel: Task, FindAll and Monitor webhooks.
//!
//! Parallel signs with Standard Webhooks `v1` (HMAC-SHA256 over `id.timestamp.body`). Older
//! accounts use the legacy key form, where the whole `whsec_...` string is the HMAC key; newer
//! ones the current form, where the base64 after `whsec_` is decoded. [`Parallel`] accepts both
//! by default and records which one matched in
//! [`Verified::key_form`](crate::scheme::Verified::key_form); pin one with
//! [`ParallelBuilder::key_forms`].
//!
//! The delivery id is the `webhook-id` header, unchanged across retries. Parallel retries
//! non-2xx answers for 48 hours.
//!
//! ```
//! use webhook_guard::{parallel::{Event, Parallel}, provider::Provider, scheme::KeyForm};
//!
//! let parallel = Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = br#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z",
//!   "data":{"monitor_id":"monitor_1","event":{"event_group_id":"mevtgrp_1"}}}"#;
//! let headers = parallel.sign_headers("whevent_abc123", 1_761_576_965, body)?;
//!
//! let opened = parallel.open(&headers, body, 1_761_576_970)?;
//! assert_eq!(opened.delivery_id.as_str(), "whevent_abc123");
//! assert_eq!(opened.authenticity.verified().map(|v| v.key_form), Some(KeyForm::Whsec));
//! assert!(matches!(opened.event, Event::MonitorEventDetected(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "fixtures")]
pub(crate) mod catalog;
mod event;
pub mod findall;
pub mod monitor;
pub mod task;

pub use event::Event;

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::{ConfigError, StandardWebhooks};
use crate::headers::HeaderName;
use crate::provider::{self, DeliveryIdRule};
use crate::scheme::{DEFAULT_TOLERANCE, KeyForm, SignedHeaders};

crate::declare_provider! {
    /// The Parallel provider. See the [module docs](self).
    pub struct Parallel("parallel") {
        scheme: StandardWebhooks = |builder| keys(builder.keys, builder.key_forms),
        tolerance: DEFAULT_TOLERANCE,
        /// Parallel's delivery id: the `webhook-id` header.
        delivery_id: DELIVERY_ID =
            DeliveryIdRule::Header(HeaderName::from_static(StandardWebhooks::ID_HEADER)),
        event: Event = |_, body| Event::from_json(body),
    }
    /// Configuration of a [`Parallel`] provider.
    pub struct ParallelBuilder {
        key_forms: Vec<KeyForm> = DEFAULT_KEY_FORMS.to_vec(),
    }
}

/// The key forms a Parallel secret is tried in by default: the current form
/// ([`KeyForm::Whsec`], the base64 after `whsec_`, decoded) first, then the legacy form
/// ([`KeyForm::Raw`], the whole string as the key).
pub const DEFAULT_KEY_FORMS: [KeyForm; 2] = [KeyForm::Whsec, KeyForm::Raw];

impl Parallel {
    /// The headers Parallel would send for `body`, signed by every secret (one `v1` entry
    /// each, as during a rotation), each in the first configured key form.
    ///
    /// # Errors
    /// None today (every Parallel secret is an HMAC key); kept so that a failure to sign is
    /// never hidden.
    pub fn sign_headers(
        &self,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Result<SignedHeaders, ConfigError> {
        self.scheme.sign_headers(id, timestamp, body)
    }
}

impl ParallelBuilder {
    /// The key forms each secret is tried in, in order (default [`DEFAULT_KEY_FORMS`]):
    /// [`KeyForm::Whsec`] (current) and [`KeyForm::Raw`] (legacy).
    ///
    /// Whenever [`KeyForm::Whsec`] is among the forms (the default), every secret must be
    /// `whsec_` followed by base64 of at least 16 bytes: one that is not is refused by
    /// [`build`](Self::build), never used in the legacy form alone (that fallback would accept
    /// deliveries signed with the key `whsec_`, say, for a secret pasted without its base64).
    /// A secret meant as a raw legacy key is configured with `.key_forms([KeyForm::Raw])`.
    /// [`KeyForm::Ed25519`] is refused ([`ConfigError::UnsupportedKeyForm`]): Parallel signs
    /// with HMAC.
    pub fn key_forms(mut self, forms: impl IntoIterator<Item = KeyForm>) -> Self {
        self.key_forms = forms.into_iter().collect();
        self
    }
}

/// Parallel's keys: every secret tried in every configured key form, signing in the first.
///
/// # Errors
/// [`ConfigError::NoKeys`] without a secret or without a key form;
/// [`ConfigError::UnsupportedKeyForm`] for [`KeyForm::Ed25519`];
/// [`ConfigError::EmptySecret`] for an empty secret, or one that is only the prefix;
/// [`ConfigError::InvalidSecret`] for one that does not decode or is shorter than 16 bytes.
fn keys(keys: provider::Keys, mut forms: Vec<KeyForm>) -> Result<StandardWebhooks, ConfigError> {
    if keys.secrets.is_empty() || forms.is_empty() {
        return Err(ConfigError::NoKeys);
    }
    if let Some(form) = forms.iter().find(|form| **form == KeyForm::Ed25519) {
        return Err(ConfigError::UnsupportedKeyForm { form: *form });
    }
    forms.dedup();
    // In the current form a secret that does not decode is refused, never used in the
    // legacy form alone: no silent fallback.
    let builder = StandardWebhooks::builder().tolerance(keys.tolerance);
    let builder = keys.secrets.into_iter().fold(builder, |builder, secret| {
        builder.secret_in_forms(secret, forms.iter().copied())
    });
    builder.build()
}
