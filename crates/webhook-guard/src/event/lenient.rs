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

use std::{cell::Cell, fmt};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::value::RawValue;

use super::RawJson;

// Used by the FullEnrich model (and the tests).
#[cfg_attr(not(feature = "fullenrich"), allow(dead_code))]
mod resume;
mod scalar;

#[cfg_attr(not(feature = "fullenrich"), allow(unused_imports))]
pub(crate) use resume::{records_or_null, two_pass};
pub use scalar::{
    Number, flag, flag_or_none, list_or_null, number, number_or_none, rfc3339, rfc3339_or_none,
    text, text_or_none, texts_or_none,
};

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
        // Captured once; read strictly first (one scan of the value: a record that fits, as
        // nearly every one does, is not read leniently, which would capture each of its
        // lenient fields again), leniently only when that fails.
        let raw = RawJson::deserialize(deserializer)?;
        if let Ok(value) = strictly(|| raw.parse::<T>()) {
            return Ok(Self::Typed(value));
        }
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
    // Strictly first, as `Lenient` does: a value that fits is read once.
    if let Ok(value) = strictly(|| raw.parse::<Option<T>>()) {
        return Ok(value);
    }
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

/// Reads `raw` (the text of one JSON value) as `T`, or keeps it as a misfit.
#[cfg_attr(not(feature = "sixtyfour"), allow(dead_code))]
pub(crate) fn from_raw<T: DeserializeOwned>(raw: &RawValue) -> Lenient<T> {
    Lenient::from_json_str(raw.get())
}

#[cfg(test)]
mod tests;
