//! `t=<unix>,v1=<hex>` signatures: HMAC-SHA256 over `t.body` (Sixtyfour, Stripe).

use std::time::Duration;

use super::{
    DEFAULT_MAX_SIGNATURES, DEFAULT_TOLERANCE, KeyForm, Scheme, SignedHeaders, Verified,
    check_limit,
    mac::{self, Digest, MacKey},
    require_keys, timestamp,
};
use crate::{
    ConfigError, Secret, VerifyError,
    headers::{self, HeaderName, Headers},
};

/// Verifier (and signer) for `t=<unix seconds>,v1=<hex>[,v1=<hex>...]` headers, where each `v1`
/// is the lowercase hex HMAC-SHA256 of `<t>.<raw body>` keyed with the secret's bytes as they are.
///
/// Several `v1` entries (a sender rotating its secret) and several receiver secrets are accepted.
/// Entries with other keys (such as Stripe's `v0`) are ignored.
///
/// ```
/// use webhook_guard::scheme::{Scheme, TimestampedHmac};
///
/// let verifier = TimestampedHmac::builder().header("Sixtyfour-Signature")
///     .secret("sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
///     .build()?;
/// let body = br#"{"task_id":"550e8400-e29b-41d4-a716-446655440000","status":"failed","task_type":"find_email","error":"Error message describing what went wrong"}"#;
/// let headers = [(
///     "sixtyfour-signature",
///     "t=1751498975,v1=61cda67a0f6fa80b6eb0610f7dd57eb25334e11dc35052df1e26197dafb9f1aa",
/// )];
/// assert!(verifier.verify_at(&headers, body, 1751498975).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TimestampedHmac {
    keys: Vec<MacKey>,
    header: HeaderName,
    tolerance: Duration,
    max_signatures: usize,
}

/// Builder for [`TimestampedHmac`].
#[derive(Debug)]
#[must_use]
pub struct TimestampedHmacBuilder {
    keys: Vec<Secret>,
    header: Option<String>,
    tolerance: Duration,
    max_signatures: usize,
}

impl TimestampedHmac {
    /// A verifier of `t=<unix>,v1=<hex>` read from `header`, by one secret, with a 300 s
    /// tolerance.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty secret; [`ConfigError::InvalidHeaderName`].
    pub fn new(header: impl Into<String>, secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().header(header).secret(secret).build()
    }

    /// Starts a configuration, with a 300 s tolerance; the header is required.
    pub fn builder() -> TimestampedHmacBuilder {
        TimestampedHmacBuilder {
            keys: Vec::new(),
            header: None,
            tolerance: DEFAULT_TOLERANCE,
            max_signatures: DEFAULT_MAX_SIGNATURES,
        }
    }

    /// The header value for a delivery: `t=<timestamp>` then one `v1=<hex>` per secret.
    #[must_use]
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let mut value = format!("t={ts}");
        for key in &self.keys {
            let tag = key.tag(&[ts.as_bytes(), b".", body]);
            value.push_str(",v1=");
            value.push_str(&hex::encode(tag.as_bytes()));
        }
        value
    }

    /// The signature header of a delivery, under the configured name.
    #[must_use]
    pub fn sign_headers(&self, timestamp: i64, body: &[u8]) -> SignedHeaders {
        let mut headers = SignedHeaders::new();
        headers.insert(self.header.as_str(), self.sign(timestamp, body));
        headers
    }

    /// The configured header name, in lowercase.
    #[must_use]
    pub fn header(&self) -> &str {
        self.header.as_str()
    }

    fn malformed(&self, reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            name: self.header.as_str().to_owned(),
            reason,
        }
    }
}

/// The `key=value` segments of a header value, surrounding blanks trimmed.
fn segments(value: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    value.split(|b| *b == b',').filter_map(|segment| {
        let segment = segment.trim_ascii();
        let eq = segment.iter().position(|b| *b == b'=')?;
        Some((&segment[..eq], &segment[eq + 1..]))
    })
}

impl Scheme for TimestampedHmac {
    fn verify_at(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let value = headers::required(headers, &self.header)?;

        let mut raw_timestamp = None;
        let mut signatures = 0usize;
        for (key, field) in segments(value) {
            match key {
                b"t" if raw_timestamp.is_some() => {
                    return Err(self.malformed("more than one t= timestamp"));
                }
                b"t" => raw_timestamp = Some(field),
                b"v1" => signatures += 1,
                _ => {}
            }
        }
        let raw_timestamp = raw_timestamp.ok_or_else(|| self.malformed("no t= timestamp"))?;
        if signatures > self.max_signatures {
            return Err(VerifyError::TooManySignatures {
                limit: self.max_signatures,
            });
        }
        let timestamp = timestamp::parse(raw_timestamp)?;
        timestamp::check(timestamp, now, self.tolerance)?;
        if signatures == 0 {
            return Err(VerifyError::NoSupportedSignature);
        }

        // Each key's MAC is computed once; the header is scanned once per key.
        for (index, key) in self.keys.iter().enumerate() {
            let tag = key.tag(&[raw_timestamp, b".", body]);
            let matched = segments(value)
                .filter(|(name, _)| *name == b"v1")
                .filter_map(|(_, field)| mac::decode_hex(field, 32))
                .any(|candidate| tag.matches(&candidate, 32));
            if matched {
                return Ok(Verified {
                    key_index: index,
                    key_form: KeyForm::Raw,
                    timestamp: Some(timestamp),
                });
            }
        }
        Err(VerifyError::SignatureMismatch)
    }
}

impl TimestampedHmacBuilder {
    /// The header that carries the signature (required).
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.header = Some(header.into());
        self
    }

    /// Adds a secret; its bytes (the whole string, prefix included) are the HMAC key.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.keys.push(secret.into());
        self
    }

    /// Adds every secret of `secrets`, in order (the keys of a rotation).
    pub fn secrets<K: Into<Secret>>(mut self, secrets: impl IntoIterator<Item = K>) -> Self {
        self.keys.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// The largest accepted distance between `t` and the receiver's clock, in either direction
    /// (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The most `v1` entries one header may carry (default 16).
    pub fn max_signatures(mut self, limit: usize) -> Self {
        self.max_signatures = limit;
        self
    }

    /// Checks the configuration and prepares the keys.
    ///
    /// # Errors
    /// A [`ConfigError`] for an empty secret, no secret, no or an invalid header name, a zero
    /// limit.
    pub fn build(self) -> Result<TimestampedHmac, ConfigError> {
        let header = self.header.as_deref().ok_or(ConfigError::NoHeaderName)?;
        let header = HeaderName::new(header)?;
        let keys = require_keys(self.keys)?
            .iter()
            .map(|secret| {
                if secret.is_empty() {
                    Err(ConfigError::EmptySecret)
                } else {
                    Ok(MacKey::new(Digest::Sha256, secret.expose()))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(TimestampedHmac {
            keys,
            header,
            tolerance: self.tolerance,
            max_signatures: check_limit(self.max_signatures)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> TimestampedHmac {
        TimestampedHmac::builder()
            .header("Stripe-Signature")
            .secret("whsec_test")
            .build()
            .expect("valid")
    }

    #[test]
    fn timestamp_may_follow_the_signatures_and_blanks_are_trimmed() {
        let verifier = verifier();
        let signed = verifier.sign(100, b"x");
        let (t, v1) = signed.split_once(',').expect("two segments");
        let reordered = format!("v0=abc, {v1} , {t}");
        let headers = [("stripe-signature", reordered.as_str())];
        assert!(verifier.verify_at(&headers, b"x", 100).is_ok());
    }

    #[test]
    fn malformed_headers() {
        let verifier = verifier();
        for (value, expected) in [
            ("v1=00", verifier.malformed("no t= timestamp")),
            (
                "t=1,t=1,v1=00",
                verifier.malformed("more than one t= timestamp"),
            ),
            ("t=1", VerifyError::NoSupportedSignature),
            ("t=1,v0=00", VerifyError::NoSupportedSignature),
            ("t=abc,v1=00", VerifyError::InvalidTimestamp),
            ("t=1,v1=", VerifyError::SignatureMismatch),
            ("", verifier.malformed("no t= timestamp")),
        ] {
            let headers = [("stripe-signature", value)];
            assert_eq!(
                verifier.verify_at(&headers, b"x", 1).err(),
                Some(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn empty_secret_is_a_config_error() {
        assert_eq!(
            TimestampedHmac::builder()
                .header("x")
                .secret("")
                .build()
                .err(),
            Some(ConfigError::EmptySecret)
        );
        assert_eq!(
            TimestampedHmac::builder().header("x").build().err(),
            Some(ConfigError::NoKeys)
        );
    }
}
