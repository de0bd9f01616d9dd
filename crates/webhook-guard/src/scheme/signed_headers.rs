//! The headers a sender attaches to a signed delivery.

use crate::headers::{HeaderEntry, HeaderName, Headers};

/// Headers produced by signing a delivery: what a sender would attach to the request.
///
/// Used by tests, by the CLI and by anyone sending webhooks. It implements [`Headers`], so a
/// signed delivery can be verified directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedHeaders {
    entries: Vec<(String, String)>,
}

impl SignedHeaders {
    /// No headers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing any previous value of that name.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .entries
            .iter_mut()
            .find(|(key, _)| key.eq_ignore_ascii_case(&name))
        {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// These headers and `name` set to `value`, as [`insert`](Self::insert) sets it.
    ///
    /// ```
    /// use webhook_guard::SignedHeaders;
    ///
    /// let headers = SignedHeaders::new().with("x-delivery", "d-1").with("X-Delivery", "d-2");
    /// assert_eq!(headers.get("x-delivery"), Some("d-2"));
    /// ```
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    /// Removes `name` (compared case-insensitively) and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let index = self
            .entries
            .iter()
            .position(|(key, _)| key.eq_ignore_ascii_case(name))?;
        Some(self.entries.remove(index).1)
    }

    /// The value of `name`, compared case-insensitively.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The headers, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Converts to an [`http::HeaderMap`], skipping any pair that is not a valid header (for
    /// example an id with a line break in it).
    #[must_use]
    pub fn to_header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(self.entries.len());
        for (name, value) in &self.entries {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        map
    }
}

impl Headers for SignedHeaders {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        match self.get(name.as_str()) {
            Some(value) => HeaderEntry::Single(value.as_bytes()),
            None => HeaderEntry::Absent,
        }
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.iter() {
            visit(name, value.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replaces_case_insensitively() {
        let mut headers = SignedHeaders::new();
        headers.insert("Webhook-Id", "a");
        headers.insert("webhook-id", "b");
        assert_eq!(headers.get("WEBHOOK-ID"), Some("b"));
        assert_eq!(headers.iter().count(), 1);
        let id = HeaderName::new("webhook-id").expect("valid name");
        assert_eq!(headers.entry(&id), HeaderEntry::Single(b"b"));
        let map = headers.to_header_map();
        assert_eq!(map.get("webhook-id").map(|v| v.as_bytes()), Some(&b"b"[..]));
    }

    #[test]
    fn invalid_pairs_are_skipped_in_header_map() {
        let mut headers = SignedHeaders::new();
        headers.insert("x-ok", "1");
        headers.insert("x-bad", "line\nbreak");
        assert_eq!(headers.to_header_map().len(), 1);
    }
}
