//! A provider declared, not written out: [`declare_provider!`](crate::declare_provider) writes
//! the provider type, its builder and its [`Authenticator`] and [`Provider`] impls from what is
//! the provider's own (name, scheme, id rules, event model), so every provider, built in or
//! not, has the same shape.

use std::time::Duration;

use super::{DeliveryIdRule, Provider};
use crate::{ConfigError, Secret, scheme::DEFAULT_TOLERANCE};

/// What a declared provider's builder has collected for its keys: the secrets in the order
/// they were added, and the timestamp tolerance (used by the providers that sign a
/// timestamp).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Keys {
    /// The secrets, first to last.
    pub secrets: Vec<Secret>,
    /// The largest accepted clock difference, in either direction.
    pub tolerance: Duration,
}

impl Keys {
    /// No secret yet, and `tolerance`.
    #[must_use]
    pub fn new(tolerance: Duration) -> Self {
        Self {
            secrets: Vec::new(),
            tolerance,
        }
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new(DEFAULT_TOLERANCE)
    }
}

/// The facts of a provider declared with [`declare_provider!`](crate::declare_provider), as
/// constants: what the catalogue and tools read without building one.
pub trait Declared: Provider + Sized {
    /// The short lowercase name ([`Authenticator::name`](super::Authenticator::name)).
    const NAME: &'static str;
    /// Where the delivery id is read ([`Authenticator::delivery_id_rule`](super::Authenticator::delivery_id_rule)).
    const DELIVERY_ID: &'static DeliveryIdRule;
    /// What deliveries are deduplicated by, when not the delivery id
    /// ([`Authenticator::dedup_id_rule`](super::Authenticator::dedup_id_rule)).
    const DEDUP_ID: Option<&'static DeliveryIdRule>;
    /// Whether the signature covers a timestamp, so that the provider has a tolerance.
    const SIGNS_TIMESTAMP: bool;

    /// A provider of one secret; `tolerance` replaces the default one (only for a provider
    /// that signs a timestamp: the others ignore it).
    ///
    /// # Errors
    /// The provider's [`ConfigError`] for an unusable secret.
    fn configured(secret: Secret, tolerance: Option<Duration>) -> Result<Self, ConfigError>;
}

/// Declares a provider: the provider type with its `NAME`, `new` and `builder`, the builder
/// with `secret`, `build` (and `tolerance` for a provider that signs a timestamp), and the
/// [`Authenticator`](crate::Authenticator), [`Provider`](crate::Provider) and
/// [`Declared`](crate::provider::Declared) impls. What is the provider's own is all it takes:
///
/// - `scheme`: the type of its keys and how the builder makes them (`builder.keys` holds the
///   secrets and tolerance, the builder's own options are its other fields);
/// - `authenticate`, for keys that are not a [`Scheme`](crate::Scheme): a function
///   `fn(&Keys, &dyn Headers, &[u8], now: i64) -> Result<Authenticity, VerifyError>` (left out,
///   a delivery is authentic when the scheme verifies its signature);
/// - `tolerance`: the default tolerance, for a provider that signs a timestamp (left out for
///   one that does not);
/// - `delivery_id`, and `dedup_id` if the provider deduplicates by something else: the
///   [`DeliveryIdRule`](crate::provider::DeliveryIdRule)s, declared as `pub static`s of those
///   names;
/// - `event`: the event model and how a body parses into it.
///
/// The provider's own methods (signing as the sender does, say) and its builder's own options
/// are written beside it, in plain `impl` blocks.
///
/// ```
/// use webhook_guard::{
///     BodyHmac, Provider as _, WebhookEvent, declare_provider, event::raw_body,
///     headers::HeaderName, provider::DeliveryIdRule,
/// };
///
/// /// Acme's one event.
/// #[derive(Debug)]
/// pub struct Ping;
///
/// impl WebhookEvent for Ping {
///     fn event_type(&self) -> &str {
///         "ping"
///     }
///     fn is_known(&self) -> bool {
///         true
///     }
/// }
///
/// declare_provider! {
///     /// Acme's webhooks: HMAC-SHA256 of the body, hex, in `X-Acme-Signature`.
///     pub struct Acme("acme") {
///         scheme: BodyHmac = |builder| BodyHmac::builder().header("x-acme-signature").secrets(builder.keys.secrets).build(),
///         /// Acme's delivery id: the `X-Acme-Delivery` header.
///         delivery_id: DELIVERY_ID = DeliveryIdRule::Header(HeaderName::from_static("x-acme-delivery")),
///         event: Ping = |_, body| raw_body(body).map(|_| Ping),
///     }
///     /// Configuration of an [`Acme`] provider.
///     pub struct AcmeBuilder;
/// }
///
/// let acme = Acme::new("acme-secret")?;
/// let headers = acme.scheme().sign_headers(b"{}").with("x-acme-delivery", "d-1");
/// let opened = acme.open(&headers, b"{}", 0)?;
/// assert_eq!(opened.delivery_id.as_str(), "d-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! declare_provider {
    (
        $(#[$attr:meta])*
        $vis:vis struct $Provider:ident($name:literal) {
            scheme: $Scheme:ty = |$builder:ident| $scheme:expr,
            $(authenticate: $authenticate:path,)?
            $(tolerance: $tolerance:expr,)?
            $(#[$delivery_attr:meta])*
            delivery_id: $DELIVERY_ID:ident = $delivery_id:expr,
            $($(#[$dedup_attr:meta])* dedup_id: $DEDUP_ID:ident = $dedup_id:expr,)?
            event: $Event:ty = |$headers:pat_param, $body:pat_param| $parse:expr $(,)?
        }
        $(#[$builder_attr:meta])*
        $builder_vis:vis struct $Builder:ident $({ $($option:ident: $Option:ty = $default:expr),* $(,)? })? $(;)?
    ) => {
        $(#[$delivery_attr])*
        pub static $DELIVERY_ID: $crate::provider::DeliveryIdRule = $delivery_id;

        $(
            $(#[$dedup_attr])*
            pub static $DEDUP_ID: $crate::provider::DeliveryIdRule = $dedup_id;
        )?

        $(#[$attr])*
        #[derive(Debug, Clone)]
        $vis struct $Provider {
            scheme: $Scheme,
        }

        $(#[$builder_attr])*
        #[derive(Debug, Clone)]
        #[must_use]
        $builder_vis struct $Builder {
            keys: $crate::provider::Keys,
            $($($option: $Option,)*)?
        }

        impl $Provider {
            #[doc = concat!("The provider's name, `\"", $name, "\"`.")]
            pub const NAME: &'static str = $name;

            /// A provider for one secret, every other setting at its default.
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($Builder), "::build`](", stringify!($Builder), "::build).")]
            pub fn new(secret: impl Into<$crate::Secret>) -> Result<Self, $crate::ConfigError> {
                Self::builder().secret(secret).build()
            }

            /// Starts a configuration.
            pub fn builder() -> $Builder {
                $Builder {
                    keys: $crate::provider::Keys::new($crate::__declared_tolerance!($($tolerance)?)),
                    $($($option: $default,)*)?
                }
            }

            /// The provider's keys.
            #[must_use]
            pub fn scheme(&self) -> &$Scheme {
                &self.scheme
            }
        }

        impl $Builder {
            /// Adds a secret, used as given (call again during a rotation): signatures by any
            /// are accepted.
            pub fn secret(mut self, secret: impl Into<$crate::Secret>) -> Self {
                self.keys.secrets.push(secret.into());
                self
            }

            $(
                /// The largest accepted clock difference, in either direction (default
                #[doc = concat!("`", stringify!($tolerance), "`).")]
                pub fn tolerance(mut self, tolerance: ::std::time::Duration) -> Self {
                    self.keys.tolerance = tolerance;
                    self
                }
            )?

            /// Checks the configuration.
            ///
            /// # Errors
            /// [`ConfigError::NoKeys`]($crate::ConfigError::NoKeys) without a secret;
            /// [`ConfigError::EmptySecret`]($crate::ConfigError::EmptySecret) for an empty
            /// one; the scheme's other [`ConfigError`]($crate::ConfigError)s for a secret it
            /// cannot use.
            pub fn build(self) -> Result<$Provider, $crate::ConfigError> {
                let $builder = self;
                Ok($Provider { scheme: $scheme? })
            }
        }

        impl $crate::Authenticator for $Provider {
            fn name(&self) -> &str {
                $name
            }

            fn authenticate(&self, headers: &dyn $crate::headers::Headers, body: &[u8], now: i64)
                -> Result<$crate::Authenticity, $crate::VerifyError> {
                $crate::__declared_authenticate!([$($authenticate)?] &self.scheme, headers, body, now)
            }

            fn delivery_id_rule(&self) -> &$crate::provider::DeliveryIdRule {
                &$DELIVERY_ID
            }

            fn dedup_id_rule(&self) -> Option<&$crate::provider::DeliveryIdRule> {
                <Self as $crate::provider::Declared>::DEDUP_ID
            }

            fn signs_timestamp(&self) -> bool {
                <Self as $crate::provider::Declared>::SIGNS_TIMESTAMP
            }
        }

        impl $crate::Provider for $Provider {
            type Event = $Event;

            fn parse(
                &self,
                $headers: &dyn $crate::headers::Headers,
                $body: &[u8],
            ) -> Result<$Event, $crate::ParseError> {
                $parse
            }
        }

        impl $crate::provider::Declared for $Provider {
            const NAME: &'static str = $name;
            const DELIVERY_ID: &'static $crate::provider::DeliveryIdRule = &$DELIVERY_ID;
            const DEDUP_ID: Option<&'static $crate::provider::DeliveryIdRule> =
                $crate::__declared_given_or!([$(Some(&$DEDUP_ID))?] None);
            const SIGNS_TIMESTAMP: bool = $crate::__declared_signs_timestamp!($($tolerance)?);

            fn configured(
                secret: $crate::Secret,
                tolerance: Option<::std::time::Duration>,
            ) -> Result<Self, $crate::ConfigError> {
                let mut builder = Self::builder().secret(secret);
                if let Some(tolerance) = tolerance {
                    builder.keys.tolerance = tolerance;
                }
                builder.build()
            }
        }
    };
}

/// The default tolerance of a declared provider: its own, else the crate's.
#[doc(hidden)]
#[macro_export]
macro_rules! __declared_tolerance {
    () => {
        $crate::scheme::DEFAULT_TOLERANCE
    };
    ($tolerance:expr) => {
        $tolerance
    };
}

/// A declared provider's authentication: its own function, else its scheme's signature.
#[doc(hidden)]
#[macro_export]
macro_rules! __declared_authenticate {
    ([] $scheme:expr, $headers:ident, $body:ident, $now:ident) => {
        $crate::scheme::Scheme::verify_at($scheme, $headers, $body, $now)
            .map($crate::Authenticity::Signed)
    };
    ([$authenticate:path] $scheme:expr, $headers:ident, $body:ident, $now:ident) => {
        $authenticate($scheme, $headers, $body, $now)
    };
}

/// The value given in the brackets, else the default.
#[doc(hidden)]
#[macro_export]
macro_rules! __declared_given_or {
    ([] $default:expr) => {
        $default
    };
    ([$given:expr] $default:expr) => {
        $given
    };
}

/// Whether a declared provider signs a timestamp: whether it was given a tolerance.
#[doc(hidden)]
#[macro_export]
macro_rules! __declared_signs_timestamp {
    () => {
        false
    };
    ($tolerance:expr) => {
        true
    };
}
