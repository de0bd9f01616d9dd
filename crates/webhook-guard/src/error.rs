//! Errors: configuration mistakes (reported once, when a verifier is built) and verification
//! failures (reported per request, each with an HTTP status and a generic public message).

use std::fmt;

/// A verification failure: the request must not be processed.
///
/// `Display` gives the precise reason, for logs. What goes back to the sender is only
/// [`status`](Self::status) and [`public_message`](Self::public_message), which reveal nothing about
/// the configured secrets or about which check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the scheme requires is not present.
    MissingHeader {
        /// The header name, in lowercase.
        name: String,
    },
    /// A header the scheme requires appears more than once.
    RepeatedHeader {
        /// The header name, in lowercase.
        name: String,
    },
    /// A header is present but not in the scheme's format.
    MalformedHeader {
        /// The header name, in lowercase.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The timestamp is not a non-negative decimal integer of Unix seconds.
    InvalidTimestamp,
    /// The timestamp is further from the receiver's clock than the tolerance allows.
    TimestampOutOfTolerance {
        /// `now - timestamp` in seconds: positive for an old delivery, negative for one from the
        /// future. Saturates at the bounds of `i64`.
        skew_seconds: i64,
        /// The configured tolerance, in seconds.
        tolerance_seconds: u64,
    },
    /// The signature header holds no signature of a version this verifier checks (for example
    /// only `v2,...` entries, or only `v1a` entries when no public key is configured).
    NoSupportedSignature,
    /// The signature header holds more signatures than the configured limit.
    TooManySignatures {
        /// The configured limit.
        limit: usize,
    },
    /// Signatures were present, but none matched any configured key.
    SignatureMismatch,
    /// The delivery carries no signature, and the receiver requires one.
    Unsigned,
}

impl VerifyError {
    /// The HTTP status to answer with: 401 for every verification failure.
    #[must_use]
    pub fn status(&self) -> u16 {
        401
    }

    /// A short, generic text for the response body. It never says which check failed.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::MissingHeader { .. } | Self::Unsigned => "missing webhook signature",
            _ => "invalid webhook signature",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader { name } => write!(f, "header `{name}` is missing"),
            Self::RepeatedHeader { name } => write!(f, "header `{name}` appears more than once"),
            Self::MalformedHeader { name, reason } => {
                write!(f, "header `{name}` is malformed: {reason}")
            }
            Self::InvalidTimestamp => {
                f.write_str("timestamp is not a non-negative integer of Unix seconds")
            }
            Self::TimestampOutOfTolerance {
                skew_seconds,
                tolerance_seconds,
            } => {
                if *skew_seconds >= 0 {
                    write!(
                        f,
                        "timestamp is {skew_seconds} s in the past, tolerance is {tolerance_seconds} s"
                    )
                } else {
                    write!(
                        f,
                        "timestamp is {} s in the future, tolerance is {tolerance_seconds} s",
                        skew_seconds.unsigned_abs()
                    )
                }
            }
            Self::NoSupportedSignature => {
                f.write_str("no signature of a supported version in the signature header")
            }
            Self::TooManySignatures { limit } => {
                write!(f, "more than {limit} signatures in the signature header")
            }
            Self::SignatureMismatch => f.write_str("no signature matches any configured key"),
            Self::Unsigned => f.write_str("the delivery is unsigned"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// A mistake in a verifier's configuration, reported when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A secret is empty (after removing its prefix and decoding, where that applies).
    EmptySecret,
    /// A secret is not in the expected encoding.
    InvalidSecret {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A public key is not a valid `whpk_` Ed25519 key.
    InvalidPublicKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The verifier was built without any key.
    NoKeys,
    /// A scheme was built without the name of the header that carries the signature.
    NoHeaderName,
    /// Signing was asked of a verifier that holds only public keys.
    NoSigningKey,
    /// An option the provider does not have.
    UnsupportedOption {
        /// The option.
        option: &'static str,
    },
    /// A key form the provider does not use.
    UnsupportedKeyForm {
        /// The form asked for.
        form: crate::scheme::KeyForm,
    },
    /// A configured header name is not a valid HTTP header name.
    InvalidHeaderName {
        /// The name as given.
        name: String,
    },
    /// A configured signature prefix (such as `sha256=`) is empty or not printable ASCII.
    InvalidPrefix,
    /// The signature limit is zero.
    InvalidSignatureLimit,
    /// A provider or endpoint name has characters other than letters, digits, `-`, `_`, `.`
    /// (names are parts of dedup store keys), or is empty.
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// A duration that must not be zero is zero.
    InvalidDuration {
        /// Which setting.
        what: &'static str,
    },
    /// Two settings that cannot go together.
    IncompatibleOptions {
        /// Which, and why.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("a webhook secret is empty"),
            Self::InvalidSecret { reason } => write!(f, "invalid webhook secret: {reason}"),
            Self::InvalidPublicKey { reason } => write!(f, "invalid public key: {reason}"),
            Self::NoKeys => f.write_str("no secret or public key configured"),
            Self::NoHeaderName => f.write_str("no signature header name configured"),
            Self::NoSigningKey => f.write_str("only public keys are configured: nothing can sign"),
            Self::UnsupportedOption { option } => {
                write!(f, "this provider has no {option} option")
            }
            Self::UnsupportedKeyForm { form } => {
                write!(f, "the key form {form:?} is not used by this provider")
            }
            Self::InvalidHeaderName { name } => write!(f, "invalid header name `{name}`"),
            Self::InvalidPrefix => {
                f.write_str("the signature prefix must be non-empty printable ASCII")
            }
            Self::InvalidSignatureLimit => f.write_str("the signature limit must be at least 1"),
            Self::InvalidName { name } => write!(
                f,
                "invalid name `{name}`: use letters, digits, `-`, `_` and `.` only"
            ),
            Self::InvalidDuration { what } => write!(f, "the {what} must not be zero"),
            Self::IncompatibleOptions { reason } => write!(f, "incompatible options: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_messages_are_generic() {
        let errors = [
            VerifyError::SignatureMismatch,
            VerifyError::InvalidTimestamp,
            VerifyError::TimestampOutOfTolerance {
                skew_seconds: 301,
                tolerance_seconds: 300,
            },
            VerifyError::MalformedHeader {
                name: "webhook-signature".into(),
                reason: "x",
            },
        ];
        for error in errors {
            assert_eq!(error.status(), 401);
            assert_eq!(error.public_message(), "invalid webhook signature");
        }
    }

    #[test]
    fn skew_is_explained() {
        let old = VerifyError::TimestampOutOfTolerance {
            skew_seconds: 301,
            tolerance_seconds: 300,
        };
        let future = VerifyError::TimestampOutOfTolerance {
            skew_seconds: -400,
            tolerance_seconds: 300,
        };
        assert_eq!(
            old.to_string(),
            "timestamp is 301 s in the past, tolerance is 300 s"
        );
        assert_eq!(
            future.to_string(),
            "timestamp is 400 s in the future, tolerance is 300 s"
        );
    }
}
