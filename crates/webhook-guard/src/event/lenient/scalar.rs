//! The lenient readers of scalars and lists: strings that take numbers, numbers that take
//! strings, flags that take `"true"`, optional values of another shape read as absent.

use std::{fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

/// An optional RFC 3339 date-time; `null` and values of any other shape or form read as
/// `None`.
///
/// # Errors
/// Only the JSON parser's.
pub fn rfc3339_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<time::OffsetDateTime>, D::Error> {
    struct Time;
    impl Clone for Time {
        fn clone(&self) -> Self {
            *self
        }
    }
    impl Copy for Time {}
    impl<'de> Visitor<'de> for Time {
        type Value = time::OffsetDateTime;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 date-time")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
                .map_err(E::custom)
        }
    }
    deserializer.deserialize_any(OrNone(Time))
}

/// An optional RFC 3339 date-time field, whole: `#[serde(default, with = "lenient::rfc3339")]`
/// reads it as [`rfc3339_or_none`] does and writes it in RFC 3339 (`null` for `None`).
pub mod rfc3339 {
    pub use super::rfc3339_or_none as deserialize;
    pub use time::serde::rfc3339::option::serialize;
}

/// A list that reads `null` as empty.
///
/// # Errors
/// The element type's, or a value that is neither a list nor `null`.
pub fn list_or_null<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string that also reads a number, as its JSON text (`10042` → `"10042"`).
///
/// # Errors
/// A value of any other shape.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(TextVisitor)
}

/// An optional string that also reads a number (as its JSON text); `null` and values of any
/// other shape read as `None`.
///
/// # Errors
/// Only the JSON parser's.
pub fn text_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_any(OrNone(TextVisitor))
}

/// An optional list of strings: each element that is not a string is kept as its JSON text
/// (so no element is lost and the others keep their places); `null` and a value that is not a
/// list read as `None`.
///
/// # Errors
/// Only the JSON parser's.
pub fn texts_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    struct Texts;

    impl<'de> Visitor<'de> for Texts {
        type Value = Option<Vec<String>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut texts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(value) = seq.next_element::<serde_json::Value>()? {
                texts.push(match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                });
            }
            Ok(Some(texts))
        }
    }

    deserializer.deserialize_any(Texts)
}

/// A number that also reads a string holding one (`"10"`), and, for an integer type, a
/// float with no fraction (`10.0`).
///
/// # Errors
/// A value of any other shape, or a number out of the type's range.
pub fn number<'de, D: Deserializer<'de>, N: Number>(deserializer: D) -> Result<N, D::Error> {
    deserializer.deserialize_any(NumberVisitor(PhantomData))
}

/// An optional number read as [`number`] does; `null` and values of any other shape read as
/// `None`.
///
/// # Errors
/// Only the JSON parser's.
pub fn number_or_none<'de, D: Deserializer<'de>, N: Number>(
    deserializer: D,
) -> Result<Option<N>, D::Error> {
    deserializer.deserialize_any(OrNone(NumberVisitor(PhantomData)))
}

/// A flag that also reads the strings `"true"` and `"false"`.
///
/// # Errors
/// A value of any other shape.
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(FlagVisitor)
}

/// An optional flag read as [`flag`] does; `null` and values of any other shape read as
/// `None`.
///
/// # Errors
/// Only the JSON parser's.
pub fn flag_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_any(OrNone(FlagVisitor))
}

/// A number type the numeric helpers read.
pub trait Number: Sized {
    /// The value of an unsigned integer, if the type holds it.
    fn from_u64(value: u64) -> Option<Self>;
    /// The value of a signed integer, if the type holds it.
    fn from_i64(value: i64) -> Option<Self>;
    /// The value of a float, if the type holds it exactly.
    fn from_f64(value: f64) -> Option<Self>;
    /// The value of a decimal text, if it is one the type holds.
    fn from_text(text: &str) -> Option<Self>;
}

macro_rules! integer {
    ($($ty:ty),+) => {$(
        impl Number for $ty {
            fn from_u64(value: u64) -> Option<Self> {
                Self::try_from(value).ok()
            }
            fn from_i64(value: i64) -> Option<Self> {
                Self::try_from(value).ok()
            }
            fn from_f64(value: f64) -> Option<Self> {
                // Integral and within ±2^53, where every integer is exact.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if value.fract() == 0.0 && value.abs() <= EXACT {
                    #[allow(clippy::cast_possible_truncation)]
                    Self::from_i64(value as i64)
                } else {
                    None
                }
            }
            fn from_text(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }
    )+};
}

integer!(u64, i64, u32, i32);

impl Number for f64 {
    #[allow(clippy::cast_precision_loss)]
    fn from_u64(value: u64) -> Option<Self> {
        Some(value as f64)
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_i64(value: i64) -> Option<Self> {
        Some(value as f64)
    }
    fn from_f64(value: f64) -> Option<Self> {
        Some(value)
    }
    fn from_text(text: &str) -> Option<Self> {
        text.parse::<f64>().ok().filter(|value| value.is_finite())
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
        Ok(
            serde_json::Number::from_f64(value)
                .map_or_else(|| value.to_string(), |n| n.to_string()),
        )
    }
}

struct NumberVisitor<N>(PhantomData<N>);

impl<'de, N: Number> Visitor<'de> for NumberVisitor<N> {
    type Value = N;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<N, E> {
        N::from_u64(value).ok_or_else(|| E::custom(format!("{value} is out of range")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<N, E> {
        N::from_i64(value).ok_or_else(|| E::custom(format!("{value} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<N, E> {
        N::from_f64(value).ok_or_else(|| E::custom(format!("{value} is not of this number type")))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<N, E> {
        N::from_text(value.trim())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
    }
}

struct FlagVisitor;

impl<'de> Visitor<'de> for FlagVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, or \"true\" or \"false\"")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
        Ok(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<bool, E> {
        match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(value), &self)),
        }
    }
}

/// Runs a scalar visitor and reads `null`, a value it refuses, a list or an object as `None`.
struct OrNone<V>(V);

impl<'de, V: Visitor<'de> + Copy> Visitor<'de> for OrNone<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(self.0.visit_bool::<E>(value).ok())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(self.0.visit_u64::<E>(value).ok())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(self.0.visit_i64::<E>(value).ok())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(self.0.visit_f64::<E>(value).ok())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(self.0.visit_str::<E>(value).ok())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl Clone for TextVisitor {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for TextVisitor {}
impl Clone for FlagVisitor {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for FlagVisitor {}
impl<N> Clone for NumberVisitor<N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<N> Copy for NumberVisitor<N> {}
