//! Stripe's event envelope.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::event::{ParseError, RawJson, UnparsedEvent, WebhookEvent, lenient, raw_body};

/// A Stripe delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The envelope fits the model.
    Envelope(Box<EventEnvelope>),
    /// The body is a JSON object, but a field of the envelope has another shape.
    Unparsed(UnparsedEvent),
}

/// Stripe's event object, the objects in `data` kept raw.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct EventEnvelope {
    /// The event id, `evt_...`: the delivery id.
    #[serde(deserialize_with = "lenient::text")]
    pub id: String,
    /// Always `"event"`.
    #[serde(deserialize_with = "lenient::text")]
    pub object: String,
    /// The event type: `customer.created`, `invoice.paid`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event was created (Unix seconds on the wire).
    #[serde(with = "time::serde::timestamp")]
    pub created: OffsetDateTime,
    /// Live mode (`true`) or test mode.
    #[serde(deserialize_with = "lenient::flag")]
    pub livemode: bool,
    /// The API version the objects in `data` are rendered in; `null` for some older events.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub api_version: Option<String>,
    /// The objects the event is about.
    pub data: EventData,
    /// The connected account, for Connect events.
    #[serde(
        default,
        deserialize_with = "lenient::text_or_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub account: Option<String>,
    /// How many webhooks have not yet acknowledged the event.
    #[serde(
        default,
        deserialize_with = "lenient::number_or_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_webhooks: Option<u64>,
    /// The API request that caused the event, if any (anything but an object reads as
    /// absent).
    #[serde(
        default,
        deserialize_with = "lenient::or_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub request: Option<EventRequest>,
}

/// The `data` of a Stripe event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct EventData {
    /// The object as it is after the event (a customer, an invoice, ...), raw.
    pub object: RawJson,
    /// For `*.updated` events, the changed attributes' previous values, raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<RawJson>,
}

/// The API request behind an event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct EventRequest {
    /// The request id, `req_...`; `null` for events Stripe caused itself.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub id: Option<String>,
    /// The request's idempotency key, if it had one.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub idempotency_key: Option<String>,
}

#[derive(Deserialize)]
struct TypeOnly {
    #[serde(rename = "type", default)]
    event_type: Option<String>,
}

impl Event {
    /// Event types Stripe documents (a selection: every type shares the envelope and is
    /// parsed the same).
    pub const TYPES: &'static [&'static str] = &[
        "customer.created",
        "customer.updated",
        "invoice.paid",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "checkout.session.completed",
        "charge.refunded",
        "customer.subscription.deleted",
    ];

    /// Parses a body.
    ///
    /// # Errors
    /// [`ParseError::InvalidJson`] if the body is not JSON.
    pub fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        let parsed = lenient::strictly(|| serde_json::from_slice::<EventEnvelope>(body))
            .or_else(|_| serde_json::from_slice::<EventEnvelope>(body));
        match parsed {
            Ok(envelope) => Ok(Self::Envelope(Box::new(envelope))),
            Err(error) => {
                let raw = raw_body(body)?;
                let event_type = serde_json::from_str::<TypeOnly>(raw.get())
                    .ok()
                    .and_then(|t| t.event_type)
                    .unwrap_or_default();
                Ok(Self::Unparsed(UnparsedEvent::new(event_type, raw, error)))
            }
        }
    }
}

/// Writes the event in its wire form; parsing the output gives an equal event.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Envelope(envelope) => envelope.serialize(serializer),
            Self::Unparsed(event) => event.raw.serialize(serializer),
        }
    }
}

impl WebhookEvent for Event {
    fn event_type(&self) -> &str {
        match self {
            Self::Envelope(envelope) => &envelope.event_type,
            Self::Unparsed(event) => &event.event_type,
        }
    }

    /// `true`: every Stripe event type shares the modeled envelope.
    fn is_known(&self) -> bool {
        true
    }
}

#[cfg(all(test, feature = "fixtures"))]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_typed_and_round_trips() {
        for fixture in crate::fixtures::of("stripe") {
            let event = Event::from_json(fixture.body).expect("parses");
            let Event::Envelope(envelope) = &event else {
                panic!("{}: {event:?}", fixture.name)
            };
            assert_eq!(envelope.event_type, fixture.event_type);
            assert_eq!(envelope.object, "event");
            let written = serde_json::to_vec(&event).expect("serializes");
            let again = Event::from_json(&written).expect("own output parses");
            assert_eq!(again, event, "{}: round trip", fixture.name);
        }
        let updated = crate::fixtures::get("stripe", "customer.updated").expect("fixture");
        let Ok(Event::Envelope(envelope)) = Event::from_json(updated.body) else {
            panic!("typed")
        };
        let previous = envelope.data.previous_attributes.expect("previous attributes");
        assert_eq!(previous.get(), r#"{"email":"jennyrosen@example.com"}"#);
    }

    #[test]
    fn the_envelope_bends_and_only_non_json_fails() {
        let odd = Event::from_json(br#"{"id":"evt_1","type":"x.y","created":"yesterday"}"#)
            .expect("kept");
        assert!(matches!(odd, Event::Unparsed(ref u) if u.event_type == "x.y"));
        assert!(Event::from_json(b"nope").is_err());
    }
}
