//! Standard Webhooks: `v1` (HMAC-SHA256) and `v1a` (Ed25519) over `id.timestamp.body`.

use std::time::Duration;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{
    DEFAULT_MAX_SIGNATURES, DEFAULT_TOLERANCE, KeyForm, Scheme, SignedHeaders, Verified,
    check_limit,
    mac::{self, Digest, MacKey},
    timestamp,
};
use crate::{
    ConfigError, Secret, VerifyError,
    headers::{self, HeaderName, Headers},
};

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

/// A key given to the builder, checked in [`StandardWebhooksBuilder::build`].
#[derive(Debug)]
enum PendingKey {
    Whsec(Secret),
    Raw(Secret),
    /// A form a secret cannot take.
    Unsupported(KeyForm),
    #[cfg(feature = "ed25519")]
    Public(String),
}

/// Builder for [`StandardWebhooks`]. Keys are tried in the order they are added.
#[derive(Debug)]
#[must_use]
pub struct StandardWebhooksBuilder {
    /// Each key, and whether it is another form of the key before it (one key index).
    keys: Vec<(PendingKey, bool)>,
    id_header: String,
    timestamp_header: String,
    signature_header: String,
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

    /// A verifier with one `whsec_<base64>` secret and the default settings.
    ///
    /// # Errors
    /// [`ConfigError::InvalidSecret`] or [`ConfigError::EmptySecret`] if the secret does not decode.
    pub fn new(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().secret(secret).build()
    }

    /// Starts a configuration with the standard header names, a 300 s tolerance and no keys.
    pub fn builder() -> StandardWebhooksBuilder {
        StandardWebhooksBuilder {
            keys: Vec::new(),
            id_header: Self::ID_HEADER.to_owned(),
            timestamp_header: Self::TIMESTAMP_HEADER.to_owned(),
            signature_header: Self::SIGNATURE_HEADER.to_owned(),
            tolerance: DEFAULT_TOLERANCE,
            max_signatures: DEFAULT_MAX_SIGNATURES,
        }
    }

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

impl StandardWebhooksBuilder {
    /// Adds a Standard Webhooks secret: `whsec_<base64>`, or the base64 part alone; padding is
    /// optional. The decoded bytes are the HMAC key.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.keys.push((PendingKey::Whsec(secret.into()), false));
        self
    }

    /// Adds a secret whose bytes are used as the HMAC key as they are, without decoding.
    ///
    /// This is Parallel's legacy key form: pass the whole `whsec_...` string.
    pub fn raw_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.keys.push((PendingKey::Raw(secret.into()), false));
        self
    }

    /// Adds one secret tried in each of `forms`, in order ([`KeyForm::Whsec`] as by
    /// [`secret`](Self::secret), [`KeyForm::Raw`] as by [`raw_secret`](Self::raw_secret)):
    /// one key, whichever form matches is its [`key_index`](super::Verified::key_index), and
    /// [`sign`](StandardWebhooks::sign) signs in its first form only. For a sender that has
    /// changed how it reads its secrets (Parallel). [`KeyForm::Ed25519`] is refused by
    /// [`build`](Self::build): a secret is not a public key.
    ///
    /// ```
    /// use webhook_guard::scheme::{KeyForm, Scheme, StandardWebhooks};
    ///
    /// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /// let both = StandardWebhooks::builder().secret_in_forms(secret, [KeyForm::Whsec, KeyForm::Raw]).build()?;
    /// let legacy = StandardWebhooks::builder().raw_secret(secret).build()?;
    /// let headers = legacy.sign_headers("msg_1", 1_700_000_000, b"{}")?;
    /// let verified = both.verify_at(&headers, b"{}", 1_700_000_000)?;
    /// assert_eq!((verified.key_index, verified.key_form), (0, KeyForm::Raw));
    /// // Signed in the first form: the current one.
    /// assert_eq!(both.sign("msg_1", 1_700_000_000, b"{}")?, StandardWebhooks::new(secret)?.sign("msg_1", 1_700_000_000, b"{}")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secret_in_forms(
        mut self,
        secret: impl Into<Secret>,
        forms: impl IntoIterator<Item = KeyForm>,
    ) -> Self {
        let secret = secret.into();
        for (position, form) in forms.into_iter().enumerate() {
            let key = match form {
                KeyForm::Whsec => PendingKey::Whsec(secret.clone()),
                KeyForm::Raw => PendingKey::Raw(secret.clone()),
                other => PendingKey::Unsupported(other),
            };
            self.keys.push((key, position > 0));
        }
        self
    }

    /// Adds an Ed25519 public key, `whpk_<base64 of 32 bytes>`, for `v1a` signatures (feature
    /// `ed25519`, on by default).
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn public_key(mut self, key: impl Into<String>) -> Self {
        self.keys.push((PendingKey::Public(key.into()), false));
        self
    }

    /// The largest accepted distance between the signed timestamp and the receiver's clock, in
    /// either direction (default 300 s). Whole seconds count; fractions are ignored.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The most signature entries one header may carry (default 16).
    pub fn max_signatures(mut self, limit: usize) -> Self {
        self.max_signatures = limit;
        self
    }

    /// Header names other than the standard ones, for senders that brand them (for example
    /// `svix-id`, `svix-timestamp`, `svix-signature`).
    pub fn header_names(
        mut self,
        id: impl Into<String>,
        timestamp: impl Into<String>,
        signature: impl Into<String>,
    ) -> Self {
        self.id_header = id.into();
        self.timestamp_header = timestamp.into();
        self.signature_header = signature.into();
        self
    }

    /// Checks the configuration and prepares the keys.
    ///
    /// # Errors
    /// A [`ConfigError`] for a secret that is empty or does not decode, an invalid public key, an
    /// invalid header name, a zero signature limit, or no key at all.
    pub fn build(self) -> Result<StandardWebhooks, ConfigError> {
        let mut hmac_keys = Vec::new();
        #[cfg(feature = "ed25519")]
        let mut public_keys = Vec::new();
        let mut index = 0;
        for (position, (key, same_key)) in self.keys.into_iter().enumerate() {
            if position > 0 && !same_key {
                index += 1;
            }
            match key {
                PendingKey::Unsupported(form) => {
                    return Err(ConfigError::UnsupportedKeyForm { form });
                }
                PendingKey::Whsec(secret) => {
                    let decoded = decode_whsec(&secret)?;
                    if decoded.len() < MIN_SECRET_BYTES {
                        return Err(ConfigError::InvalidSecret {
                            reason: "shorter than 16 bytes once decoded (Standard Webhooks secrets are 24 to 64 bytes)",
                        });
                    }
                    hmac_keys.push((MacKey::new(Digest::Sha256, &decoded), KeyForm::Whsec, index));
                }
                PendingKey::Raw(secret) => {
                    if secret.is_empty() {
                        return Err(ConfigError::EmptySecret);
                    }
                    let raw = secret.expose();
                    let key = raw.strip_prefix(WHSEC_PREFIX.as_bytes()).unwrap_or(raw);
                    if key.len() < MIN_SECRET_BYTES {
                        return Err(ConfigError::InvalidSecret {
                            reason: "shorter than 16 bytes (besides a whsec_ prefix)",
                        });
                    }
                    hmac_keys.push((
                        MacKey::new(Digest::Sha256, secret.expose()),
                        KeyForm::Raw,
                        index,
                    ));
                }
                #[cfg(feature = "ed25519")]
                PendingKey::Public(key) => {
                    public_keys.push((super::ed25519::parse_public_key(&key)?, index));
                }
            }
        }
        #[cfg(feature = "ed25519")]
        let no_keys = hmac_keys.is_empty() && public_keys.is_empty();
        #[cfg(not(feature = "ed25519"))]
        let no_keys = hmac_keys.is_empty();
        if no_keys {
            return Err(ConfigError::NoKeys);
        }
        Ok(StandardWebhooks {
            hmac_keys,
            #[cfg(feature = "ed25519")]
            public_keys,
            id_header: HeaderName::new(&self.id_header)?,
            timestamp_header: HeaderName::new(&self.timestamp_header)?,
            signature_header: HeaderName::new(&self.signature_header)?,
            tolerance: self.tolerance,
            max_signatures: check_limit(self.max_signatures)?,
        })
    }
}

/// Decodes `whsec_<base64>` (or the bare base64) into the HMAC key bytes.
fn decode_whsec(secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let raw = secret.expose();
    let encoded = raw.strip_prefix(WHSEC_PREFIX.as_bytes()).unwrap_or(raw);
    if encoded.is_empty() {
        return Err(ConfigError::EmptySecret);
    }
    let decoded = Zeroizing::new(mac::BASE64_LENIENT.decode(encoded).map_err(|_| {
        ConfigError::InvalidSecret {
            reason: "a whsec_ secret must be base64 after its prefix (use raw_secret for a key used as is)",
        }
    })?);
    if decoded.is_empty() {
        return Err(ConfigError::EmptySecret);
    }
    Ok(decoded)
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
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn whsec_decoding_accepts_missing_padding_and_bare_base64() {
        let padded = decode_whsec(&Secret::from("whsec_YWJjZA==")).expect("decodes");
        let unpadded = decode_whsec(&Secret::from("whsec_YWJjZA")).expect("decodes");
        let bare = decode_whsec(&Secret::from("YWJjZA==")).expect("decodes");
        assert_eq!(padded.as_slice(), b"abcd");
        assert_eq!(unpadded.as_slice(), b"abcd");
        assert_eq!(bare.as_slice(), b"abcd");
    }

    #[test]
    fn config_errors_come_at_build_time() {
        assert_eq!(
            StandardWebhooks::new("whsec_").err(),
            Some(ConfigError::EmptySecret)
        );
        assert!(matches!(
            StandardWebhooks::new("whsec_not base64!").err(),
            Some(ConfigError::InvalidSecret { .. })
        ));
        assert_eq!(
            StandardWebhooks::builder().build().err(),
            Some(ConfigError::NoKeys)
        );
        assert_eq!(
            StandardWebhooks::builder().raw_secret("").build().err(),
            Some(ConfigError::EmptySecret)
        );
        assert!(matches!(
            StandardWebhooks::builder()
                .secret(SECRET)
                .header_names("ok", "bad header", "ok2")
                .build()
                .err(),
            Some(ConfigError::InvalidHeaderName { .. })
        ));
        assert_eq!(
            StandardWebhooks::builder()
                .secret(SECRET)
                .max_signatures(0)
                .build()
                .err(),
            Some(ConfigError::InvalidSignatureLimit)
        );
    }

    #[test]
    fn entries_without_a_comma_or_of_other_versions_are_skipped() {
        let verifier = StandardWebhooks::new(SECRET).expect("valid");
        let good = verifier.sign("id", 10, b"body").expect("has hmac key");
        let header = format!("garbage v2,abc  {good}");
        let headers = [
            ("webhook-id", "id"),
            ("webhook-timestamp", "10"),
            ("webhook-signature", header.as_str()),
        ];
        assert!(verifier.verify_at(&headers, b"body", 10).is_ok());
    }

    #[test]
    fn branded_header_names() {
        let verifier = StandardWebhooks::builder()
            .secret(SECRET)
            .header_names("Svix-Id", "Svix-Timestamp", "Svix-Signature")
            .build()
            .expect("valid");
        let headers = verifier
            .sign_headers("msg", 5, b"{}")
            .expect("has hmac key");
        assert!(headers.get("svix-signature").is_some());
        assert!(verifier.verify_at(&headers, b"{}", 5).is_ok());
    }
}
