//! The `{type, timestamp, data}` envelope shared by Parallel and ParseFlow.

use serde::{Serialize, Serializer, de::DeserializeOwned, ser::SerializeStruct};
use serde_json::value::RawValue;
use time::OffsetDateTime;

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

/// Parses a known event's timestamp and data, both still raw. The error says which part did
/// not fit.
pub(crate) fn parse_parts<T: DeserializeOwned>(
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
pub(crate) fn serialize<S: Serializer, T: Serialize>(
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
pub(crate) struct Rfc3339Time(pub(crate) OffsetDateTime);

impl<'de> serde::Deserialize<'de> for Rfc3339Time {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        time::serde::rfc3339::deserialize(deserializer).map(Self)
    }
}

/// Serializes a date-time as RFC 3339.
pub(crate) struct Rfc3339<'a>(pub(crate) &'a OffsetDateTime);

impl Serialize for Rfc3339<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(self.0, serializer)
    }
}

/// Declares a provider's event enum over the `{type, timestamp, data}` envelope: one variant per
/// documented type, plus `Unknown` and `Unparsed`, with the type constants, parsing, the
/// [`WebhookEvent`](crate::event::WebhookEvent) impl and serialization back to the wire form.
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
                if let Ok(event) = Self::from_json_in_one_pass(body) {
                    return Ok(event);
                }
                #[derive(::serde::Deserialize)]
                struct Wire<'a> {
                    #[serde(rename = $type_field, borrow)]
                    event_type: ::std::borrow::Cow<'a, str>,
                    #[serde(borrow, default)]
                    timestamp: Option<&'a ::serde_json::value::RawValue>,
                    #[serde(borrow, default)]
                    data: Option<&'a ::serde_json::value::RawValue>,
                }

                let wire: Wire<'_> = ::serde_json::from_slice(body)
                    .map_err(|e| $crate::event::ParseError::invalid_json(&e))?;
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
            fn from_json_in_one_pass(body: &[u8]) -> Result<Self, ::serde_json::Error> {
                use ::serde::de::{Error as _, MapAccess};

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

                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = (Payload, ::time::OffsetDateTime);

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
                                    map.next_value::<::serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        let timestamp = timestamp.ok_or_else(|| A::Error::missing_field("timestamp"))?;
                        let data = data.ok_or_else(|| A::Error::missing_field("data"))?;
                        Ok((data, timestamp))
                    }
                }

                let mut de = ::serde_json::Deserializer::from_slice(body);
                let (data, timestamp) = ::serde::Deserializer::deserialize_map(&mut de, Visitor)?;
                de.end()?;
                Ok(match data {
                    $( Payload::$variant(data) => Self::$variant($crate::event::Envelope { timestamp, data }), )+
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
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
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
