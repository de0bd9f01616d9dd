//! The `{type, timestamp, data}` envelope shared by Parallel and ParseFlow, and the
//! [`envelope_events!`](crate::envelope_events) macro that declares an event model over it,
//! for providers of this crate and of yours.

use std::{borrow::Cow, fmt};

use serde::{
    Serialize, Serializer,
    de::{self, DeserializeOwned, MapAccess, Visitor},
    ser::SerializeStruct,
};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::event::ParseError;

/// An event's time and payload, as sent in the `{"type", "timestamp", "data"}` envelope. The
/// type is the enum variant that holds the envelope.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Envelope<T> {
    /// When the event occurred, from the envelope's RFC 3339 `timestamp`.
    pub timestamp: OffsetDateTime,
    /// The event's payload.
    pub data: T,
}

impl<T> Envelope<T> {
    /// An envelope, for building events in tests.
    pub fn new(timestamp: OffsetDateTime, data: T) -> Self {
        Self { timestamp, data }
    }
}

/// The three fields of an envelope, still raw, and the event type.
#[derive(Debug)]
#[non_exhaustive]
pub struct Parts<'a> {
    /// The event type.
    pub event_type: Cow<'a, str>,
    /// The `timestamp` field, if present.
    pub timestamp: Option<&'a RawValue>,
    /// The `data` field, if present.
    pub data: Option<&'a RawValue>,
}

/// Splits an envelope body into its [`Parts`], the type read from `type_field`; other fields
/// are skipped.
///
/// # Errors
/// [`ParseError::InvalidJson`] if the body is not a JSON object with a string `type_field`,
/// or repeats one of the three fields.
pub fn parts<'a>(body: &'a [u8], type_field: &str) -> Result<Parts<'a>, ParseError> {
    struct PartsVisitor<'f>(&'f str);

    impl<'de> Visitor<'de> for PartsVisitor<'_> {
        type Value = Parts<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an event envelope with a string `{}`", self.0)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut event_type, mut timestamp, mut data) = (None, None, None);
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == self.0 {
                    if event_type.is_some() {
                        return Err(de::Error::duplicate_field("type"));
                    }
                    event_type = Some(map.next_value::<Cow<'de, str>>()?);
                } else if key == "timestamp" {
                    if timestamp.is_some() {
                        return Err(de::Error::duplicate_field("timestamp"));
                    }
                    timestamp = Some(map.next_value::<&'de RawValue>()?);
                } else if key == "data" {
                    if data.is_some() {
                        return Err(de::Error::duplicate_field("data"));
                    }
                    data = Some(map.next_value::<&'de RawValue>()?);
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            let event_type = event_type.ok_or_else(|| de::Error::missing_field("type"))?;
            Ok(Parts {
                event_type,
                timestamp,
                data,
            })
        }
    }

    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parts = serde::Deserializer::deserialize_map(&mut deserializer, PartsVisitor(type_field))
        .and_then(|parts| deserializer.end().map(|()| parts))
        .map_err(|e| ParseError::invalid_json(&e))?;
    Ok(parts)
}

/// Parses a known event's timestamp and data, both still raw. The error says which part did
/// not fit (for the `Unparsed` variant).
///
/// # Errors
/// The part that is missing or does not fit, as text.
pub fn parse_parts<T: DeserializeOwned>(
    timestamp: Option<&RawValue>,
    data: Option<&RawValue>,
) -> Result<Envelope<T>, String> {
    let timestamp = timestamp.ok_or("missing field `timestamp`")?;
    let timestamp =
        time::serde::rfc3339::deserialize(&mut serde_json::Deserializer::from_str(timestamp.get()))
            .map_err(|e| format!("timestamp: {e}"))?;
    let data = data.ok_or("missing field `data`")?;
    let data = serde_json::from_str(data.get()).map_err(|e| format!("data: {e}"))?;
    Ok(Envelope { timestamp, data })
}

/// Writes an envelope back in its wire form, the type under the field name `type_field`.
///
/// # Errors
/// The serializer's.
pub fn serialize<S: Serializer, T: Serialize>(
    serializer: S,
    type_field: &'static str,
    event_type: &str,
    envelope: &Envelope<T>,
) -> Result<S::Ok, S::Error> {
    let mut out = serializer.serialize_struct("Envelope", 3)?;
    out.serialize_field(type_field, event_type)?;
    out.serialize_field("timestamp", &Rfc3339(&envelope.timestamp))?;
    out.serialize_field("data", &envelope.data)?;
    out.end()
}

/// Deserializes an RFC 3339 date-time.
#[derive(Debug)]
pub struct Rfc3339Time(pub OffsetDateTime);

impl<'de> serde::Deserialize<'de> for Rfc3339Time {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        time::serde::rfc3339::deserialize(deserializer).map(Self)
    }
}

/// Serializes a date-time as RFC 3339.
#[derive(Debug)]
pub struct Rfc3339<'a>(pub &'a OffsetDateTime);

impl Serialize for Rfc3339<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(self.0, serializer)
    }
}

/// Declares an event enum over the `{type, timestamp, data}` envelope: one variant per
/// documented type, plus `Unknown` and `Unparsed`, with the type constants, `from_json`, the
/// [`WebhookEvent`](crate::event::WebhookEvent) impl and serialization back to the wire form.
///
/// Parallel's and ParseFlow's models are declared with it; a provider of yours whose sender
/// uses the same envelope gets the same forward-compatibility rules (see [`crate::event`]).
/// The payload types need `Deserialize`, `Serialize`, `Debug`, `Clone` and `PartialEq`.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use webhook_guard::{envelope_events, event::WebhookEvent as _};
///
/// #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
/// pub struct OrderPaid {
///     pub order_id: String,
/// }
///
/// envelope_events! {
///     type_field: "type",
///     /// The shop's events.
///     pub enum ShopEvent {
///         /// An order was paid.
///         OrderPaid(OrderPaid) => ORDER_PAID = "order.paid",
///     }
/// }
///
/// let body = br#"{"type":"order.paid","timestamp":"2026-01-02T03:04:05Z","data":{"order_id":"o_1"}}"#;
/// let ShopEvent::OrderPaid(paid) = ShopEvent::from_json(body)? else { panic!("typed") };
/// assert_eq!(paid.data.order_id, "o_1");
/// let later = ShopEvent::from_json(br#"{"type":"order.refunded","timestamp":"2026-01-02T03:04:05Z","data":{}}"#)?;
/// assert!(matches!(later, ShopEvent::Unknown(_)) && !later.is_known());
/// let odd = ShopEvent::from_json(br#"{"type":"order.paid","timestamp":"2026-01-02T03:04:05Z","data":{"order_id":7}}"#)?;
/// assert!(matches!(odd, ShopEvent::Unparsed(_)) && odd.is_known());
/// # Ok::<(), webhook_guard::ParseError>(())
/// ```
#[macro_export]
macro_rules! envelope_events {
    (
        type_field: $type_field:literal,
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident($data:ty) => $konst:ident = $wire:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[doc = concat!("\n\nEvent type `", $wire, "`.")]
                $variant($crate::event::Envelope<$data>),
            )+
            /// An event type this version does not know.
            Unknown($crate::event::UnknownEvent),
            /// A documented event type whose payload does not fit the model.
            Unparsed($crate::event::UnparsedEvent),
        }

        impl $name {
            $(
                #[doc = concat!("The event type `", $wire, "`.")]
                pub const $konst: &'static str = $wire;
            )+

            /// Every documented event type.
            pub const TYPES: &'static [&'static str] = &[$($wire),+];

            /// Parses a body. Unknown types and payloads that do not fit the model are kept
            /// (see [`crate::event`]).
            ///
            /// # Errors
            /// [`ParseError::InvalidJson`](crate::event::ParseError::InvalidJson) if the body
            /// is not a JSON object with a string
            #[doc = concat!("`", $type_field, "`.")]
            pub fn from_json(body: &[u8]) -> Result<Self, $crate::event::ParseError> {
                // One pass straight into the typed payload when the body is the common case
                // (a known type before `data`, no escapes in keys or type); anything else, and
                // every failure, takes the general path below, which decides.
                // That pass is strict (see `event::lenient`): a sub-object that does not fit
                // fails it, and the same pass runs again leniently, keeping the sub-object
                // aside (one more read of the body, where the general path would make two).
                if let Ok(event) = $crate::event::__private::strictly(|| Self::from_json_in_one_pass(body)) {
                    return Ok(event);
                }
                if let Ok(event) = Self::from_json_in_one_pass(body) {
                    return Ok(event);
                }
                let wire = $crate::event::envelope::parts(body, $type_field)?;
                let parsed = match &*wire.event_type {
                    $(
                        $wire => $crate::event::envelope::parse_parts(wire.timestamp, wire.data)
                            .map(Self::$variant),
                    )+
                    other => {
                        return Ok(Self::Unknown($crate::event::UnknownEvent::new(
                            other,
                            $crate::event::raw_body(body)?,
                        )));
                    }
                };
                match parsed {
                    Ok(event) => Ok(event),
                    Err(error) => Ok(Self::Unparsed($crate::event::UnparsedEvent::new(
                        wire.event_type,
                        $crate::event::raw_body(body)?,
                        error,
                    ))),
                }
            }
        }

        impl $name {
            fn from_json_in_one_pass(body: &[u8]) -> Result<Self, $crate::event::__private::serde_json::Error> {
                use $crate::event::__private::serde::de::{Error as _, MapAccess};

                enum Payload {
                    $( $variant($data), )+
                }

                fn payload<'de, A: MapAccess<'de>>(
                    event_type: &str,
                    map: &mut A,
                ) -> Result<Payload, A::Error> {
                    match event_type {
                        $( $wire => map.next_value().map(Payload::$variant), )+
                        _ => Err(A::Error::custom("unknown event type")),
                    }
                }

                struct Visitor;

                impl<'de> $crate::event::__private::serde::de::Visitor<'de> for Visitor {
                    type Value = (Payload, $crate::event::OffsetDateTime);

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("an event envelope")
                    }

                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                        let mut event_type: Option<&'de str> = None;
                        let mut timestamp = None;
                        let mut data: Option<Payload> = None;
                        while let Some(key) = map.next_key::<&'de str>()? {
                            match key {
                                $type_field if event_type.is_none() => {
                                    event_type = Some(map.next_value()?);
                                }
                                "timestamp" if timestamp.is_none() => {
                                    let time: $crate::event::envelope::Rfc3339Time = map.next_value()?;
                                    timestamp = Some(time.0);
                                }
                                "data" if data.is_none() => match event_type {
                                    Some(event_type) => data = Some(payload(event_type, &mut map)?),
                                    // Data before the type: left to the general path.
                                    None => return Err(A::Error::custom("data before type")),
                                },
                                $type_field | "timestamp" | "data" => {
                                    return Err(A::Error::custom("duplicate field"));
                                }
                                _ => {
                                    map.next_value::<$crate::event::__private::serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        let timestamp = timestamp.ok_or_else(|| A::Error::missing_field("timestamp"))?;
                        let data = data.ok_or_else(|| A::Error::missing_field("data"))?;
                        Ok((data, timestamp))
                    }
                }

                let mut de = $crate::event::__private::serde_json::Deserializer::from_slice(body);
                let (data, timestamp) = $crate::event::__private::serde::Deserializer::deserialize_map(&mut de, Visitor)?;
                de.end()?;
                Ok(match data {
                    $( Payload::$variant(data) => Self::$variant($crate::event::Envelope::new(timestamp, data)), )+
                })
            }
        }

        impl $crate::event::WebhookEvent for $name {
            fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )+
                    Self::Unknown(event) => &event.event_type,
                    Self::Unparsed(event) => &event.event_type,
                }
            }

            fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        /// Writes the event in its wire form; parsing the output gives an equal event.
        impl $crate::event::__private::serde::Serialize for $name {
            fn serialize<S: $crate::event::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(
                        Self::$variant(envelope) => $crate::event::envelope::serialize(
                            serializer, $type_field, $wire, envelope,
                        ),
                    )+
                    Self::Unknown(event) => event.raw.serialize(serializer),
                    Self::Unparsed(event) => event.raw.serialize(serializer),
                }
            }
        }
    };
}
