//! Delivery ids and the rules that say where a provider's id is read.

use std::{borrow::Cow, fmt, sync::Arc};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use sha2::{Digest as _, Sha256};

use crate::{
    event::{MAX_DELIVERY_ID_LEN, ParseError},
    headers::{HeaderEntry, HeaderName, Headers},
};

/// The id under which a delivery is deduplicated: the same for every retry of one delivery,
/// different for different deliveries.
///
/// Always non-empty UTF-8 of at most [`MAX_DELIVERY_ID_LEN`] bytes, without control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(Arc<str>);

impl DeliveryId {
    /// Checks an id taken from `source` (a header name or a body field, for error messages).
    ///
    /// # Errors
    /// [`ParseError::InvalidDeliveryId`] if `bytes` is empty, too long, not UTF-8 or contains
    /// control characters.
    pub fn new(bytes: &[u8], source: impl Into<Cow<'static, str>>) -> Result<Self, ParseError> {
        let invalid = |reason| ParseError::InvalidDeliveryId {
            source: source.into(),
            reason,
        };
        if bytes.is_empty() {
            return Err(invalid("it is empty"));
        }
        if bytes.len() > MAX_DELIVERY_ID_LEN {
            return Err(invalid("it is longer than 256 bytes"));
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(invalid("it is not UTF-8"));
        };
        if text.chars().any(char::is_control) {
            return Err(invalid("it contains control characters"));
        }
        // Shared: the metadata is cloned into the request for the handler's extractors.
        Ok(Self(Arc::from(text)))
    }

    /// The lowercase hex SHA-256 of `body`, as an id: FullEnrich's delivery id, and the dedup
    /// id of the providers whose own id is outside their signature (ParseFlow, Sixtyfour).
    #[must_use]
    pub fn body_digest(body: &[u8]) -> Self {
        // 64 hex digits: always a valid id.
        Self(Arc::from(hex::encode(Sha256::digest(body))))
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

/// Where a provider's delivery id comes from, as data: the catalogue shows it, the CLI uses it
/// to say which id a request would get, and [`Authenticator::delivery_id`] reads it.
///
/// ```
/// use webhook_guard::{headers::HeaderName, provider::DeliveryIdRule};
///
/// let rule = DeliveryIdRule::HeaderOrBodyField {
///     header: HeaderName::from_static("x-job-delivery"),
///     field: "job_id",
/// };
/// let id = rule.read(&[("x-other", "1")], br#"{"job_id":"job_42","status":"done"}"#)?;
/// assert_eq!(id.as_str(), "job_42");
/// assert_eq!(DeliveryIdRule::BodyDigest.read(&[("x", "")], b"{}")?.as_str().len(), 64);
/// # Ok::<(), webhook_guard::ParseError>(())
/// ```
///
/// [`Authenticator::delivery_id`]: crate::provider::Authenticator::delivery_id
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryIdRule {
    /// A header every delivery carries.
    Header(HeaderName),
    /// A header, or when it is absent a top-level string field of the JSON body.
    HeaderOrBodyField {
        /// The header, tried first.
        header: HeaderName,
        /// The body field, used when the header is absent.
        field: &'static str,
    },
    /// A top-level string field of the JSON body (Stripe's event `id`).
    BodyField(&'static str),
    /// The lowercase hex SHA-256 of the raw body ([`DeliveryId::body_digest`]), for senders
    /// that send no id: retries resend the same bytes.
    BodyDigest,
    /// A top-level string field of the JSON body, or the SHA-256 of the body when it has none
    /// (a sender whose control messages, a URL check say, carry no id).
    BodyFieldOrDigest(&'static str),
}

impl DeliveryIdRule {
    /// Reads the id of one delivery.
    ///
    /// # Errors
    /// [`ParseError::MissingDeliveryId`] if the header (and the field) is absent;
    /// [`ParseError::InvalidDeliveryId`] if the value is not a usable id, or the header is
    /// repeated.
    pub fn read(&self, headers: &dyn Headers, body: &[u8]) -> Result<DeliveryId, ParseError> {
        match self {
            Self::Header(header) => {
                from_header(headers, header)?.ok_or_else(|| ParseError::MissingDeliveryId {
                    source: Cow::Owned(header.as_str().to_owned()),
                })
            }
            Self::HeaderOrBodyField { header, field } => match from_header(headers, header)? {
                Some(id) => Ok(id),
                None => from_body(body, field).map_err(|error| match error {
                    ParseError::MissingDeliveryId { .. } => ParseError::MissingDeliveryId {
                        source: Cow::Owned(format!("the {header} header and the body's {field}")),
                    },
                    other => other,
                }),
            },
            Self::BodyField(field) => from_body(body, field),
            Self::BodyDigest => Ok(DeliveryId::body_digest(body)),
            Self::BodyFieldOrDigest(field) => match from_body(body, field) {
                Err(ParseError::MissingDeliveryId { .. }) => Ok(DeliveryId::body_digest(body)),
                other => other,
            },
        }
    }
}

impl fmt::Display for DeliveryIdRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(header) => write!(f, "the {header} header"),
            Self::HeaderOrBodyField { header, field } => {
                write!(f, "the {header} header, else the body's `{field}`")
            }
            Self::BodyField(field) => write!(f, "the body's `{field}`"),
            Self::BodyDigest => f.write_str("the SHA-256 of the body"),
            Self::BodyFieldOrDigest(field) => {
                write!(f, "the body's `{field}`, else the SHA-256 of the body")
            }
        }
    }
}

/// The id from a header that may be absent; a repeated header is refused.
fn from_header(headers: &dyn Headers, name: &HeaderName) -> Result<Option<DeliveryId>, ParseError> {
    match headers.entry(name) {
        HeaderEntry::Absent => Ok(None),
        HeaderEntry::Single(value) => {
            DeliveryId::new(value, Cow::Owned(name.as_str().to_owned())).map(Some)
        }
        HeaderEntry::Repeated => Err(ParseError::InvalidDeliveryId {
            source: Cow::Owned(name.as_str().to_owned()),
            reason: "the header appears more than once",
        }),
    }
}

/// The id from a top-level string field of a JSON object body.
fn from_body(body: &[u8], field: &'static str) -> Result<DeliveryId, ParseError> {
    let value = top_level_string(body, field)
        .map_err(|e| ParseError::invalid_json(&e))?
        .ok_or(ParseError::MissingDeliveryId {
            source: Cow::Borrowed(field),
        })?;
    DeliveryId::new(value.as_bytes(), field)
}

/// The string value of `field` in the JSON object `body`, without building the rest of the
/// object: other values are skipped. `Ok(None)` if the field is absent or not a string.
///
/// Written here because serde's derive needs field names known at compile time.
fn top_level_string(body: &[u8], field: &str) -> Result<Option<String>, serde_json::Error> {
    struct Field<'f>(&'f str);

    impl<'de> Visitor<'de> for Field<'_> {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == self.0 && found.is_none() {
                    found = Some(map.next_value::<StringOrNot>()?.0);
                } else if key == self.0 {
                    return Err(de::Error::duplicate_field("delivery id"));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found.flatten())
        }
    }

    impl<'de> DeserializeSeed<'de> for Field<'_> {
        type Value = Option<String>;

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = Field(field).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A JSON string, or `None` for a value of any other type.
struct StringOrNot(Option<String>);

impl<'de> serde::Deserialize<'de> for StringOrNot {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(text) => Ok(Self(Some(text))),
            _ => Ok(Self(None)),
        }
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
                    Err(ParseError::InvalidDeliveryId { ref source, .. }) if source == "h"
                ),
                "{bad:?}"
            );
        }
        assert!(DeliveryId::new(&[b'a'; 256], "h").is_ok());
    }

    #[test]
    fn rules_read_headers_and_bodies() {
        let header = HeaderName::from_static("x-id");
        let rule = DeliveryIdRule::HeaderOrBodyField {
            header: header.clone(),
            field: "id",
        };
        let body = br#"{"a":{"id":"nested"},"id":"top","b":[1,2]}"#;
        assert_eq!(
            rule.read(&[("x-id", "h1")], body).map(|i| i.to_string()),
            Ok("h1".into())
        );
        assert_eq!(
            rule.read(&[("x-other", "")], body).map(|i| i.to_string()),
            Ok("top".into())
        );
        assert!(matches!(
            rule.read(&[("x-id", "a"), ("X-Id", "b")], body),
            Err(ParseError::InvalidDeliveryId { .. })
        ));
        assert!(matches!(
            rule.read(&[("x-other", "")], br#"{"id":7}"#),
            Err(ParseError::MissingDeliveryId { .. })
        ));
        assert!(matches!(
            DeliveryIdRule::BodyField("id").read(&[("x", "")], br#"{"id":"a","id":"b"}"#),
            Err(ParseError::InvalidJson { .. })
        ));
        assert!(matches!(
            DeliveryIdRule::BodyField("id").read(&[("x", "")], b"[1]"),
            Err(ParseError::InvalidJson { .. })
        ));
        assert!(matches!(
            DeliveryIdRule::Header(header).read(&[("x", "")], body),
            Err(ParseError::MissingDeliveryId { ref source }) if source == "x-id"
        ));
        assert_eq!(
            DeliveryIdRule::BodyField("id").to_string(),
            "the body's `id`"
        );
    }
}
