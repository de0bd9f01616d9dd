//! Raw JSON kept as text: what the forward-compatibility variants carry.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::value::RawValue;

/// A JSON value kept exactly as it was sent, unparsed.
///
/// Two `RawJson` are equal when their texts are equal. Serializing one writes the text back
/// unchanged.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Checks that `text` is one JSON value and keeps it.
    ///
    /// # Errors
    /// The JSON parser's error if `text` is not exactly one JSON value.
    pub fn from_string(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(Self)
    }

    /// The JSON `null`.
    #[must_use]
    pub fn null() -> Self {
        Self(RawValue::NULL.to_owned())
    }

    /// The JSON text.
    #[must_use]
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into any type, for instance [`serde_json::Value`] or your own model.
    ///
    /// # Errors
    /// The JSON parser's error if the text does not fit `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// Parses the text into a [`serde_json::Value`].
    #[must_use]
    pub fn to_value(&self) -> serde_json::Value {
        // The text was checked to be JSON when it was stored; nesting deeper than the parser's
        // recursion limit is the only way back to an error, and it maps to Null.
        self.parse().unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawJson").field(&self.get()).finish()
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self)
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_and_compares_by_text() {
        let a: RawJson = serde_json::from_str(r#" {"b": 1,  "a": [true]} "#).expect("json");
        assert_eq!(a.get(), r#"{"b": 1,  "a": [true]}"#);
        let b = RawJson::from_string(r#"{"b": 1,  "a": [true]}"#.to_owned()).expect("json");
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).expect("ser"), a.get());
        assert_eq!(a.to_value()["a"][0], serde_json::Value::Bool(true));
        assert!(RawJson::from_string("{".to_owned()).is_err());
    }
}
