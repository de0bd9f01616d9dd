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

/// A read-only, case-insensitive view of request headers.
///
/// `name` is always passed in lowercase ASCII. Implementations must not panic on any name.
///
/// ```
/// use webhook_guard::headers::{HeaderEntry, Headers};
///
/// let pairs = [("Webhook-Id", "msg_1"), ("webhook-timestamp", "1614265330")];
/// assert_eq!(pairs.entry("webhook-id"), HeaderEntry::Single(b"msg_1"));
/// assert_eq!(pairs.entry("webhook-signature"), HeaderEntry::Absent);
/// ```
pub trait Headers {
    /// Looks up the header `name` (lowercase).
    fn entry(&self, name: &str) -> HeaderEntry<'_>;
}

impl Headers for http::HeaderMap {
    fn entry(&self, name: &str) -> HeaderEntry<'_> {
        let mut values = self.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => HeaderEntry::Absent,
            (Some(value), None) => HeaderEntry::Single(value.as_bytes()),
            (Some(_), Some(_)) => HeaderEntry::Repeated,
        }
    }
}

/// Finds `name` among pairs, case-insensitively, noticing repetitions.
fn entry_in_pairs<'a, N, V>(pairs: &'a [(N, V)], name: &str) -> HeaderEntry<'a>
where
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    let mut found = HeaderEntry::Absent;
    for (key, value) in pairs {
        if key.as_ref().eq_ignore_ascii_case(name) {
            if found != HeaderEntry::Absent {
                return HeaderEntry::Repeated;
            }
            found = HeaderEntry::Single(value.as_ref());
        }
    }
    found
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn entry(&self, name: &str) -> HeaderEntry<'_> {
        entry_in_pairs(self, name)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const LEN: usize> Headers for [(N, V); LEN] {
    fn entry(&self, name: &str) -> HeaderEntry<'_> {
        entry_in_pairs(self, name)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn entry(&self, name: &str) -> HeaderEntry<'_> {
        entry_in_pairs(self, name)
    }
}

/// Returns the single value of a required header, or the matching verification error.
pub(crate) fn required<'a>(
    headers: &'a dyn Headers,
    name: &str,
) -> Result<&'a [u8], crate::VerifyError> {
    match headers.entry(name) {
        HeaderEntry::Single(value) => Ok(value),
        HeaderEntry::Absent => Err(crate::VerifyError::MissingHeader {
            name: name.to_owned(),
        }),
        HeaderEntry::Repeated => Err(crate::VerifyError::RepeatedHeader {
            name: name.to_owned(),
        }),
    }
}

/// Checks a configured header name once, when a verifier is built, and returns it in lowercase.
pub(crate) fn normalize_name(name: &str) -> Result<String, crate::ConfigError> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(crate::ConfigError::InvalidHeaderName {
            name: name.to_owned(),
        });
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_map_entries() {
        let mut map = http::HeaderMap::new();
        map.insert("webhook-id", "a".parse().expect("valid value"));
        map.append("webhook-signature", "v1,x".parse().expect("valid value"));
        map.append("webhook-signature", "v1,y".parse().expect("valid value"));
        assert_eq!(map.entry("webhook-id"), HeaderEntry::Single(b"a"));
        assert_eq!(map.entry("webhook-signature"), HeaderEntry::Repeated);
        assert_eq!(map.entry("missing"), HeaderEntry::Absent);
        assert_eq!(map.entry("not a header name"), HeaderEntry::Absent);
    }

    #[test]
    fn pairs_are_case_insensitive_and_notice_repeats() {
        let pairs = vec![("X-A", "1"), ("x-a", "2"), ("X-B", "3")];
        assert_eq!(pairs.entry("x-a"), HeaderEntry::Repeated);
        assert_eq!(pairs.entry("x-b"), HeaderEntry::Single(b"3"));
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(normalize_name("X-Hub-Signature-256").as_deref(), Ok("x-hub-signature-256"));
        assert!(normalize_name("bad name").is_err());
        assert!(normalize_name("").is_err());
    }
}
