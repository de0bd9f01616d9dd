//! An HMAC of the raw body in one header: hex or base64, optional prefix, SHA-256 or SHA-1
//! (ParseFlow, FullEnrich, GitHub).

use base64::Engine as _;

use super::{
    KeyForm, Scheme, SignedHeaders, Verified,
    mac::{self, Digest, MacKey},
    require_keys,
};
use crate::{
    ConfigError, Secret, VerifyError,
    headers::{self, HeaderName, Headers},
};

/// How the MAC is written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// Hexadecimal; either letter case is accepted, lowercase is produced.
    #[default]
    Hex,
    /// Standard base64; padding optional when verifying, produced when signing.
    Base64,
}

/// Verifier (and signer) for an HMAC of the raw body carried in one header.
///
/// ```
/// use webhook_guard::scheme::{BodyHmac, Digest, Scheme};
///
/// // FullEnrich: hex HMAC-SHA1 of the body, keyed with the API key.
/// let verifier = BodyHmac::builder().header("X-Signature-SHA1")
///     .digest(Digest::Sha1)
///     .secret("fe_test_api_key")
///     .build()?;
/// let body = br#"{"id":"00000000-0000-0000-0000-000000000000","name":"My Enrichment","status":"FINISHED","cost":{"credits":0},"data":[]}"#;
/// let headers = [("x-signature-sha1", "1534b387d4cd28356368f364629e965d6ba282e2")];
/// assert!(verifier.verify_at(&headers, body, 0).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// There is no timestamp in this scheme: a captured delivery can be replayed, and only
/// deduplication stops that.
#[derive(Debug, Clone)]
pub struct BodyHmac {
    keys: Vec<MacKey>,
    header: HeaderName,
    digest: Digest,
    encoding: Encoding,
    prefix: Option<String>,
}

/// Builder for [`BodyHmac`]: SHA-256, hex and no prefix unless told otherwise.
#[derive(Debug)]
#[must_use]
pub struct BodyHmacBuilder {
    keys: Vec<Secret>,
    header: Option<String>,
    digest: Digest,
    encoding: Encoding,
    prefix: Option<String>,
}

impl BodyHmac {
    /// HMAC-SHA256 in lowercase hex, without prefix, read from `header`, by one secret.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty secret; [`ConfigError::InvalidHeaderName`].
    pub fn new(header: impl Into<String>, secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().header(header).secret(secret).build()
    }

    /// Starts a configuration: SHA-256, hex and no prefix unless told otherwise; the header is
    /// required.
    pub fn builder() -> BodyHmacBuilder {
        BodyHmacBuilder {
            keys: Vec::new(),
            header: None,
            digest: Digest::Sha256,
            encoding: Encoding::Hex,
            prefix: None,
        }
    }

    /// The header value for `body`, signed with the first secret: the header carries one
    /// MAC, so the other secrets (kept for a rotation) cannot sign alongside it.
    #[must_use]
    pub fn sign(&self, body: &[u8]) -> String {
        let tag = self.keys[0].tag(&[body]);
        let encoded = match self.encoding {
            Encoding::Hex => hex::encode(tag.as_bytes()),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag.as_bytes()),
        };
        format!("{}{encoded}", self.prefix.as_deref().unwrap_or(""))
    }

    /// The signature header for `body`, under the configured name.
    #[must_use]
    pub fn sign_headers(&self, body: &[u8]) -> SignedHeaders {
        let mut headers = SignedHeaders::new();
        headers.insert(self.header.as_str(), self.sign(body));
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

impl Scheme for BodyHmac {
    fn verify_at(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        _now: i64,
    ) -> Result<Verified, VerifyError> {
        let value = headers::required(headers, &self.header)?.trim_ascii();
        let encoded = match &self.prefix {
            Some(prefix) => value
                .strip_prefix(prefix.as_bytes())
                .ok_or_else(|| self.malformed("the expected prefix is missing"))?,
            None => value,
        };
        let len = self.digest.output_len();
        let candidate = match self.encoding {
            Encoding::Hex => mac::decode_hex(encoded, len),
            Encoding::Base64 => match self.digest {
                Digest::Sha256 => mac::decode_base64::<32>(encoded),
                Digest::Sha1 => mac::decode_base64::<20>(encoded).map(|short| {
                    let mut out = [0; mac::MAX_TAG_LEN];
                    out[..20].copy_from_slice(&short);
                    out
                }),
            },
        }
        .ok_or_else(|| self.malformed("not a MAC of the expected length and encoding"))?;

        self.keys
            .iter()
            .position(|key| key.tag(&[body]).matches(&candidate, len))
            .map(|index| Verified {
                key_index: index,
                key_form: KeyForm::Raw,
                timestamp: None,
            })
            .ok_or(VerifyError::SignatureMismatch)
    }
}

impl BodyHmacBuilder {
    /// The header that carries the signature (required).
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.header = Some(header.into());
        self
    }

    /// Adds a secret; its bytes are the HMAC key as they are.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.keys.push(secret.into());
        self
    }

    /// Adds every secret of `secrets`, in order (the keys of a rotation).
    pub fn secrets<K: Into<Secret>>(mut self, secrets: impl IntoIterator<Item = K>) -> Self {
        self.keys.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// The hash function (default SHA-256).
    pub fn digest(mut self, digest: Digest) -> Self {
        self.digest = digest;
        self
    }

    /// How the MAC is written (default hex).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// A fixed text before the MAC, such as `sha256=`. When set, it is required.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Checks the configuration and prepares the keys.
    ///
    /// # Errors
    /// A [`ConfigError`] for an empty secret, no secret, no or an invalid header name, an
    /// invalid prefix.
    pub fn build(self) -> Result<BodyHmac, ConfigError> {
        let header = self.header.as_deref().ok_or(ConfigError::NoHeaderName)?;
        let header = HeaderName::new(header)?;
        if let Some(prefix) = &self.prefix
            && (prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError::InvalidPrefix);
        }
        let keys = require_keys(self.keys)?
            .iter()
            .map(|secret| {
                if secret.is_empty() {
                    Err(ConfigError::EmptySecret)
                } else {
                    Ok(MacKey::new(self.digest, secret.expose()))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(BodyHmac {
            keys,
            header,
            digest: self.digest,
            encoding: self.encoding,
            prefix: self.prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_prefix_is_required() {
        let verifier = BodyHmac::builder()
            .header("x-hub-signature-256")
            .prefix("sha256=")
            .secret("It's a Secret to Everybody")
            .build()
            .expect("valid");
        // GitHub's documented example.
        let body = b"Hello, World!";
        let headers = [(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )];
        assert!(verifier.verify_at(&headers, body, 0).is_ok());
        let unprefixed = [(
            "x-hub-signature-256",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )];
        assert!(matches!(
            verifier.verify_at(&unprefixed, body, 0),
            Err(VerifyError::MalformedHeader { .. })
        ));
    }

    #[test]
    fn base64_sha1_round_trip() {
        let verifier = BodyHmac::builder()
            .header("x-sig")
            .digest(Digest::Sha1)
            .encoding(Encoding::Base64)
            .secret("k")
            .build()
            .expect("valid");
        let headers = verifier.sign_headers(b"payload");
        assert_eq!(headers.get("x-sig").map(str::len), Some(28));
        assert!(verifier.verify_at(&headers, b"payload", 0).is_ok());
        assert_eq!(
            verifier.verify_at(&headers, b"payloaD", 0).err(),
            Some(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn bad_prefix_is_a_config_error() {
        for prefix in ["", "sha 256="] {
            assert_eq!(
                BodyHmac::builder()
                    .header("x")
                    .prefix(prefix)
                    .secret("k")
                    .build()
                    .err(),
                Some(ConfigError::InvalidPrefix)
            );
        }
    }
}
