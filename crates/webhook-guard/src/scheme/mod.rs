//! Signature schemes: how a sender signs a delivery and how the receiver checks it.
//!
//! | scheme | used by | signed content | header |
//! |---|---|---|---|
//! | [`StandardWebhooks`] `v1` | Parallel, Svix, any Standard Webhooks sender | `id.timestamp.body`, HMAC-SHA256, base64 | `webhook-signature: v1,<b64> ...` |
//! | [`StandardWebhooks`] `v1a` | Standard Webhooks senders with asymmetric keys | `id.timestamp.body`, Ed25519, base64 | `webhook-signature: v1a,<b64> ...` |
//! | [`TimestampedHmac`] | Sixtyfour, Stripe | `t.body`, HMAC-SHA256, hex | `t=<unix>,v1=<hex>[,v1=...]` |
//! | [`BodyHmac`] | ParseFlow, FullEnrich, GitHub | body, HMAC-SHA256 or -SHA1, hex or base64 | `[prefix]<sig>` |
//!
//! Every scheme:
//! - verifies the raw body bytes as received (no UTF-8 requirement, no re-serialization, no copy);
//! - compares MACs in constant time on decoded, fixed-length bytes;
//! - accepts several signatures in one header and several keys on the receiver (rotation);
//! - takes the current time as an argument in [`Scheme::verify_at`], so tests never need a clock.

mod body_hmac;
#[cfg(feature = "ed25519")]
mod ed25519;
mod key_form;
mod mac;
mod signed_headers;
mod standard;
mod timestamp;
mod timestamped;

use std::time::Duration;

use web_time::{SystemTime, UNIX_EPOCH};

pub use body_hmac::{BodyHmac, BodyHmacBuilder, Encoding};
#[cfg(feature = "ed25519")]
#[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
pub use ed25519::Ed25519SigningKey;
pub use key_form::KeyForm;
pub use mac::Digest;
pub use signed_headers::SignedHeaders;
pub use standard::{MIN_SECRET_BYTES, StandardWebhooks, StandardWebhooksBuilder};
pub use timestamped::{TimestampedHmac, TimestampedHmacBuilder};

use crate::{VerifyError, headers::Headers};

/// The tolerance between a delivery's timestamp and the receiver's clock, unless configured
/// otherwise: 300 seconds in both directions, as in the Standard Webhooks libraries.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The most signatures one header may carry, unless configured otherwise. Senders put one per
/// active secret (two during a rotation); more than this is treated as an attack.
pub const DEFAULT_MAX_SIGNATURES: usize = 16;

/// A signature construction that can check a delivery.
///
/// Object safe: a receiver can hold a `Box<dyn Scheme>`.
pub trait Scheme: Send + Sync + std::fmt::Debug {
    /// Verifies a delivery against the time `now`, in Unix seconds.
    ///
    /// `body` is the raw request body exactly as received.
    ///
    /// # Errors
    /// A [`VerifyError`] saying precisely why the delivery was rejected.
    fn verify_at(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError>;

    /// Verifies a delivery against the system clock.
    ///
    /// # Errors
    /// As [`verify_at`](Self::verify_at).
    fn verify(&self, headers: &dyn Headers, body: &[u8]) -> Result<Verified, VerifyError> {
        self.verify_at(headers, body, unix_now())
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The position of the matching key, in the order the keys were added to the verifier.
    pub key_index: usize,
    /// The form of the matching key.
    pub key_form: KeyForm,
    /// The signed timestamp, in Unix seconds, for schemes that sign one.
    pub timestamp: Option<i64>,
}

impl Verified {
    /// A verification result: for a [`Scheme`] implemented outside this crate, and for tests.
    ///
    /// ```
    /// use webhook_guard::scheme::{KeyForm, Verified};
    ///
    /// let verified = Verified::new(0, KeyForm::Raw, Some(1_700_000_000));
    /// assert_eq!(verified.timestamp, Some(1_700_000_000));
    /// ```
    #[must_use]
    pub fn new(key_index: usize, key_form: KeyForm, timestamp: Option<i64>) -> Self {
        Self {
            key_index,
            key_form,
            timestamp,
        }
    }
}

/// The current system time in Unix seconds (negative before 1970, which no test relies on).
#[must_use]
pub fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Validates a configured signature limit.
fn check_limit(limit: usize) -> Result<usize, crate::ConfigError> {
    if limit == 0 {
        Err(crate::ConfigError::InvalidSignatureLimit)
    } else {
        Ok(limit)
    }
}

/// Validates that a scheme has at least one key.
fn require_keys<T>(keys: Vec<T>) -> Result<Vec<T>, crate::ConfigError> {
    if keys.is_empty() {
        Err(crate::ConfigError::NoKeys)
    } else {
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_object_safe() {
        let scheme: Box<dyn Scheme> = Box::new(
            BodyHmac::builder()
                .header("x-sig")
                .secret("k")
                .build()
                .expect("valid config"),
        );
        let headers = [("x-sig", "00".repeat(32))];
        assert_eq!(
            scheme.verify_at(&headers, b"", 0),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn now_is_after_2020() {
        assert!(unix_now() > 1_577_836_800);
    }

    #[test]
    fn limits() {
        assert!(check_limit(0).is_err());
        assert_eq!(check_limit(3), Ok(3));
        assert!(require_keys::<u8>(vec![]).is_err());
    }
}
