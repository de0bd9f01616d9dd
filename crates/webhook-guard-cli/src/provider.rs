//! The providers the commands know, their secrets and their sample events.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use webhook_guard::{
    catalog::{self, Entry},
    fixtures::{self, Fixture},
};

use crate::error::{Result, fail};

/// A provider of the catalogue, as named on the command line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProviderName(pub(crate) &'static Entry);

impl PartialEq for ProviderName {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for ProviderName {}

impl ProviderName {
    /// The parser of a provider argument: one of the catalogue's names.
    pub(crate) fn parser() -> impl TypedValueParser<Value = Self> {
        PossibleValuesParser::new(catalog::names()).try_map(|name| {
            catalog::get(&name)
                .map(Self)
                .ok_or_else(|| format!("unknown provider {name:?}"))
        })
    }

    /// Every provider of the catalogue.
    pub(crate) fn all() -> impl Iterator<Item = Self> {
        catalog::all().iter().map(|entry| Self(entry))
    }

    /// The provider named `name` (one the catalogue has).
    pub(crate) fn named(name: &str) -> Result<Self> {
        catalog::get(name)
            .map(Self)
            .ok_or_else(|| fail(format!("no provider {name:?} in the catalogue")))
    }

    /// The name used by the fixtures and the routes.
    pub(crate) fn as_str(self) -> &'static str {
        self.0.name
    }

    /// The environment variable of the example receiver contract that holds its secret.
    pub(crate) fn secret_variable(self) -> &'static str {
        self.0.secret.variable
    }

    /// The header that carries its signature.
    pub(crate) fn signature_header(self) -> &'static str {
        self.0
            .signature_headers
            .first()
            .copied()
            .unwrap_or_default()
    }

    /// Whether its signature covers a timestamp.
    pub(crate) fn signs_a_timestamp(self) -> bool {
        self.0.signs_timestamp
    }
}

/// Where a secret came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretSource {
    Flag,
    Environment,
    Demo,
}

/// The id of the argument that holds a provider's own secret.
fn secret_arg(entry: &Entry) -> String {
    format!("{}-secret", entry.name)
}

/// Adds to a command one `--<provider>-secret` option per provider of the catalogue, each
/// read from the provider's environment variable (`--help` shows the variable, never its
/// value): declared with clap, built from the catalogue.
pub(crate) fn with_secret_args(mut command: clap::Command) -> clap::Command {
    for entry in catalog::all() {
        command = command.arg(
            clap::Arg::new(secret_arg(entry))
                .long(secret_arg(entry))
                .value_name("S")
                .env(entry.secret.variable)
                .hide_env_values(true)
                .help_heading("Secrets (instead of --secret)")
                .help(format!("{}'s secret: {}", entry.title, entry.secret.form)),
        );
    }
    command
}

/// The secrets given by `--<provider>-secret` or the environment, for [`secret`].
static GIVEN: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();

/// Keeps the provider secrets of a parsed subcommand (from [`with_secret_args`]).
pub(crate) fn keep_secrets(matches: &clap::ArgMatches) {
    let given = catalog::all()
        .iter()
        .filter_map(|entry| {
            let value = matches.try_get_one::<String>(&secret_arg(entry)).ok()??;
            (!value.is_empty()).then(|| (entry.name, value.clone()))
        })
        .collect();
    let _ = GIVEN.set(given);
}

/// The secret from `--secret`, else the provider's `--<provider>-secret` or environment
/// variable, else (when `demo_fallback`) the demo secret of the example receivers, said on
/// stderr.
pub(crate) fn secret(
    provider: ProviderName,
    flag: Option<&str>,
    demo_fallback: bool,
) -> Result<(String, SecretSource)> {
    if let Some(secret) = flag {
        return Ok((secret.to_owned(), SecretSource::Flag));
    }
    if let Some((_, secret)) = GIVEN
        .get()
        .and_then(|given| given.iter().find(|(name, _)| *name == provider.as_str()))
    {
        return Ok((secret.clone(), SecretSource::Environment));
    }
    if demo_fallback {
        let secret = provider.0.secret.demo;
        eprintln!(
            "note: no --secret and no {}: signing with the demo secret of the example receivers",
            provider.secret_variable()
        );
        return Ok((secret.to_owned(), SecretSource::Demo));
    }
    Err(fail(format!(
        "no secret for {}: pass --secret or set {}",
        provider.as_str(),
        provider.secret_variable()
    )))
}

/// The sample of `provider` named by an event type or a fixture name.
pub(crate) fn sample(provider: ProviderName, name: &str) -> Result<&'static Fixture> {
    fixtures::sample(provider.as_str(), name)
        .or_else(|| fixtures::get(provider.as_str(), name))
        .ok_or_else(|| {
            fail(format!(
                "{} has no sample {name:?}; its event types: {}",
                provider.as_str(),
                fixtures::event_types(provider.as_str()).join(", ")
            ))
        })
}

/// The system time in Unix seconds.
pub(crate) fn now() -> i64 {
    webhook_guard::scheme::unix_now()
}

/// A delivery id for a request the user did not name: `cli_<unix nanoseconds>`.
pub(crate) fn fresh_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli_{nanos}")
}
