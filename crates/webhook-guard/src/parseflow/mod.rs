//! ParseFlow: document extraction webhooks.
//!
//! ParseFlow signs the raw body with HMAC-SHA256, hex, in `X-ParseFlow-Signature`, keyed with
//! the `whsec_...` secret string as given (not decoded). `X-ParseFlow-Delivery` is the delivery
//! id and `X-ParseFlow-Event` repeats the body's event type; a delivery where the two disagree
//! is refused. No timestamp is signed: replay protection comes from deduplication alone.
//!
//! ParseFlow's own Node sample verifies `JSON.stringify(req.body)`, which fails on real
//! traffic, with a comparison that throws on a length mismatch. [`ParseFlow`] verifies the raw
//! bytes and treats any length as a plain mismatch.
//!
//! ```
//! use webhook_guard::{parseflow::{Event, ParseFlow}, provider::Provider};
//!
//! let parseflow = ParseFlow::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456")?;
//! let body = br#"{"event":"quota.warning","timestamp":"2026-04-14T10:05:00Z","data":{}}"#;
//! let headers = [
//!     ("x-parseflow-signature", "26cc0f1653ee300833631d6c0f28260903baa7e055e7fd295239a58eb19f7637"),
//!     ("x-parseflow-event", "quota.warning"),
//!     ("x-parseflow-delivery", "dlv_01"),
//! ];
//! let opened = parseflow.open(&headers, body, 0)?;
//! assert_eq!(opened.delivery_id.as_str(), "dlv_01");
//! assert!(matches!(opened.event, Event::QuotaWarning(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "fixtures")]
pub(crate) mod catalog;
mod event;
pub mod payload;

pub use event::Event;

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::BodyHmac;
use crate::event::{ParseError, WebhookEvent as _};
use crate::headers::{HeaderEntry, HeaderName, Headers};
use crate::provider::DeliveryIdRule;
use crate::scheme::{Digest, SignedHeaders};

crate::declare_provider! {
    /// The ParseFlow provider. See the [module docs](self).
    pub struct ParseFlow("parseflow") {
        scheme: BodyHmac = |builder| BodyHmac::builder().header(SIGNATURE_HEADER)
            .digest(Digest::Sha256).secrets(builder.keys.secrets).build(),
        /// ParseFlow's delivery id: the `X-ParseFlow-Delivery` header.
        delivery_id: DELIVERY_ID = DeliveryIdRule::Header(HeaderName::from_static(DELIVERY_HEADER)),
        /// What ParseFlow deliveries are deduplicated by: the SHA-256 of the body. ParseFlow signs
        /// only the body, so its `X-ParseFlow-Delivery` (kept as the delivery id, for logs and
        /// handlers) could be replaced by anyone replaying a captured delivery. Keyed by the signed
        /// body, a replay under a fresh id is a duplicate, and one under an id guessed ahead of a real
        /// delivery cannot pre-claim it.
        dedup_id: DEDUP_ID = DeliveryIdRule::BodyDigest,
        event: Event = |headers, body| parse(headers, body),
    }
    /// Configuration of a [`ParseFlow`] provider.
    pub struct ParseFlowBuilder;
}

impl ParseFlow {
    /// The headers ParseFlow would send for `body`: signature (by the first secret: the
    /// header carries one MAC), event type and delivery id.
    #[must_use]
    pub fn sign_headers(&self, delivery_id: &str, event: &str, body: &[u8]) -> SignedHeaders {
        self.scheme.sign_headers(body).with(EVENT_HEADER, event).with(DELIVERY_HEADER, delivery_id)
    }
}

/// Parses the body and checks that `X-ParseFlow-Event`, when present, names the same type.
fn parse(headers: &dyn Headers, body: &[u8]) -> Result<Event, ParseError> {
    static EVENT_HEADER_NAME: HeaderName = HeaderName::from_static(EVENT_HEADER);
    let event = Event::from_json(body)?;
    let header = match headers.entry(&EVENT_HEADER_NAME) {
        HeaderEntry::Absent => return Ok(event),
        HeaderEntry::Single(value) => value,
        HeaderEntry::Repeated => b"(repeated header)".as_slice(),
    };
    if header == event.event_type().as_bytes() {
        Ok(event)
    } else {
        Err(ParseError::EventTypeMismatch {
            header: String::from_utf8_lossy(header).into_owned(),
            body: event.event_type().to_owned(),
        })
    }
}

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-parseflow-signature";
/// The event type header.
pub const EVENT_HEADER: &str = "x-parseflow-event";
/// The delivery id header.
pub const DELIVERY_HEADER: &str = "x-parseflow-delivery";
