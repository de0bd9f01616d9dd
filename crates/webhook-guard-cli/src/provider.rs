//! The providers the commands know, their secrets and their sample events.

use clap::ValueEnum;
use webhook_guard::fixtures::{self, Fixture};

use crate::error::{Result, fail};

/// A provider, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderName {
    /// Parallel (Task, FindAll, Monitor): Standard Webhooks.
    Parallel,
    /// Sixtyfour: `t=<unix>,v1=<hex>`.
    Sixtyfour,
    /// FullEnrich: HMAC-SHA1 of the body with the API key.
    Fullenrich,
    /// ParseFlow: HMAC-SHA256 of the body.
    Parseflow,
}

impl ProviderName {
    /// Every provider.
    pub(crate) const ALL: [Self; 4] = [
        Self::Parallel,
        Self::Sixtyfour,
        Self::Fullenrich,
        Self::Parseflow,
    ];

    /// The name used by the fixtures and the routes.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Parallel => "parallel",
            Self::Sixtyfour => "sixtyfour",
            Self::Fullenrich => "fullenrich",
            Self::Parseflow => "parseflow",
        }
    }

    /// The environment variable of the example receiver contract that holds its secret.
    pub(crate) fn secret_variable(self) -> &'static str {
        match self {
            Self::Parallel => "PARALLEL_WEBHOOK_SECRET",
            Self::Sixtyfour => "SIXTYFOUR_WEBHOOK_SECRET",
            Self::Fullenrich => "FULLENRICH_API_KEY",
            Self::Parseflow => "PARSEFLOW_WEBHOOK_SECRET",
        }
    }

    /// The header that carries its signature.
    pub(crate) fn signature_header(self) -> &'static str {
        match self {
            Self::Parallel => "webhook-signature",
            Self::Sixtyfour => webhook_guard::sixtyfour::SIGNATURE_HEADER,
            Self::Fullenrich => webhook_guard::fullenrich::SIGNATURE_HEADER,
            Self::Parseflow => webhook_guard::parseflow::SIGNATURE_HEADER,
        }
    }

    /// Whether its signature covers a timestamp.
    pub(crate) fn signs_a_timestamp(self) -> bool {
        matches!(self, Self::Parallel | Self::Sixtyfour)
    }
}

/// Where a secret came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretSource {
    Flag,
    Environment,
    Demo,
}

/// The secret from `--secret`, else the provider's environment variable, else (when
/// `demo_fallback`) the demo secret of the example receivers, said on stderr.
pub(crate) fn secret(
    provider: ProviderName,
    flag: Option<&str>,
    demo_fallback: bool,
) -> Result<(String, SecretSource)> {
    if let Some(secret) = flag {
        return Ok((secret.to_owned(), SecretSource::Flag));
    }
    if let Ok(secret) = std::env::var(provider.secret_variable())
        && !secret.is_empty()
    {
        return Ok((secret, SecretSource::Environment));
    }
    if demo_fallback && let Some(secret) = fixtures::demo::secret(provider.as_str()) {
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
