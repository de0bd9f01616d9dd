//! [`StandardWebhooksBuilder`]: the keys and settings of a [`StandardWebhooks`], checked once.

use std::time::Duration;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{MIN_SECRET_BYTES, StandardWebhooks, WHSEC_PREFIX};
use crate::{
    ConfigError, Secret,
    headers::HeaderName,
    scheme::{
        DEFAULT_MAX_SIGNATURES, DEFAULT_TOLERANCE, KeyForm, check_limit,
        mac::{self, Digest, MacKey},
    },
};

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
                    public_keys.push((crate::scheme::ed25519::parse_public_key(&key)?, index));
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
pub(super) fn decode_whsec(secret: &Secret) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
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
