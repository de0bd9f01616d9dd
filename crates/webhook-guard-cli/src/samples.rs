//! `webhook-guard samples`.

use std::{io::Write, process::ExitCode};

use clap::Subcommand;
use webhook_guard::fixtures;

use crate::{
    error::{Result, fail},
    provider::{ProviderName, sample},
};

/// `samples [provider]` lists the sample events; `samples show <provider> <type>` prints one.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Only this provider's samples.
    #[arg(value_parser = ProviderName::parser())]
    provider: Option<ProviderName>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print a sample body, byte for byte.
    Show {
        /// The provider.
        #[arg(value_parser = ProviderName::parser())]
        provider: ProviderName,
        /// An event type (its first sample) or a sample's name from the list.
        event_type: String,
    },
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    match &args.action {
        Some(Action::Show {
            provider,
            event_type,
        }) => {
            let fixture = sample(*provider, event_type)?;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(fixture.body)
                .and_then(|()| stdout.flush())
                .map_err(|e| fail(format!("cannot write the sample: {e}")))?;
        }
        None => {
            let providers: Vec<ProviderName> = match args.provider {
                Some(provider) => vec![provider],
                None => ProviderName::all().collect(),
            };
            say!(
                "{:<11} {:<34} {:<42} origin",
                "provider",
                "event type",
                "sample"
            );
            for provider in providers {
                for fixture in fixtures::of(provider.as_str()) {
                    say!(
                        "{:<11} {:<34} {:<42} {}",
                        provider.as_str(),
                        fixture.event_type,
                        fixture.name,
                        origin(fixture.origin)
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn origin(origin: fixtures::Origin) -> String {
    match origin {
        fixtures::Origin::Verbatim { page } => format!("page example ({page})"),
        fixtures::Origin::PlaceholdersFilled { page, .. } => {
            format!("page example, `...` filled in ({page})")
        }
        fixtures::Origin::KnownAnswer => "a known-answer vector's body".to_owned(),
        _ => "constructed from the documented fields".to_owned(),
    }
}
