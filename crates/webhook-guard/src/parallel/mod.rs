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
//! let headers = parallel.sign_headers("whevent_abc123", 1_761_576_965, body);
//!
//! let opened = parallel.open(&headers, body, 1_761_576_970)?;
//! assert_eq!(opened.delivery_id.as_str(), "whevent_abc123");
//! assert_eq!(opened.authenticity.verified().map(|v| v.key_form), Some(KeyForm::Whsec));
//! assert!(matches!(opened.event, Event::MonitorEventDetected(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod event;
pub mod findall;
pub mod monitor;
pub mod task;

use std::time::Duration;

pub use event::Event;

use crate::{
    ConfigError, Secret, StandardWebhooks, VerifyError,
    event::ParseError,
    headers::Headers,
    provider::{self, Authenticity, DeliveryId, Provider},
    scheme::{DEFAULT_TOLERANCE, Scheme, SignedHeaders},
};

/// Which key forms of a Parallel secret are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyForms {
    /// Both (the default): the current form first, then the legacy form.
    #[default]
    Both,
    /// Only the current form: the base64 after `whsec_`, decoded.
    Current,
    /// Only the legacy form: the whole secret string as the key.
    Legacy,
}

/// The Parallel provider. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Parallel {
    verifier: StandardWebhooks,
    /// For each key of `verifier`, the index of the secret it came from.
    secret_of_key: Vec<usize>,
    signer: StandardWebhooks,
}

/// Configuration of a [`Parallel`] provider.
#[derive(Debug, Clone)]
#[must_use]
pub struct ParallelBuilder {
    secrets: Vec<Secret>,
    key_forms: KeyForms,
    tolerance: Duration,
}

impl Parallel {
    /// The provider's name, `"parallel"`.
    pub const NAME: &'static str = "parallel";

    /// A provider for one secret, trying both key forms, with a 300 s tolerance.
    ///
    /// # Errors
    /// [`ConfigError`] if the secret is empty, or undecodable when only the current form is
    /// allowed.
    pub fn new(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().secret(secret).build()
    }

    /// Starts a configuration.
    pub fn builder() -> ParallelBuilder {
        ParallelBuilder {
            secrets: Vec::new(),
            key_forms: KeyForms::Both,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// The headers Parallel would send for `body`, signed with the first secret in its current
    /// form (the legacy form if the secret does not decode, or if only it is allowed).
    #[must_use]
    pub fn sign_headers(&self, id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
        self.signer
            .sign_headers(id, timestamp, body)
            .unwrap_or_default()
    }
}

impl ParallelBuilder {
    /// Adds a secret (call again during a rotation). Signatures by any secret are accepted.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Which key forms are tried (default [`KeyForms::Both`]).
    pub fn key_forms(mut self, forms: KeyForms) -> Self {
        self.key_forms = forms;
        self
    }

    /// The largest accepted clock difference, in either direction (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks the configuration.
    ///
    /// With [`KeyForms::Both`] (the default) and [`KeyForms::Current`], every secret must be
    /// `whsec_` followed by base64 of at least 16 bytes: one that is not is refused, never
    /// used in the legacy form alone (that fallback would accept deliveries signed with the
    /// key `whsec_`, say, for a secret pasted without its base64). A secret meant as a raw
    /// legacy key is configured with [`KeyForms::Legacy`].
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] without a secret; [`ConfigError::EmptySecret`] for an empty
    /// one, or one that is only the prefix; [`ConfigError::InvalidSecret`] for one that does
    /// not decode or is shorter than 16 bytes.
    pub fn build(self) -> Result<Parallel, ConfigError> {
        if self.secrets.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        let mut verifier = StandardWebhooks::builder().tolerance(self.tolerance);
        let mut signer = StandardWebhooks::builder();
        let mut secret_of_key = Vec::new();
        for (index, secret) in self.secrets.iter().enumerate() {
            if secret.is_empty() {
                return Err(ConfigError::EmptySecret);
            }
            let current = match self.key_forms {
                KeyForms::Legacy => false,
                KeyForms::Current | KeyForms::Both => {
                    // Refused rather than used in the legacy form only: no silent fallback.
                    StandardWebhooks::new(secret.clone())?;
                    true
                }
            };
            let legacy = self.key_forms != KeyForms::Current;
            if current {
                verifier = verifier.secret(secret.clone());
                secret_of_key.push(index);
            }
            if legacy {
                verifier = verifier.raw_secret(secret.clone());
                secret_of_key.push(index);
            }
            if index == 0 {
                signer = if current {
                    signer.secret(secret.clone())
                } else {
                    signer.raw_secret(secret.clone())
                };
            }
        }
        Ok(Parallel {
            verifier: verifier.build()?,
            secret_of_key,
            signer: signer.build()?,
        })
    }
}

impl Provider for Parallel {
    type Event = Event;

    fn name(&self) -> &str {
        Self::NAME
    }

    /// The `key_index` of the result is the index of the matching secret in the order the
    /// secrets were added; `key_form` says which form of it matched.
    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError> {
        let mut verified = self.verifier.verify_at(headers, body, now)?;
        verified.key_index = self
            .secret_of_key
            .get(verified.key_index)
            .copied()
            .unwrap_or(verified.key_index);
        Ok(Authenticity::Signed(verified))
    }

    fn delivery_id(&self, headers: &dyn Headers, _body: &[u8]) -> Result<DeliveryId, ParseError> {
        provider::required_id(
            headers,
            self.verifier.id_header(),
            StandardWebhooks::ID_HEADER,
        )
    }

    fn parse(&self, _headers: &dyn Headers, body: &[u8]) -> Result<Event, ParseError> {
        Event::from_json(body)
    }
}
