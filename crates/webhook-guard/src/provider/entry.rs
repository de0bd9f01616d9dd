//! A provider's entry in the [catalogue](crate::catalog) (feature `fixtures`): its
//! description as data, how to build it from a secret and options, and how to sign as it
//! does. The types are here, below the providers that fill them in; the list of entries is
//! the catalogue's.

use std::{sync::Arc, time::Duration};

use super::{AnyProvider, Declared, DeliveryIdRule, sample::Fixture};
use crate::{
    ConfigError,
    scheme::{KeyForm, SignedHeaders},
};

/// One provider, described.
#[derive(Debug)]
#[non_exhaustive]
pub struct Entry {
    /// The short lowercase name: the CLI's argument, the routes' path segment, the dedup
    /// namespace ([`Authenticator::name`](super::Authenticator::name)).
    pub name: &'static str,
    /// The name as the provider writes it (`"GitHub"`).
    pub title: &'static str,
    /// The signature, in one line (for `--help` and listings).
    pub scheme: &'static str,
    /// How its secret is given.
    pub secret: SecretInfo,
    /// The headers that carry its signature, lowercase.
    pub signature_headers: &'static [&'static str],
    /// Whether its signature covers a timestamp (so a signed request goes stale).
    pub signs_timestamp: bool,
    /// The forms its secrets come in, when there are several to choose from
    /// ([`Config::key_forms`]); empty when a secret has one form.
    pub key_forms: &'static [KeyForm],
    /// Where the delivery id is read.
    pub delivery_id: &'static DeliveryIdRule,
    /// What deliveries are deduplicated by, when not the delivery id.
    pub dedup_id: Option<&'static DeliveryIdRule>,
    /// Every event type the model names (not necessarily all the sender has).
    pub event_types: &'static [&'static str],
    /// Sample bodies; the first of each event type is its sample.
    pub fixtures: &'static [Fixture],
    /// Builds the provider.
    pub build: fn(&Config) -> Result<Arc<dyn AnyProvider>, ConfigError>,
    /// Signs a request as the sender would, with one secret.
    pub sign: fn(&str, &SignRequest<'_>) -> Result<SignedHeaders, ConfigError>,
}

/// How a provider's secret is given.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SecretInfo {
    /// The environment variable of the example receivers and the CLI (`GITHUB_WEBHOOK_SECRET`).
    pub variable: &'static str,
    /// What the secret looks like, in a few words.
    pub form: &'static str,
    /// The demo secret of the examples and tests. Public: never use it in production.
    pub demo: &'static str,
}

/// What [`Entry::build`] is given: a secret and the options most providers share. An option
/// a provider does not have is refused with a [`ConfigError`], never ignored.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The secret.
    pub secret: String,
    /// The timestamp tolerance, for providers that sign a timestamp (default 300 s).
    pub tolerance: Option<Duration>,
    /// The key forms to try, for providers whose secrets have several (Parallel).
    pub key_forms: Option<Vec<KeyForm>>,
    /// Accept unsigned deliveries, for providers that may send them (Sixtyfour).
    pub allow_unsigned: bool,
}

impl Config {
    /// A configuration of one secret, every option at its default.
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            tolerance: None,
            key_forms: None,
            allow_unsigned: false,
        }
    }

    /// Sets the timestamp tolerance.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// Sets the key forms.
    #[must_use]
    pub fn key_forms(mut self, forms: impl IntoIterator<Item = KeyForm>) -> Self {
        self.key_forms = Some(forms.into_iter().collect());
        self
    }

    /// Accepts unsigned deliveries (only providers that may send them have the option).
    #[must_use]
    pub fn allow_unsigned(mut self, allow: bool) -> Self {
        self.allow_unsigned = allow;
        self
    }

    /// Refuses options a provider does not have: `tolerance` unless `timestamped`,
    /// `key_forms` unless `key_forms`, `allow_unsigned` unless `unsigned`.
    ///
    /// # Errors
    /// [`ConfigError::UnsupportedOption`] naming the option.
    pub fn check(
        &self,
        timestamped: bool,
        key_forms: bool,
        unsigned: bool,
    ) -> Result<(), ConfigError> {
        if self.allow_unsigned && !unsigned {
            return Err(ConfigError::UnsupportedOption {
                option: "allow-unsigned",
            });
        }
        if self.tolerance.is_some() && !timestamped {
            return Err(ConfigError::UnsupportedOption {
                option: "tolerance",
            });
        }
        if self.key_forms.is_some() && !key_forms {
            return Err(ConfigError::UnsupportedOption {
                option: "key forms",
            });
        }
        Ok(())
    }
}

/// What [`Entry::sign`] signs: one delivery.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SignRequest<'a> {
    /// The delivery id, for providers that send one in a header.
    pub delivery_id: &'a str,
    /// The signing time, Unix seconds, for providers that sign one.
    pub timestamp: i64,
    /// The event type, for providers that send it in a header (GitHub); `None` to take it
    /// from the body where the provider can.
    pub event_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> SignRequest<'a> {
    /// A request for a fixture's body and event type.
    #[must_use]
    pub fn new(delivery_id: &'a str, timestamp: i64, fixture: &'a Fixture) -> Self {
        Self {
            delivery_id,
            timestamp,
            event_type: Some(fixture.event_type),
            body: fixture.body,
        }
    }

    /// A request for a body of your own; the event type, where a provider needs one in a
    /// header, comes from the body or is left out.
    #[must_use]
    pub fn body(delivery_id: &'a str, timestamp: i64, body: &'a [u8]) -> Self {
        Self {
            delivery_id,
            timestamp,
            event_type: None,
            body,
        }
    }
}

/// Builds a declared provider from a [`Config`] of one secret and, for a provider that signs
/// a timestamp, a tolerance: the [`Entry::build`] of every provider without options of its
/// own.
///
/// # Errors
/// [`ConfigError::UnsupportedOption`] for an option the provider does not have; its own
/// [`ConfigError`] for an unusable secret.
pub fn build_declared<P: Declared>(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(P::SIGNS_TIMESTAMP, false, false)?;
    let secret = crate::Secret::from(config.secret.as_str());
    Ok(Arc::new(P::configured(secret, config.tolerance)?))
}

/// The catalogue entry of a provider declared with
/// [`declare_provider!`](crate::declare_provider): the facts it declared (name, id rules,
/// whether it signs a timestamp) and what only the catalogue says, in a few lines.
///
/// `build` (default [`build_declared`]) and `key_forms` (default none) are for providers with
/// options of their own.
#[allow(unused_macros)] // With no provider feature on, nothing uses it.
macro_rules! catalog_entry {
    (
        $Provider:ty: $title:literal, $scheme:literal,
        secret $variable:literal = $demo:expr, $form:literal,
        signature [$($header:expr),* $(,)?], events $events:expr, fixtures $fixtures:expr, sign $sign:expr
        $(, build $build:expr)? $(, key forms $key_forms:expr)? $(,)?
    ) => {
        $crate::provider::entry::Entry {
            name: <$Provider as $crate::provider::Declared>::NAME,
            title: $title,
            scheme: $scheme,
            secret: $crate::provider::entry::SecretInfo { variable: $variable, form: $form, demo: $demo },
            signature_headers: &[$($header),*],
            signs_timestamp: <$Provider as $crate::provider::Declared>::SIGNS_TIMESTAMP,
            key_forms: $crate::__declared_given_or!([$($key_forms)?] &[]),
            delivery_id: <$Provider as $crate::provider::Declared>::DELIVERY_ID,
            dedup_id: <$Provider as $crate::provider::Declared>::DEDUP_ID,
            event_types: $events,
            fixtures: $fixtures,
            build: $crate::__declared_given_or!([$($build)?] $crate::provider::entry::build_declared::<$Provider>),
            sign: $sign,
        }
    };
}
#[allow(unused_imports)] // With no provider feature on, nothing uses it.
pub(crate) use catalog_entry;
