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

use crate::{ConfigError, StandardWebhooks, VerifyError};
use crate::headers::{HeaderName, Headers};
use crate::provider::{self, DeliveryIdRule};
use crate::scheme::{DEFAULT_TOLERANCE, KeyForm, Scheme, SignedHeaders, Verified};

crate::declare_provider! {
    /// The Parallel provider. See the [module docs](self).
    pub struct Parallel("parallel") {
        scheme: Keys = |builder| Keys::new(&builder.keys, builder.key_forms),
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
        self.scheme.signer.sign_headers(id, timestamp, body)
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

/// Parallel's keys: every secret in every configured key form, and a signer of each secret in
/// its first form.
#[derive(Debug, Clone)]
pub struct Keys {
    verifier: StandardWebhooks,
    /// For each key of `verifier`, the index of the secret it came from.
    secret_of_key: Vec<usize>,
    signer: StandardWebhooks,
}

impl Keys {
    /// Every secret in every form.
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] without a secret or without a key form;
    /// [`ConfigError::UnsupportedKeyForm`] for [`KeyForm::Ed25519`];
    /// [`ConfigError::EmptySecret`] for an empty secret, or one that is only the prefix;
    /// [`ConfigError::InvalidSecret`] for one that does not decode or is shorter than 16
    /// bytes.
    fn new(keys: &provider::Keys, mut forms: Vec<KeyForm>) -> Result<Self, ConfigError> {
        if keys.secrets.is_empty() || forms.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        if let Some(form) = forms.iter().find(|f| **f == KeyForm::Ed25519) {
            return Err(ConfigError::UnsupportedKeyForm { form: *form });
        }
        forms.dedup();
        let mut verifier = StandardWebhooks::builder().tolerance(keys.tolerance);
        let mut signer = StandardWebhooks::builder();
        let mut secret_of_key = Vec::new();
        for (index, secret) in keys.secrets.iter().enumerate() {
            if secret.is_empty() {
                return Err(ConfigError::EmptySecret);
            }
            for (position, form) in forms.iter().enumerate() {
                let add = |builder: crate::scheme::StandardWebhooksBuilder| match form {
                    KeyForm::Whsec => builder.secret(secret.clone()),
                    _ => builder.raw_secret(secret.clone()),
                };
                if *form == KeyForm::Whsec {
                    // Refused rather than used in the legacy form only: no silent fallback.
                    StandardWebhooks::new(secret.clone())?;
                }
                verifier = add(verifier);
                secret_of_key.push(index);
                if position == 0 {
                    signer = add(signer);
                }
            }
        }
        Ok(Self {
            verifier: verifier.build()?,
            secret_of_key,
            signer: signer.build()?,
        })
    }
}

/// The `key_index` of the result is the index of the matching secret in the order the
/// secrets were added; `key_form` says which form of it matched.
impl Scheme for Keys {
    fn verify_at(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let mut verified = self.verifier.verify_at(headers, body, now)?;
        verified.key_index = self
            .secret_of_key
            .get(verified.key_index)
            .copied()
            .unwrap_or(verified.key_index);
        Ok(verified)
    }
}
