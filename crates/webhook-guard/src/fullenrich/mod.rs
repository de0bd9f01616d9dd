//! FullEnrich: contact enrichment and reverse email lookup results.
//!
//! FullEnrich signs the raw body with HMAC-SHA1, lowercase hex, in `X-Signature-SHA1`, keyed with
//! the account's API key. It sends no timestamp and no delivery id, and retries (every minute,
//! up to 5 times) resend the same bytes. So the delivery id is the SHA-256 of the raw body:
//! every retry gets the same id, and the `contact_finished` deliveries of one batch, which all
//! carry the same batch `id`, get different ones. Replay protection comes from deduplication
//! alone.
//!
//! ```
//! use webhook_guard::{fullenrich::{Event, FullEnrich}, provider::Provider};
//!
//! let fullenrich = FullEnrich::new("fe_test_api_key")?;
//! let body = br#"{"id":"00000000-0000-0000-0000-000000000000","name":"My Enrichment","status":"FINISHED","cost":{"credits":0},"data":[]}"#;
//! let headers = [("x-signature-sha1", "1534b387d4cd28356368f364629e965d6ba282e2")];
//! let opened = fullenrich.open(&headers, body, 0)?;
//! assert!(matches!(opened.event, Event::BatchCompleted(_)));
//! assert_eq!(opened.delivery_id.as_str().len(), 64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "fixtures")]
pub(crate) mod catalog;
mod event;
pub mod person;

pub use event::{
    Batch, BatchStatus, ContactInfo, Cost, Email, EmailStatus, EnrichmentInput, EnrichmentRecord,
    Event, Phone, ReverseLookupInput, ReverseLookupRecord,
};

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::{
    BodyHmac, ConfigError, Secret, VerifyError,
    event::ParseError,
    headers::Headers,
    provider::{self, Authenticator, Authenticity, DeliveryIdRule, Provider},
    scheme::{Digest, SignedHeaders},
};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-signature-sha1";

/// FullEnrich's delivery id: the SHA-256 of the body (it sends none).
pub static DELIVERY_ID: DeliveryIdRule = DeliveryIdRule::BodyDigest;

/// The FullEnrich provider. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct FullEnrich {
    verifier: BodyHmac,
}

/// Configuration of a [`FullEnrich`] provider.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct FullEnrichBuilder {
    api_keys: Vec<Secret>,
}

impl FullEnrich {
    /// The provider's name, `"fullenrich"`.
    pub const NAME: &'static str = "fullenrich";

    /// A provider for one API key.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty key.
    pub fn new(api_key: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().api_key(api_key).build()
    }

    /// Starts a configuration.
    pub fn builder() -> FullEnrichBuilder {
        FullEnrichBuilder::default()
    }

    /// The header FullEnrich would send for `body`, signed with the first API key (the header
    /// carries one MAC).
    #[must_use]
    pub fn sign_headers(&self, body: &[u8]) -> SignedHeaders {
        self.verifier.sign_headers(body)
    }
}

impl FullEnrichBuilder {
    /// Adds an API key (call again while rotating keys): signatures by any are accepted.
    pub fn api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.api_keys.push(api_key.into());
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] without a key; [`ConfigError::EmptySecret`] for an empty one.
    pub fn build(self) -> Result<FullEnrich, ConfigError> {
        let verifier = BodyHmac::builder()
            .header(SIGNATURE_HEADER)
            .digest(Digest::Sha1)
            .secrets(self.api_keys)
            .build()?;
        Ok(FullEnrich { verifier })
    }
}

impl Authenticator for FullEnrich {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError> {
        provider::signed(&self.verifier, headers, body, now)
    }

    fn delivery_id_rule(&self) -> &DeliveryIdRule {
        &DELIVERY_ID
    }
}

impl Provider for FullEnrich {
    type Event = Event;

    fn parse(&self, _headers: &dyn Headers, body: &[u8]) -> Result<Event, ParseError> {
        Event::from_json(body)
    }
}
