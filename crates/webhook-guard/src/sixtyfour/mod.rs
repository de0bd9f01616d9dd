//! Sixtyfour: async job completion webhooks.
//!
//! Once an organisation has created a signing secret, Sixtyfour signs each delivery with
//! `Sixtyfour-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`, HMAC-SHA256 over `t.body`, keyed with the
//! secret string itself (`sk_whsec_...`). Before that, deliveries are unsigned: [`Sixtyfour`]
//! refuses them unless [`SixtyfourBuilder::allow_unsigned`] is set. A delivery that carries a
//! signature is always verified, even when unsigned ones are allowed.
//!
//! The delivery id is the `Sixtyfour-Event-Id` header (a UUID). Without it (unsigned
//! deliveries), the body's `task_id` is used: a job completes once.
//!
//! ```
//! use webhook_guard::{provider::Provider, sixtyfour::{Event, Sixtyfour}};
//!
//! let secret = "sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
//! let sixtyfour = Sixtyfour::new(secret)?;
//! let body = br#"{"task_id":"550e8400-e29b-41d4-a716-446655440000","status":"failed","task_type":"find_email","error":"Error message describing what went wrong"}"#;
//! let headers = [
//!     ("sixtyfour-signature", "t=1751498975,v1=61cda67a0f6fa80b6eb0610f7dd57eb25334e11dc35052df1e26197dafb9f1aa"),
//!     ("sixtyfour-event-id", "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"),
//! ];
//! let opened = sixtyfour.open(&headers, body, 1_751_498_975)?;
//! assert_eq!(opened.delivery_id.as_str(), "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b");
//! assert!(matches!(opened.event, Event::Failed(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "fixtures")]
pub(crate) mod catalog;
mod event;

pub use event::{
    EmailType, EmailVerdict, Event, FindEmailResult, FoundEmail, JobCompleted, JobFailed, JobResult,
    TaskType,
};

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::{ConfigError, TimestampedHmac, VerifyError};
use crate::headers::{HeaderEntry, HeaderName, Headers};
use crate::provider::{self, Authenticity, DeliveryIdRule};
use crate::scheme::{DEFAULT_TOLERANCE, Scheme as _, SignedHeaders};

crate::declare_provider! {
    /// The Sixtyfour provider. See the [module docs](self).
    pub struct Sixtyfour("sixtyfour") {
        scheme: Keys = |builder| Keys::new(builder.keys, builder.allow_unsigned),
        authenticate: authenticate,
        tolerance: DEFAULT_TOLERANCE,
        /// Sixtyfour's delivery id: `Sixtyfour-Event-Id`, else (unsigned deliveries) the body's
        /// `task_id`.
        delivery_id: DELIVERY_ID = DeliveryIdRule::HeaderOrBodyField {
            header: HeaderName::from_static(EVENT_ID_HEADER),
            field: "task_id",
        },
        /// What Sixtyfour deliveries are deduplicated by: the SHA-256 of the body. The signature
        /// covers `t.body`, not `Sixtyfour-Event-Id` (kept as the delivery id, for logs and
        /// handlers), so within the timestamp tolerance anyone holding one delivery could replay it
        /// under fresh event ids. Retries resend the same body, so they are still recognised.
        dedup_id: DEDUP_ID = DeliveryIdRule::BodyDigest,
        event: Event = |_, body| Event::from_json(body),
    }
    /// Configuration of a [`Sixtyfour`] provider.
    pub struct SixtyfourBuilder {
        allow_unsigned: bool = false,
    }
}

impl Sixtyfour {
    /// Whether unsigned deliveries are accepted.
    #[must_use]
    pub fn allows_unsigned(&self) -> bool {
        self.scheme.allow_unsigned
    }

    /// The headers Sixtyfour would send for `body`: the signature by every secret (none if the
    /// provider has no secret) and the event id.
    #[must_use]
    pub fn sign_headers(&self, event_id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
        let signed = match &self.scheme.verifier {
            Some(verifier) => verifier.sign_headers(timestamp, body),
            None => SignedHeaders::new(),
        };
        signed.with(EVENT_ID_HEADER, event_id)
    }
}

impl SixtyfourBuilder {
    /// Accepts deliveries without a `Sixtyfour-Signature` header (default `false`).
    ///
    /// Only for organisations that have not created a signing secret yet: anyone who knows
    /// the endpoint's URL can then send events.
    pub fn allow_unsigned(mut self, allow: bool) -> Self {
        self.allow_unsigned = allow;
        self
    }
}

/// Sixtyfour's keys: the signing secrets, if any, and whether unsigned deliveries are
/// accepted.
#[derive(Debug, Clone)]
pub struct Keys {
    verifier: Option<TimestampedHmac>,
    allow_unsigned: bool,
}

impl Keys {
    /// Checks the secrets (`sk_whsec_...`, used as given).
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] with neither a secret nor unsigned deliveries allowed;
    /// [`ConfigError::EmptySecret`] for an empty secret.
    fn new(keys: provider::Keys, allow_unsigned: bool) -> Result<Self, ConfigError> {
        let verifier = if keys.secrets.is_empty() {
            if !allow_unsigned {
                return Err(ConfigError::NoKeys);
            }
            None
        } else {
            let verifier = TimestampedHmac::builder()
                .header(SIGNATURE_HEADER)
                .tolerance(keys.tolerance)
                .secrets(keys.secrets);
            Some(verifier.build()?)
        };
        Ok(Self {
            verifier,
            allow_unsigned,
        })
    }
}

/// Authentic: signed by one of the secrets, or unsigned where the provider accepts that.
fn authenticate(
    keys: &Keys,
    headers: &dyn Headers,
    body: &[u8],
    now: i64,
) -> Result<Authenticity, VerifyError> {
    static SIGNATURE_HEADER_NAME: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
    match headers.entry(&SIGNATURE_HEADER_NAME) {
        HeaderEntry::Absent if keys.allow_unsigned => Ok(Authenticity::UnsignedAllowed),
        HeaderEntry::Absent => Err(VerifyError::Unsigned),
        _ => match &keys.verifier {
            Some(verifier) => verifier.verify_at(headers, body, now).map(Authenticity::Signed),
            // Unsigned deliveries only, and this one carries a signature nothing can check.
            None => Err(VerifyError::SignatureMismatch),
        },
    }
}

/// The signature header.
pub const SIGNATURE_HEADER: &str = "sixtyfour-signature";
/// The event id header, the documented dedup key.
pub const EVENT_ID_HEADER: &str = "sixtyfour-event-id";
/// The routing hint header: the task type, for instance `find_email`.
pub const EVENT_TYPE_HEADER: &str = "sixtyfour-event-type";
/// The attempt counter header: 1, 2, ...
pub const DELIVERY_ATTEMPT_HEADER: &str = "sixtyfour-delivery-attempt";
