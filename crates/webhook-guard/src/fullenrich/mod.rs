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

mod event;
pub mod person;

use sha2::{Digest as _, Sha256};

pub use event::{
    Batch, BatchStatus, ContactInfo, Cost, Email, EmailStatus, EnrichmentInput, EnrichmentRecord,
    Event, Phone, ReverseLookupInput, ReverseLookupRecord,
};

use crate::{
    BodyHmac, ConfigError, Secret, VerifyError,
    event::ParseError,
    headers::Headers,
    provider::{self, Authenticity, DeliveryId, Provider},
    scheme::{Digest, SignedHeaders},
};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-signature-sha1";

/// The FullEnrich provider. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct FullEnrich {
    verifier: BodyHmac,
}

impl FullEnrich {
    /// The provider's name, `"fullenrich"`.
    pub const NAME: &'static str = "fullenrich";

    /// A provider for one API key.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty key.
    pub fn new(api_key: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::with_keys([api_key])
    }

    /// A provider accepting signatures by any of `api_keys` (for a key rotation).
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] without a key; [`ConfigError::EmptySecret`] for an empty one.
    pub fn with_keys<K: Into<Secret>>(
        api_keys: impl IntoIterator<Item = K>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            verifier: BodyHmac::hex(SIGNATURE_HEADER, Digest::Sha1, api_keys)?,
        })
    }

    /// The header FullEnrich would send for `body`, signed with every key.
    #[must_use]
    pub fn sign_headers(&self, body: &[u8]) -> SignedHeaders {
        self.verifier.sign_headers(body)
    }
}

/// The delivery id FullEnrich deliveries get: the lowercase hex SHA-256 of the raw body.
#[must_use]
pub fn body_digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

impl Provider for FullEnrich {
    type Event = Event;

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

    fn delivery_id(&self, _headers: &dyn Headers, body: &[u8]) -> Result<DeliveryId, ParseError> {
        Ok(DeliveryId::body_digest(body))
    }

    fn parse(&self, _headers: &dyn Headers, body: &[u8]) -> Result<Event, ParseError> {
        Event::from_json(body)
    }
}
