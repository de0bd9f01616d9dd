//! Payloads whose shape the provider does not document.

use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

use super::RawJson;

/// A payload whose shape the provider does not document: the fields seen in practice, typed
/// and all optional, plus the whole object as sent.
///
/// Dereferences to the typed fields. Serializes as the raw object, so nothing is lost.
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

impl<'de, T: DeserializeOwned> Deserialize<'de> for Undocumented<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(deserializer)?;
        let fields = raw.parse().map_err(serde::de::Error::custom)?;
        Ok(Self { fields, raw })
    }
}
