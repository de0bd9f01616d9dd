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

use crate::{BodyHmac, Secret};
use crate::provider::DeliveryIdRule;
use crate::scheme::{Digest, SignedHeaders};

crate::declare_provider! {
    /// The FullEnrich provider. See the [module docs](self).
    pub struct FullEnrich("fullenrich") {
        scheme: BodyHmac = |builder| BodyHmac::builder().header(SIGNATURE_HEADER)
            .digest(Digest::Sha1).secrets(builder.keys.secrets).build(),
        /// FullEnrich's delivery id: the SHA-256 of the body (it sends none).
        delivery_id: DELIVERY_ID = DeliveryIdRule::BodyDigest,
        event: Event = |_, body| Event::from_json(body),
    }
    /// Configuration of a [`FullEnrich`] provider.
    pub struct FullEnrichBuilder;
}

impl FullEnrich {
    /// The header FullEnrich would send for `body`, signed with the first API key (the header
    /// carries one MAC).
    #[must_use]
    pub fn sign_headers(&self, body: &[u8]) -> SignedHeaders {
        self.scheme.sign_headers(body)
    }
}

impl FullEnrichBuilder {
    /// Adds an API key (FullEnrich signs with the account's API key; the same as
    /// [`secret`](Self::secret)). Call again while rotating keys: signatures by any are
    /// accepted.
    pub fn api_key(self, api_key: impl Into<Secret>) -> Self {
        self.secret(api_key)
    }
}

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-signature-sha1";
