//! Reading payloads that differ from their model in small places without losing the rest.
//!
//! A real delivery sometimes differs from the documentation in one place: a number sent as a
//! string, a `null` where a list was promised, one record of a batch with an odd field. The
//! models bend there instead of breaking:
//!
//! - **[`Lenient<T>`]** holds a sub-object — a job's result, an extracted document, one record
//!   of a batch, one candidate's output entry — typed when it fits `T`, and otherwise as a
//!   [`Misfit`]: the raw JSON exactly as sent and the reason. Nothing around it is affected.
//! - **Scalars read their lossless alternatives**: a string field takes a number (its JSON
//!   text: `10042` reads as `"10042"`), a number field a string holding a number (`"10"`), a
//!   flag `"true"` and `"false"`; every `wire_enum!` enum keeps a value of any scalar shape in
//!   its `Other` variant.
//! - **Optional fields read a value of another shape as absent** ([`or_none`], [`text_or_none`],
//!   …). The models use this where the docs are silent (undocumented payloads) or promise
//!   little; the value is still in the raw JSON kept beside them.
//!
//! The helpers are public for your own models (`#[serde(deserialize_with = "…")]`).
//!
//! ```
//! use serde::Deserialize;
//! use webhook_guard::event::lenient::{self, Lenient};
//!
//! #[derive(Debug, Deserialize)]
//! struct Line {
//!     #[serde(deserialize_with = "lenient::text")]
//!     sku: String,
//!     #[serde(default, deserialize_with = "lenient::number_or_none")]
//!     quantity: Option<f64>,
//! }
//!
//! #[derive(Debug, Deserialize)]
//! struct Order {
//!     lines: Vec<Lenient<Line>>,
//! }
//!
//! let order: Order = serde_json::from_str(
//!     r#"{"lines":[{"sku":1042,"quantity":"3"},{"sku":{"odd":true}},{"sku":"b-7"}]}"#,
//! )?;
//! let first = order.lines[0].typed().expect("fits");
//! assert_eq!((first.sku.as_str(), first.quantity), ("1042", Some(3.0)));
//! let odd = order.lines[1].misfit().expect("does not fit");
//! assert_eq!(odd.raw.get(), r#"{"sku":{"odd":true}}"#);
//! assert!(order.lines[2].is_typed());
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # How it stays fast
//!
//! serde reads a value once and cannot step back, so trying a sub-object and keeping its raw
//! text on failure means reading it twice. The providers' `from_json` first read the whole body
//! in one pass with every `Lenient` and `or_none` strict ([`strictly`]); only a body that fails
//! somewhere is read again, leniently, from the start. A body that fits costs one pass, as
//! before; one that bends costs two or three.

use std::{cell::Cell, fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::value::RawValue;

use super::RawJson;

/// A sub-object typed when it fits `T`, kept raw with the reason when it does not.
///
/// Serializes as `T`, or as the raw JSON for a misfit, so writing an event back gives what was
/// sent at that place.
#[derive(Debug, Clone, PartialEq)]
pub enum Lenient<T> {
    /// The value fits the model.
    Typed(T),
    /// The value does not fit the model: kept as sent, with the reason.
    Misfit(Misfit),
}

/// A value that does not fit its model, exactly as sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Misfit {
    /// The value as sent (JSON whitespace outside it aside).
    pub raw: RawJson,
    /// Why it does not fit, with the path of the field inside it when known.
    pub error: String,
}

impl Misfit {
    /// A misfit of `raw`, for `reason`.
    pub fn new(raw: RawJson, reason: impl fmt::Display) -> Self {
        Self {
            raw,
            error: reason.to_string(),
        }
    }
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "does not fit the model: {}", self.error)
    }
}

impl<T> Lenient<T> {
    /// The typed value, if it fits.
    #[must_use]
    pub fn typed(&self) -> Option<&T> {
        match self {
            Self::Typed(value) => Some(value),
            Self::Misfit(_) => None,
        }
    }

    /// The typed value, mutably, if it fits.
    #[must_use]
    pub fn typed_mut(&mut self) -> Option<&mut T> {
        match self {
            Self::Typed(value) => Some(value),
            Self::Misfit(_) => None,
        }
    }

    /// The typed value, if it fits.
    #[must_use]
    pub fn into_typed(self) -> Option<T> {
        match self {
            Self::Typed(value) => Some(value),
            Self::Misfit(_) => None,
        }
    }

    /// The misfit, if the value does not fit.
    #[must_use]
    pub fn misfit(&self) -> Option<&Misfit> {
        match self {
            Self::Typed(_) => None,
            Self::Misfit(misfit) => Some(misfit),
        }
    }

    /// `true` when the value fits the model.
    #[must_use]
    pub fn is_typed(&self) -> bool {
        matches!(self, Self::Typed(_))
    }

    /// Reads `T` from JSON text, keeping the text as a misfit when it does not fit (or is not
    /// JSON at all: then the misfit's raw is the JSON string of the text).
    #[must_use]
    pub fn from_json_str(text: &str) -> Self
    where
        T: DeserializeOwned,
    {
        if let Ok(value) = strictly(|| serde_json::from_str::<T>(text)) {
            return Self::Typed(value);
        }
        match serde_json::from_str::<T>(text) {
            Ok(value) => Self::Typed(value),
            Err(error) => {
                let raw = RawJson::from_string(text.to_owned())
                    .or_else(|_| RawJson::from_string(serde_json::Value::from(text).to_string()));
                match raw {
                    Ok(raw) => Self::Misfit(Misfit::new(raw, error)),
                    // A JSON string of any text is JSON; nothing reaches this.
                    Err(_) => Self::Misfit(Misfit::new(RawJson::null(), error)),
                }
            }
        }
    }
}

impl<T> From<T> for Lenient<T> {
    fn from(value: T) -> Self {
        Self::Typed(value)
    }
}

impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Typed(value) => value.serialize(serializer),
            Self::Misfit(misfit) => misfit.raw.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if is_strict() {
            return T::deserialize(deserializer).map(Self::Typed);
        }
        let raw = RawJson::deserialize(deserializer)?;
        Ok(match raw.parse::<T>() {
            Ok(value) => Self::Typed(value),
            Err(error) => Self::Misfit(Misfit::new(raw, error)),
        })
    }
}

thread_local! {
    /// Set while [`strictly`] runs on this thread.
    static STRICT: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn is_strict() -> bool {
    STRICT.with(Cell::get)
}

/// Runs `parse` with every [`Lenient`] and [`or_none`] strict: a value that does not fit fails
/// the whole parse instead of being kept aside. For a first pass over a body that is then read
/// again without `strictly` only if it failed (see the [module docs](self)).
pub fn strictly<R>(parse: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STRICT.with(|strict| strict.set(self.0));
        }
    }
    let _restore = Restore(STRICT.with(|strict| strict.replace(true)));
    parse()
}

/// An optional value that reads as `None` when it does not fit `T` (the value is skipped).
///
/// For `#[serde(default, deserialize_with = "webhook_guard::event::lenient::or_none")]` in
/// models read by serde_json from text or bytes (the value is kept as raw text for the second
/// try, which only serde_json's own deserializer can give).
///
/// # Errors
/// Only the JSON parser's, for a body that is not JSON.
pub fn or_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    if is_strict() {
        return Option::<T>::deserialize(deserializer);
    }
    let raw = RawJson::deserialize(deserializer)?;
    Ok(raw.parse::<Option<T>>().unwrap_or(None))
}

/// A value that reads as `T::default()` when it is `null` or does not fit `T`, as [`or_none`]
/// reads it.
///
/// # Errors
/// Only the JSON parser's.
pub fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(or_none(deserializer)?.unwrap_or_default())
}

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

/// Reads `raw` (the text of one JSON value) as `T`, or keeps it as a misfit.
#[cfg_attr(not(feature = "sixtyfour"), allow(dead_code))]
pub(crate) fn from_raw<T: DeserializeOwned>(raw: &RawValue) -> Lenient<T> {
    Lenient::from_json_str(raw.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Item {
        #[serde(deserialize_with = "text")]
        id: String,
        #[serde(default, deserialize_with = "number_or_none")]
        count: Option<u64>,
        #[serde(default, deserialize_with = "flag_or_none")]
        on: Option<bool>,
        #[serde(default, deserialize_with = "text_or_none")]
        note: Option<String>,
        #[serde(default, deserialize_with = "list_or_null")]
        tags: Vec<String>,
    }

    #[test]
    fn scalars_read_their_lossless_alternatives() {
        let item: Item =
            serde_json::from_str(r#"{"id":10042,"count":"7","on":"true","note":3.5,"tags":null}"#)
                .expect("fits");
        assert_eq!(
            item,
            Item {
                id: "10042".into(),
                count: Some(7),
                on: Some(true),
                note: Some("3.5".into()),
                tags: vec![],
            }
        );
        let odd: Item =
            serde_json::from_str(r#"{"id":"a","count":{"x":[1]},"on":[true],"note":{"n":1}}"#)
                .expect("optional misfits read as absent");
        assert_eq!((odd.count, odd.on, odd.note), (None, None, None));
        let float: Item = serde_json::from_str(r#"{"id":"a","count":7.0}"#).expect("integral");
        assert_eq!(float.count, Some(7));
        for bad in [r#"{"id":"a","count":7.5}"#, r#"{"id":"a","count":-1}"#] {
            let item: Item = serde_json::from_str(bad).expect("absent");
            assert_eq!(item.count, None, "{bad}");
        }
        assert!(serde_json::from_str::<Item>(r#"{"id":{"a":1}}"#).is_err());
        assert!(serde_json::from_str::<Item>(r#"{"id":null}"#).is_err());
    }

    #[test]
    fn a_misfit_keeps_its_text_and_reason_and_strict_mode_fails_instead() {
        let list: Vec<Lenient<Item>> =
            serde_json::from_str(r#"[{"id":"a"}, {"id": [1, 2]}, 5]"#).expect("a list");
        assert_eq!(list[0].typed().map(|i| i.id.as_str()), Some("a"));
        let misfit = list[1].misfit().expect("misfit");
        assert_eq!(misfit.raw.get(), r#"{"id": [1, 2]}"#);
        assert!(
            misfit.error.contains("string or a number"),
            "{}",
            misfit.error
        );
        assert_eq!(list[2].misfit().map(|m| m.raw.get()), Some("5"));
        assert_eq!(
            serde_json::to_string(&list[1]).expect("ser"),
            r#"{"id": [1, 2]}"#
        );
        assert!(
            strictly(|| serde_json::from_str::<Vec<Lenient<Item>>>(r#"[{"id":"a"}, 5]"#)).is_err()
        );
        // The mode is restored afterwards, also after a panic inside.
        assert!(!is_strict());
        let _ = std::panic::catch_unwind(|| strictly(|| panic!("inside")));
        assert!(!is_strict());
    }

    #[test]
    fn or_none_reads_a_misfit_as_absent() {
        #[derive(Deserialize)]
        struct Outer {
            #[serde(default, deserialize_with = "or_none")]
            item: Option<Item>,
            #[serde(default, deserialize_with = "or_none")]
            other: Option<Item>,
        }
        let outer: Outer =
            serde_json::from_str(r#"{"item":"x","other":{"id":"b"}}"#).expect("fits");
        assert!(outer.item.is_none());
        assert_eq!(outer.other.map(|i| i.id), Some("b".to_owned()));
        assert!(strictly(|| serde_json::from_str::<Outer>(r#"{"item":"x"}"#)).is_err());
    }

    #[test]
    fn from_json_str_types_or_keeps() {
        assert!(Lenient::<Item>::from_json_str(r#"{"id":"a"}"#).is_typed());
        let kept = Lenient::<Item>::from_json_str(r#"{"id":true}"#);
        assert_eq!(kept.misfit().map(|m| m.raw.get()), Some(r#"{"id":true}"#));
    }
}
