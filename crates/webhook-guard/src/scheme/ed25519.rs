//! Ed25519 keys for Standard Webhooks `v1a`: `whpk_` public keys and `whsk_` signing keys.

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use super::mac;
use crate::ConfigError;

const PUBLIC_PREFIX: &str = "whpk_";
const SECRET_PREFIX: &str = "whsk_";

/// Parses `whpk_<base64 of 32 bytes>` (or the bare base64), refusing weak (small-order) keys.
pub(super) fn parse_public_key(key: &str) -> Result<VerifyingKey, ConfigError> {
    let encoded = key.strip_prefix(PUBLIC_PREFIX).unwrap_or(key);
    let bytes =
        mac::decode_base64::<32>(encoded.as_bytes()).ok_or(ConfigError::InvalidPublicKey {
            reason: "expected whpk_ followed by the base64 of 32 bytes",
        })?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| ConfigError::InvalidPublicKey {
        reason: "not a point on the Ed25519 curve",
    })?;
    if key.is_weak() {
        return Err(ConfigError::InvalidPublicKey {
            reason: "a weak (small-order) key accepts forged signatures",
        });
    }
    Ok(key)
}

/// Verifies an Ed25519 signature over the concatenation of `parts`, streaming them into the hash
/// so the body is not copied.
pub(super) fn verify(
    key: &VerifyingKey,
    signature: &ed25519_dalek::Signature,
    parts: &[&[u8]],
) -> bool {
    let Ok(mut stream) = key.verify_stream(signature) else {
        return false;
    };
    for part in parts {
        stream.update(part);
    }
    stream.finalize_and_verify().is_ok()
}

/// An Ed25519 signing key for Standard Webhooks `v1a`: what a sender holds.
///
/// ```
/// use webhook_guard::scheme::{Ed25519SigningKey, Scheme, StandardWebhooks};
///
/// let signing = Ed25519SigningKey::from_seed([7; 32]);
/// let verifier = StandardWebhooks::builder().public_key(signing.public_key()).build()?;
/// let headers = signing.sign_headers("msg_1", 1700000000, b"{}");
/// assert!(verifier.verify_at(&headers, b"{}", 1700000000).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Ed25519SigningKey(SigningKey);

impl Ed25519SigningKey {
    /// A key from its 32-byte seed.
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let seed = Zeroizing::new(seed);
        Self(SigningKey::from_bytes(&seed))
    }

    /// A key from `whsk_<base64 of the 32-byte seed>`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidSecret`] if the text is not of that form.
    pub fn from_whsk(key: &str) -> Result<Self, ConfigError> {
        let encoded = key.strip_prefix(SECRET_PREFIX).unwrap_or(key);
        let seed = Zeroizing::new(mac::decode_base64::<32>(encoded.as_bytes()).ok_or(
            ConfigError::InvalidSecret {
                reason: "expected whsk_ followed by the base64 of a 32-byte seed",
            },
        )?);
        Ok(Self::from_seed(*seed))
    }

    /// The matching public key, as `whpk_<base64>`, to configure on the receiver.
    #[must_use]
    pub fn public_key(&self) -> String {
        format!(
            "{PUBLIC_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(self.0.verifying_key().as_bytes())
        )
    }

    /// The `webhook-signature` entry `v1a,<base64>` for a delivery.
    #[must_use]
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let mut message = Vec::with_capacity(id.len() + ts.len() + body.len() + 2);
        for part in [id.as_bytes(), b".", ts.as_bytes(), b".", body] {
            message.extend_from_slice(part);
        }
        let signature = self.0.sign(&message);
        format!(
            "v1a,{}",
            base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
        )
    }
}

impl std::fmt::Debug for Ed25519SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ed25519SigningKey")
            .field(&self.public_key())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whsk_round_trip_and_public_key_parse() {
        let seed = [3u8; 32];
        let encoded = format!(
            "whsk_{}",
            base64::engine::general_purpose::STANDARD.encode(seed)
        );
        let key = Ed25519SigningKey::from_whsk(&encoded).expect("valid seed");
        let public = parse_public_key(&key.public_key()).expect("valid public key");
        assert_eq!(public, SigningKey::from_bytes(&seed).verifying_key());
        assert!(!format!("{key:?}").contains(&encoded[5..]));
    }

    #[test]
    fn bad_keys_are_config_errors() {
        assert!(Ed25519SigningKey::from_whsk("whsk_short").is_err());
        assert!(parse_public_key("whpk_").is_err());
        assert!(parse_public_key("whpk_AAAA").is_err());
        // The identity point is a weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = format!(
            "whpk_{}",
            base64::engine::general_purpose::STANDARD.encode(identity)
        );
        assert!(matches!(
            parse_public_key(&weak),
            Err(ConfigError::InvalidPublicKey { .. })
        ));
    }
}
