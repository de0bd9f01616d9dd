//! [`KeyForm`]: the forms a secret or key comes in.

/// The form of the key that verified a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyForm {
    /// A `whsec_<base64>` secret, base64-decoded (the Standard Webhooks key form).
    Whsec,
    /// A secret used as given, its bytes as the HMAC key (raw bytes, an API key, or Parallel's
    /// legacy form where the whole `whsec_...` string is the key).
    Raw,
    /// An Ed25519 public key (`whpk_...`), Standard Webhooks `v1a`.
    Ed25519,
}
