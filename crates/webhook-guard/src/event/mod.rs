//! What every provider's event type has in common, and the forward-compatibility rules.
//!
//! Each provider module has its own `Event` enum, with one variant per documented event type.
//! None of them ever rejects a verified delivery because of its content:
//!
//! | the delivery | becomes |
//! |---|---|
//! | a documented event type whose payload fits the model | its typed variant |
//! | an event type this version does not know | `Unknown(`[`UnknownEvent`]`)`: the type and the raw JSON |
//! | a sub-object that does not fit its model (a job's result, an extracted document, one record of a batch, one candidate's output entry) | a [`Misfit`](lenient::Misfit) at that place: its raw JSON and the reason; the rest stays typed |
//! | a number sent for a string, a numeric string for a number, `"true"` for a flag | read as the documented type |
//! | `null`, or a value of another shape, in an optional field | absent (`None`, or an empty list) |
//! | a documented event type whose envelope does not fit (the type, the time, the ids and states that say what the event is) | `Unparsed(`[`UnparsedEvent`]`)`: the type, the raw JSON and the parse error |
//! | a field this version does not know | ignored |
//! | an enum value this version does not know, of any scalar shape | that enum's `Other(String)` variant |
//!
//! Only a body that is not JSON at all is refused, with a [`ParseError`] (HTTP 400). The rules
//! and their helpers are in [`lenient`]; the raw body is always in the
//! [`Delivery`](crate::Delivery), byte for byte.

#[macro_use]
pub mod wire_enum;
#[macro_use]
pub mod envelope;
pub mod lenient;
mod raw;
mod undocumented;

use std::{borrow::Cow, fmt};

pub use envelope::Envelope;

/// What the exported macros' expansions name; not an API of its own.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;

    pub use super::lenient::strictly;
}
pub use raw::RawJson;
pub use time::OffsetDateTime;
pub use undocumented::Undocumented;

/// A typed webhook event, whatever the provider.
///
/// Implemented by the `Event` enum of each provider module and by
/// [`GenericEvent`](crate::generic::GenericEvent).
pub trait WebhookEvent: fmt::Debug + Send + Sync + 'static {
    /// The event type as the provider names it on the wire, for instance
    /// `"findall.run.completed"`. Providers that send no type name (Sixtyfour, FullEnrich) get
    /// the names documented in their module.
    fn event_type(&self) -> &str;

    /// `false` only for an event type this version does not know (the `Unknown` variants).
    ///
    /// A documented type whose payload did not fit the model (`Unparsed`) is known.
    fn is_known(&self) -> bool;
}

/// An event of a type this version does not know, kept whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The event type as sent.
    pub event_type: String,
    /// The whole body, exactly as sent (JSON whitespace outside the value aside).
    pub raw: RawJson,
}

/// An event of a documented type whose payload does not fit this version's model.
///
/// Nothing is lost: the raw JSON is here, and the error says which field did not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnparsedEvent {
    /// The event type.
    pub event_type: String,
    /// The whole body, exactly as sent (JSON whitespace outside the value aside).
    pub raw: RawJson,
    /// Why the payload did not fit, with the path of the field when known.
    pub error: String,
}

impl UnknownEvent {
    /// An event of the type `event_type`, unknown to the model, kept as `raw` (build `raw`
    /// with [`raw_body`]). For the `Unknown` variant of a provider's event model, and for
    /// tests.
    pub fn new(event_type: impl Into<String>, raw: RawJson) -> Self {
        Self {
            event_type: event_type.into(),
            raw,
        }
    }
}

impl UnparsedEvent {
    /// An event of the documented type `event_type` whose payload did not fit the model,
    /// kept as `raw`, with the reason. For the `Unparsed` variant of a provider's event model,
    /// and for tests.
    pub fn new(event_type: impl Into<String>, raw: RawJson, error: impl fmt::Display) -> Self {
        Self {
            event_type: event_type.into(),
            raw,
            error: error.to_string(),
        }
    }
}

/// A delivery's body could not be read as an event at all.
///
/// Answered with HTTP 400 ([`status`](Self::status)); the provider retries it. The `Display`
/// text is precise and meant for logs; [`public_message`](Self::public_message) is what a client
/// may see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is not JSON, or not the JSON object the provider always sends.
    InvalidJson {
        /// The JSON parser's message, with line and column.
        reason: String,
    },
    /// The header that carries the delivery id is absent, and the provider has no fallback.
    MissingDeliveryId {
        /// Where the id was expected.
        source: Cow<'static, str>,
    },
    /// The delivery id is empty, longer than [`MAX_DELIVERY_ID_LEN`] bytes, or not UTF-8 text.
    InvalidDeliveryId {
        /// Where the id came from.
        source: Cow<'static, str>,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header that names the event type is absent, repeated or unusable, and the body
    /// does not name it (GitHub's `X-GitHub-Event`).
    MissingEventType {
        /// The header.
        source: &'static str,
    },
    /// A header that names the event type disagrees with the signed body.
    EventTypeMismatch {
        /// The header's value (lossy UTF-8).
        header: String,
        /// The body's event type.
        body: String,
    },
}

/// The longest delivery id accepted, in bytes. Providers send ids of a few dozen bytes; a longer
/// one would only grow the dedup store.
pub const MAX_DELIVERY_ID_LEN: usize = 256;

impl ParseError {
    /// The HTTP status for this error: always 400 (Bad Request).
    #[must_use]
    pub fn status(&self) -> u16 {
        400
    }

    /// A short text safe to send back to the client. It says nothing about the payload.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::MissingDeliveryId { .. } => "missing delivery id",
            Self::InvalidDeliveryId { .. } => "invalid delivery id",
            Self::MissingEventType { .. } => "missing event type",
            Self::EventTypeMismatch { .. } => "event type header does not match the body",
            Self::InvalidJson { .. } => "malformed webhook body",
        }
    }

    /// An [`InvalidJson`](Self::InvalidJson) error from the JSON parser's.
    #[must_use]
    pub fn invalid_json(error: &serde_json::Error) -> Self {
        Self::InvalidJson {
            reason: error.to_string(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson { reason } => write!(f, "body is not a JSON event: {reason}"),
            Self::MissingDeliveryId { source } => write!(f, "no delivery id: {source} is absent"),
            Self::InvalidDeliveryId { source, reason } => {
                write!(f, "invalid delivery id in {source}: {reason}")
            }
            Self::MissingEventType { source } => {
                write!(
                    f,
                    "no usable event type: the {source} header is absent or unusable"
                )
            }
            Self::EventTypeMismatch { header, body } => write!(
                f,
                "event type header says {header:?} but the signed body says {body:?}"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads a body that must be JSON into its raw form, for the `Unknown` and `Unparsed`
/// variants of a provider's event model.
///
/// # Errors
/// [`ParseError::InvalidJson`] if `body` is not JSON.
pub fn raw_body(body: &[u8]) -> Result<RawJson, ParseError> {
    serde_json::from_slice::<RawJson>(body).map_err(|e| ParseError::invalid_json(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_messages_name_the_cause_and_nothing_of_the_payload() {
        let cases = [
            (
                ParseError::MissingDeliveryId {
                    source: "x-id".into(),
                },
                "missing delivery id",
            ),
            (
                ParseError::InvalidDeliveryId {
                    source: "x-id".into(),
                    reason: "it is empty",
                },
                "invalid delivery id",
            ),
            (
                ParseError::MissingEventType {
                    source: "x-github-event",
                },
                "missing event type",
            ),
            (
                ParseError::EventTypeMismatch {
                    header: "a".into(),
                    body: "secret-b".into(),
                },
                "event type header does not match the body",
            ),
            (
                ParseError::InvalidJson {
                    reason: "at line 1".into(),
                },
                "malformed webhook body",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.public_message(), message, "{error}");
            assert_eq!(error.status(), 400);
            assert!(
                !error.public_message().contains("x-id")
                    && !error.public_message().contains("secret-b")
            );
        }
    }
}
