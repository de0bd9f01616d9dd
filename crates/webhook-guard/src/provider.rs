//! A provider is one sender: its signature scheme, its headers, its delivery-id rule and its
//! event model.
//!
//! | provider | scheme | delivery id | event type |
//! |---|---|---|---|
//! | [`Parallel`](crate::parallel::Parallel) | Standard Webhooks v1, current and legacy key forms | `webhook-id` | body `type` |
//! | [`Sixtyfour`](crate::sixtyfour::Sixtyfour) | `t=,v1=` over `t.body`, or unsigned when allowed | `Sixtyfour-Event-Id`, else body `task_id` | body `status` |
//! | [`FullEnrich`](crate::fullenrich::FullEnrich) | HMAC-SHA1 hex of the body | SHA-256 of the raw body | from the body's shape |
//! | [`ParseFlow`](crate::parseflow::ParseFlow) | HMAC-SHA256 hex of the body | `X-ParseFlow-Delivery` | body `event` |
//! | [`GenericStandard`](crate::generic::GenericStandard) | Standard Webhooks v1/v1a | `webhook-id` | body `type`, if any |
//!
//! The steps are separate methods because a receiver runs them in order with deduplication in
//! between (verify, take the delivery id, claim it, then parse); [`Provider::open`] runs them all
//! without deduplication, for tests and tools.

use std::fmt;

use crate::{
    VerifyError,
    event::{MAX_DELIVERY_ID_LEN, ParseError, WebhookEvent},
    headers::{HeaderEntry, HeaderName, Headers},
    scheme::{Scheme, Verified},
};

/// How a delivery was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authenticity {
    /// The signature matched; which key and key form matched is recorded.
    Signed(Verified),
    /// The delivery carried no signature and the provider is configured to accept that
    /// (Sixtyfour before the organisation has created a signing secret).
    UnsignedAllowed,
}

impl Authenticity {
    /// What the signature check established, if the delivery was signed.
    #[must_use]
    pub fn verified(&self) -> Option<&Verified> {
        match self {
            Self::Signed(verified) => Some(verified),
            Self::UnsignedAllowed => None,
        }
    }
}

/// The id under which a delivery is deduplicated: the same for every retry of one delivery,
/// different for different deliveries.
///
/// Always non-empty UTF-8 of at most [`MAX_DELIVERY_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(std::sync::Arc<str>);

impl DeliveryId {
    /// Checks an id taken from `source` (a header name or a body field, for error messages).
    ///
    /// # Errors
    /// [`ParseError::InvalidDeliveryId`] if `bytes` is empty, too long or not UTF-8.
    pub fn new(bytes: &[u8], source: &'static str) -> Result<Self, ParseError> {
        let invalid = |reason| ParseError::InvalidDeliveryId { source, reason };
        if bytes.is_empty() {
            return Err(invalid("it is empty"));
        }
        if bytes.len() > MAX_DELIVERY_ID_LEN {
            return Err(invalid("it is longer than 256 bytes"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("it is not UTF-8"))?;
        if text.chars().any(char::is_control) {
            return Err(invalid("it contains control characters"));
        }
        // Shared: the metadata is cloned into the request for the handler's extractors.
        Ok(Self(std::sync::Arc::from(text)))
    }

    /// The lowercase hex SHA-256 of `body`, as an id: FullEnrich's delivery id, and the dedup
    /// id of the providers whose own id is outside their signature (ParseFlow, Sixtyfour).
    #[must_use]
    pub fn body_digest(body: &[u8]) -> Self {
        // 64 hex digits: always a valid id.
        Self(std::sync::Arc::from(crate::fullenrich::body_digest(body)))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A delivery that passed every check of [`Provider::open`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Opened<E> {
    /// The typed event.
    pub event: E,
    /// The id to deduplicate on.
    pub delivery_id: DeliveryId,
    /// How the delivery was authenticated.
    pub authenticity: Authenticity,
}

/// Why [`Provider::open`] refused a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// The delivery is not authentic (HTTP 401).
    Verify(VerifyError),
    /// The delivery is authentic but its body or delivery id cannot be read (HTTP 400).
    Parse(ParseError),
}

impl OpenError {
    /// The HTTP status: 401 for a failed verification, 400 for an unreadable body.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Verify(e) => e.status(),
            Self::Parse(e) => e.status(),
        }
    }

    /// A short text safe to send back to the client.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::Verify(e) => e.public_message(),
            Self::Parse(e) => e.public_message(),
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verify(e) => e.fmt(f),
            Self::Parse(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Verify(e) => Some(e),
            Self::Parse(e) => Some(e),
        }
    }
}

impl From<VerifyError> for OpenError {
    fn from(e: VerifyError) -> Self {
        Self::Verify(e)
    }
}

impl From<ParseError> for OpenError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

/// One webhook sender: scheme, headers, delivery-id rule and event model.
pub trait Provider: fmt::Debug + Send + Sync + 'static {
    /// The provider's event type.
    type Event: WebhookEvent;

    /// A short lowercase name (`"parallel"`), used to namespace delivery ids and in logs.
    fn name(&self) -> &str;

    /// Checks that the delivery comes from the sender, against the time `now` in Unix seconds.
    ///
    /// # Errors
    /// A [`VerifyError`] saying why the delivery is not authentic.
    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError>;

    /// The delivery id. Call it only on an authenticated delivery: unverified ids must never
    /// reach a dedup store.
    ///
    /// # Errors
    /// A [`ParseError`] if the id is absent or unusable.
    fn delivery_id(&self, headers: &dyn Headers, body: &[u8]) -> Result<DeliveryId, ParseError>;

    /// The id the receiver deduplicates by, given the delivery id: the delivery id itself by
    /// default. A provider whose delivery id is outside the signature (anyone holding one
    /// captured delivery could replay it under fresh ids, or under an id guessed ahead of a
    /// real delivery) derives it from signed content instead, such as a digest of the body.
    fn dedup_id(&self, headers: &dyn Headers, body: &[u8], delivery_id: &DeliveryId) -> DeliveryId {
        let _ = (headers, body);
        delivery_id.clone()
    }

    /// Parses the body into the typed event. Never fails on content the model does not know
    /// (see [`crate::event`]); fails only on a body that is not JSON.
    ///
    /// # Errors
    /// A [`ParseError`] if the body is not the JSON the provider sends.
    fn parse(&self, headers: &dyn Headers, body: &[u8]) -> Result<Self::Event, ParseError>;

    /// Runs every step on one delivery, without deduplication: authenticate, delivery id, parse.
    ///
    /// # Errors
    /// The first step that failed.
    fn open(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Opened<Self::Event>, OpenError> {
        let authenticity = self.authenticate(headers, body, now)?;
        let delivery_id = self.delivery_id(headers, body)?;
        let event = self.parse(headers, body)?;
        Ok(Opened {
            event,
            delivery_id,
            authenticity,
        })
    }
}

/// Authenticity of a delivery checked by a signature scheme.
pub(crate) fn signed(
    scheme: &dyn Scheme,
    headers: &dyn Headers,
    body: &[u8],
    now: i64,
) -> Result<Authenticity, VerifyError> {
    scheme
        .verify_at(headers, body, now)
        .map(Authenticity::Signed)
}

/// The delivery id from a header that must be present.
pub(crate) fn required_id(
    headers: &dyn Headers,
    name: &HeaderName,
    source: &'static str,
) -> Result<DeliveryId, ParseError> {
    id_from_header(headers, name, source)?.ok_or(ParseError::MissingDeliveryId { source })
}

/// The delivery id from a header that may be absent.
pub(crate) fn id_from_header(
    headers: &dyn Headers,
    name: &HeaderName,
    source: &'static str,
) -> Result<Option<DeliveryId>, ParseError> {
    match headers.entry(name) {
        HeaderEntry::Absent => Ok(None),
        HeaderEntry::Single(value) => DeliveryId::new(value, source).map(Some),
        HeaderEntry::Repeated => Err(ParseError::InvalidDeliveryId {
            source,
            reason: "the header appears more than once",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_id_rules() {
        assert_eq!(
            DeliveryId::new(b"msg_1.2", "h").map(|id| id.to_string()),
            Ok("msg_1.2".to_owned())
        );
        assert!(DeliveryId::new("é-ü".as_bytes(), "h").is_ok());
        for bad in [&b""[..], b"\xff\xfe", b"a\x00b", &[b'a'; 257]] {
            assert!(
                matches!(
                    DeliveryId::new(bad, "h"),
                    Err(ParseError::InvalidDeliveryId { source: "h", .. })
                ),
                "{bad:?}"
            );
        }
        assert!(DeliveryId::new(&[b'a'; 256], "h").is_ok());
    }
}
