//! Read-only access to request headers, whatever the HTTP framework.
//!
//! Verification needs a handful of header values as raw bytes. [`Headers`] is the one trait a
//! framework adapter implements for its own header map, so no header is ever copied. It is
//! implemented here for [`http::HeaderMap`] (axum, hyper, tower, reqwest), for arrays, slices and
//! vectors of name/value pairs, and for [`SignedHeaders`](crate::SignedHeaders).

/// What a header map holds under one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderEntry<'a> {
    /// No header of that name.
    Absent,
    /// Exactly one header of that name, with its raw value bytes.
    Single(&'a [u8]),
    /// The header appears more than once. Verification refuses to guess which one was meant.
    Repeated,
}

/// A validated header name, lowercase, parsed once when a verifier is built so that lookups in
/// an [`http::HeaderMap`] do not parse it again on every request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderName(http::HeaderName);

impl HeaderName {
    /// Checks `name` (any letter case) and keeps it in lowercase.
    ///
    /// # Errors
    /// [`ConfigError::InvalidHeaderName`](crate::ConfigError::InvalidHeaderName) if `name` is not
    /// a valid HTTP header name.
    pub fn new(name: &str) -> Result<Self, crate::ConfigError> {
        http::HeaderName::from_bytes(name.as_bytes())
            .map(Self)
            .map_err(|_| crate::ConfigError::InvalidHeaderName {
                name: name.to_owned(),
            })
    }

    /// A name known when the program is written, checked at compile time when used in a
    /// `const`: `const ID: HeaderName = HeaderName::from_static("x-job-delivery");`.
    ///
    /// # Panics
    /// If `name` is not a valid lowercase header name (at compile time in a `const`).
    #[must_use]
    pub const fn from_static(name: &'static str) -> Self {
        Self(http::HeaderName::from_static(name))
    }

    /// The name, in lowercase.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for HeaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A read-only, case-insensitive view of request headers.
///
/// Implementations must not panic on any name.
///
/// ```
/// use webhook_guard::headers::{HeaderEntry, HeaderName, Headers};
///
/// let pairs = [("Webhook-Id", "msg_1"), ("webhook-timestamp", "1614265330")];
/// let id = HeaderName::new("webhook-id")?;
/// let signature = HeaderName::new("webhook-signature")?;
/// assert_eq!(pairs.entry(&id), HeaderEntry::Single(b"msg_1"));
/// assert_eq!(pairs.entry(&signature), HeaderEntry::Absent);
/// # Ok::<(), webhook_guard::ConfigError>(())
/// ```
pub trait Headers {
    /// Looks up the header `name`; [`HeaderName::as_str`] gives it in lowercase.
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_>;

    /// Calls `visit` with every header, name and raw value, in order: what an
    /// [inbox](crate::inbox) stores with a delivery so that a worker can parse it (and a person
    /// verify it) again. The default visits none; every implementation in this project visits
    /// all, and one for a framework of your own should too.
    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        let _ = visit;
    }
}

impl Headers for http::HeaderMap {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        let mut values = self.get_all(&name.0).iter();
        match (values.next(), values.next()) {
            (None, _) => HeaderEntry::Absent,
            (Some(value), None) => HeaderEntry::Single(value.as_bytes()),
            (Some(_), Some(_)) => HeaderEntry::Repeated,
        }
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            visit(name.as_str(), value.as_bytes());
        }
    }
}

/// Visits every pair.
fn each_pair<N: AsRef<str>, V: AsRef<[u8]>>(pairs: &[(N, V)], visit: &mut dyn FnMut(&str, &[u8])) {
    for (name, value) in pairs {
        visit(name.as_ref(), value.as_ref());
    }
}

/// Finds `name` among pairs, case-insensitively, noticing repetitions.
fn entry_in_pairs<'a, N, V>(pairs: &'a [(N, V)], name: &HeaderName) -> HeaderEntry<'a>
where
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    let mut found = HeaderEntry::Absent;
    for (key, value) in pairs {
        if key.as_ref().eq_ignore_ascii_case(name.as_str()) {
            if found != HeaderEntry::Absent {
                return HeaderEntry::Repeated;
            }
            found = HeaderEntry::Single(value.as_ref());
        }
    }
    found
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        entry_in_pairs(self, name)
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        each_pair(self, visit);
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const LEN: usize> Headers for [(N, V); LEN] {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        entry_in_pairs(self, name)
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        each_pair(self, visit);
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        entry_in_pairs(self, name)
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        each_pair(self, visit);
    }
}

/// Returns the single value of a required header, or the matching verification error.
pub(crate) fn required<'a>(
    headers: &'a dyn Headers,
    name: &HeaderName,
) -> Result<&'a [u8], crate::VerifyError> {
    match headers.entry(name) {
        HeaderEntry::Single(value) => Ok(value),
        HeaderEntry::Absent => Err(crate::VerifyError::MissingHeader {
            name: name.as_str().to_owned(),
        }),
        HeaderEntry::Repeated => Err(crate::VerifyError::RepeatedHeader {
            name: name.as_str().to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(name: &str) -> HeaderName {
        HeaderName::new(name).expect("valid name")
    }

    #[test]
    fn header_map_entries() {
        let mut map = http::HeaderMap::new();
        map.insert("webhook-id", "a".parse().expect("valid value"));
        map.append("webhook-signature", "v1,x".parse().expect("valid value"));
        map.append("webhook-signature", "v1,y".parse().expect("valid value"));
        assert_eq!(map.entry(&name("Webhook-Id")), HeaderEntry::Single(b"a"));
        assert_eq!(map.entry(&name("webhook-signature")), HeaderEntry::Repeated);
        assert_eq!(map.entry(&name("missing")), HeaderEntry::Absent);
    }

    #[test]
    fn pairs_are_case_insensitive_and_notice_repeats() {
        let pairs = vec![("X-A", "1"), ("x-a", "2"), ("X-B", "3")];
        assert_eq!(pairs.entry(&name("x-a")), HeaderEntry::Repeated);
        assert_eq!(pairs.entry(&name("X-B")), HeaderEntry::Single(b"3"));
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(name("X-Hub-Signature-256").as_str(), "x-hub-signature-256");
        assert!(HeaderName::new("bad name").is_err());
        assert!(HeaderName::new("").is_err());
    }
}
