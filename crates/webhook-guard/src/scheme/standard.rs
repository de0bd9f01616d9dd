//! Standard Webhooks: `v1` (HMAC-SHA256) and `v1a` (Ed25519) over `id.timestamp.body`.

use std::time::Duration;

use base64::Engine as _;

use super::{
    KeyForm, Scheme, SignedHeaders, Verified,
    mac::{self, MacKey},
    timestamp,
};
use crate::{
    ConfigError, VerifyError,
    headers::{self, HeaderName, Headers},
};

mod builder;

pub use builder::StandardWebhooksBuilder;

const WHSEC_PREFIX: &str = "whsec_";

/// The shortest HMAC key accepted: 16 bytes (128 bits). Standard Webhooks senders make 24 to
/// 64 random bytes; a shorter key is a typo or a placeholder, and would be guessable.
pub const MIN_SECRET_BYTES: usize = 16;

/// The most distinct `v1a` (Ed25519) signatures checked per delivery.
#[cfg(feature = "ed25519")]
const MAX_V1A_CHECKED: usize = 4;

/// Verifier (and signer) for [Standard Webhooks](https://www.standardwebhooks.com/) deliveries.
///
/// Reads `webhook-id`, `webhook-timestamp` and `webhook-signature` (names configurable), checks the
/// timestamp against the tolerance, then accepts the delivery if any `v1` entry matches any
/// configured secret, or any `v1a` entry matches any configured public key. Entries of other
/// versions are ignored.
///
/// ```
/// use webhook_guard::scheme::{Scheme, StandardWebhooks};
///
/// let verifier = StandardWebhooks::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let headers = [
///     ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
///     ("webhook-timestamp", "1614265330"),
///     ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
/// ];
/// let verified = verifier.verify_at(&headers, br#"{"test": 2432232314}"#, 1614265330)?;
/// assert_eq!(verified.timestamp, Some(1614265330));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StandardWebhooks {
    hmac_keys: Vec<(MacKey, KeyForm, usize)>,
    #[cfg(feature = "ed25519")]
    public_keys: Vec<(ed25519_dalek::VerifyingKey, usize)>,
    id_header: HeaderName,
    timestamp_header: HeaderName,
    signature_header: HeaderName,
    tolerance: Duration,
    max_signatures: usize,
}

impl StandardWebhooks {
    /// The default header carrying the message id.
    pub const ID_HEADER: &'static str = "webhook-id";
    /// The default header carrying the Unix timestamp.
    pub const TIMESTAMP_HEADER: &'static str = "webhook-timestamp";
    /// The default header carrying the signatures.
    pub const SIGNATURE_HEADER: &'static str = "webhook-signature";

    /// The configured timestamp tolerance.
    #[must_use]
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// The header that carries the message id (`webhook-id` unless configured otherwise).
    #[must_use]
    pub fn id_header(&self) -> &HeaderName {
        &self.id_header
    }

    /// The `webhook-signature` value for a delivery: one `v1,<base64>` entry per HMAC secret,
    /// separated by spaces, as a sender does during a rotation.
    ///
    /// The timestamp is written in decimal; negative values are written too (useful to test
    /// rejections) although no receiver accepts them.
    ///
    /// # Errors
    /// [`ConfigError::NoSigningKey`] if the verifier holds only public keys.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String, ConfigError> {
        if self.hmac_keys.is_empty() {
            return Err(ConfigError::NoSigningKey);
        }
        let ts = timestamp.to_string();
        // Each key in its first form (a key of several forms has them in a row).
        let mut previous = None;
        let entries: Vec<String> = self
            .hmac_keys
            .iter()
            .filter(|(_, _, index)| previous.replace(*index) != Some(*index))
            .map(|(key, _, _)| {
                let tag = key.tag(&[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                format!(
                    "v1,{}",
                    base64::engine::general_purpose::STANDARD.encode(tag.as_bytes())
                )
            })
            .collect();
        Ok(entries.join(" "))
    }

    /// The three headers of a signed delivery (see [`sign`](Self::sign)), under the configured
    /// names.
    ///
    /// # Errors
    /// [`ConfigError::NoSigningKey`] if the verifier holds only public keys.
    pub fn sign_headers(
        &self,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Result<SignedHeaders, ConfigError> {
        let signature = self.sign(id, timestamp, body)?;
        let mut headers = SignedHeaders::new();
        headers.insert(self.id_header.as_str(), id);
        headers.insert(self.timestamp_header.as_str(), timestamp.to_string());
        headers.insert(self.signature_header.as_str(), signature);
        Ok(headers)
    }

    /// The space-separated entries of a signature header, split at their first comma into
    /// `(version, encoded signature)`. Entries without a comma are skipped.
    fn entries(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
        header.split(|b| *b == b' ').filter_map(|entry| {
            let comma = entry.iter().position(|b| *b == b',')?;
            Some((&entry[..comma], &entry[comma + 1..]))
        })
    }

    /// Refuses headers with more entries than the limit. Counting spaces bounds the entries
    /// from above, so the precise count only runs for suspicious headers.
    fn check_entry_count(&self, header: &[u8]) -> Result<(), VerifyError> {
        let upper_bound = header.iter().filter(|b| **b == b' ').count() + 1;
        if upper_bound > self.max_signatures
            && header
                .split(|b| *b == b' ')
                .filter(|e| !e.is_empty())
                .count()
                > self.max_signatures
        {
            return Err(VerifyError::TooManySignatures {
                limit: self.max_signatures,
            });
        }
        Ok(())
    }

    /// Tries every `v1` entry against every HMAC key. Each key's MAC is computed at most once,
    /// and only if the header holds a `v1` entry.
    fn match_v1(&self, header: &[u8], signed: &[&[u8]; 5]) -> Outcome {
        let mut outcome = Outcome::Absent;
        for (key, form, index) in &self.hmac_keys {
            let mut tag = None;
            for (version, encoded) in Self::entries(header) {
                if version != b"v1" {
                    continue;
                }
                outcome = Outcome::Mismatch;
                let Some(candidate) = mac::decode_base64::<32>(encoded) else {
                    continue;
                };
                if tag
                    .get_or_insert_with(|| key.tag(signed))
                    .matches(&candidate, 32)
                {
                    return Outcome::Matched(*index, *form);
                }
            }
            if outcome == Outcome::Absent {
                // No v1 entry at all: the other keys would find none either.
                break;
            }
        }
        outcome
    }

    /// Without the `ed25519` feature no public key can be configured: `v1a` entries are not a
    /// version this verifier checks.
    #[cfg(not(feature = "ed25519"))]
    #[allow(clippy::unused_self)]
    fn match_v1a(&self, _header: &[u8], _signed: &[&[u8]; 5]) -> Outcome {
        Outcome::Absent
    }

    /// Tries every `v1a` entry against every public key. Without a public key, `v1a` entries
    /// are not a version this verifier checks.
    #[cfg(feature = "ed25519")]
    fn match_v1a(&self, header: &[u8], signed: &[&[u8]; 5]) -> Outcome {
        let mut outcome = Outcome::Absent;
        if self.public_keys.is_empty() {
            return outcome;
        }
        // Each check hashes the whole body with SHA-512: identical entries are checked once,
        // and at most MAX_V1A_CHECKED distinct ones per delivery (a sender signs with a few
        // keys at most; a header of many entries is an attempt to make verification costly).
        let mut checked: [[u8; 64]; MAX_V1A_CHECKED] = [[0; 64]; MAX_V1A_CHECKED];
        let mut count = 0;
        for (version, encoded) in Self::entries(header) {
            if version != b"v1a" {
                continue;
            }
            outcome = Outcome::Mismatch;
            let Some(bytes) = mac::decode_base64::<64>(encoded) else {
                continue;
            };
            if checked[..count].contains(&bytes) {
                continue;
            }
            if count == MAX_V1A_CHECKED {
                break;
            }
            checked[count] = bytes;
            count += 1;
            let signature = ed25519_dalek::Signature::from_bytes(&bytes);
            if let Some((_, index)) = self
                .public_keys
                .iter()
                .find(|(key, _)| super::ed25519::verify(key, &signature, signed))
            {
                return Outcome::Matched(*index, KeyForm::Ed25519);
            }
        }
        outcome
    }
}

/// What the entries of one signature version said about a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// No entry of that version (or no key for it).
    Absent,
    /// Entries of that version, none matching.
    Mismatch,
    /// The key at this index, of this form, matched.
    Matched(usize, KeyForm),
}

impl Scheme for StandardWebhooks {
    fn verify_at(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let id = headers::required(headers, &self.id_header)?;
        let raw_timestamp = headers::required(headers, &self.timestamp_header)?;
        let signatures = headers::required(headers, &self.signature_header)?;
        let timestamp = timestamp::parse(raw_timestamp)?;
        timestamp::check(timestamp, now, self.tolerance)?;
        self.check_entry_count(signatures)?;

        // The signed content is fed to the MAC in pieces: the body is never copied.
        let signed: [&[u8]; 5] = [id, b".", raw_timestamp, b".", body];
        let v1 = self.match_v1(signatures, &signed);
        // Ed25519 is only tried when no HMAC signature matched: it costs far more.
        let v1a = match v1 {
            Outcome::Matched(..) => Outcome::Absent,
            _ => self.match_v1a(signatures, &signed),
        };
        match (v1, v1a) {
            (Outcome::Matched(key_index, key_form), _)
            | (_, Outcome::Matched(key_index, key_form)) => Ok(Verified {
                key_index,
                key_form,
                timestamp: Some(timestamp),
            }),
            (Outcome::Absent, Outcome::Absent) => Err(VerifyError::NoSupportedSignature),
            _ => Err(VerifyError::SignatureMismatch),
        }
    }
}

/// Signing a whole delivery with an Ed25519 key needs this scheme's header names.
#[cfg(feature = "ed25519")]
impl super::Ed25519SigningKey {
    /// The three standard headers of a delivery signed with this key.
    #[must_use]
    pub fn sign_headers(&self, id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
        let mut headers = SignedHeaders::new();
        headers.insert(StandardWebhooks::ID_HEADER, id);
        headers.insert(StandardWebhooks::TIMESTAMP_HEADER, timestamp.to_string());
        headers.insert(
            StandardWebhooks::SIGNATURE_HEADER,
            self.sign(id, timestamp, body),
        );
        headers
    }
}

#[cfg(test)]
mod tests;
