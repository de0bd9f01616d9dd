//! Payloads whose shape the provider does not document.

use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

use super::RawJson;

/// A payload whose shape the provider does not document: the fields seen in practice, typed
/// and all optional, plus the whole object as sent.
///
/// Dereferences to the typed fields. Serializes as the raw object, so nothing is lost. It never
/// fails: a field of another shape than guessed reads as absent (the models read every guessed
/// field with the [`lenient`](super::lenient) helpers), and a payload that is not an object at
/// all gives the default fields, the raw value kept as sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Undocumented<T> {
    /// The fields seen in practice.
    pub fields: T,
    /// The whole object as sent.
    pub raw: RawJson,
}

impl<T> Deref for Undocumented<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.fields
    }
}

impl<T> Serialize for Undocumented<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned + Default> Deserialize<'de> for Undocumented<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(deserializer)?;
        let fields = match raw.parse() {
            Ok(fields) => fields,
            // A strict first pass hands the body to the lenient one.
            Err(error) if super::lenient::is_strict() => {
                return Err(serde::de::Error::custom(error));
            }
            Err(_) => T::default(),
        };
        Ok(Self { fields, raw })
    }
}
