//! Secret key material that cannot leak through `Debug`, formatting or serialization.

use std::fmt;

use zeroize::Zeroizing;

/// Secret key material: a webhook signing secret, an API key used as an HMAC key, a private key seed.
///
/// The bytes are wiped from memory when the value is dropped. `Debug` prints `Secret([REDACTED])`;
/// there is deliberately no `Display`, no `Serialize` and no `PartialEq` (equality on secrets invites
/// non-constant-time comparisons).
///
/// ```
/// use webhook_guard::Secret;
///
/// let secret = Secret::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
/// assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
/// assert_eq!(secret.len(), 38);
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps the given bytes. Passing an owned `Vec<u8>` or `String` moves it without a copy.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    /// The secret bytes. Call this only where the key is fed to a cryptographic primitive.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes in the secret.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret holds no bytes (never a usable key).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value.into_bytes())
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.as_bytes())
    }
}

impl From<Vec<u8>> for Secret {
    fn from(value: Vec<u8>) -> Self {
        Self::new(value)
    }
}

impl From<&[u8]> for Secret {
    fn from(value: &[u8]) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::from("sk_whsec_very_secret_value");
        let shown = format!("{secret:?} {:?}", vec![secret.clone()]);
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn moves_owned_bytes() {
        let secret = Secret::from(String::from("abc"));
        assert_eq!(secret.expose(), b"abc");
        assert!(!secret.is_empty());
        assert!(Secret::from("").is_empty());
    }
}
