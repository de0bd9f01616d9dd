//! `webhook-guard sign`.

use std::{path::PathBuf, process::ExitCode};

use webhook_guard::{catalog::SignRequest, scheme::SignedHeaders};

use crate::{
    error::{Result, fail, read_input},
    provider::{ProviderName, fresh_id, now, secret},
};

/// Prints the headers that sign a body, and a curl command that sends it.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider whose scheme signs.
    #[arg(value_parser = ProviderName::parser())]
    provider: ProviderName,
    /// The body to sign, byte for byte (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
    /// The secret (default: the provider's environment variable, else the demo secret).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
    /// The delivery id (Parallel, Sixtyfour, ParseFlow; default: a fresh one).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// The signed timestamp, in Unix seconds (seconds since 1970-01-01 UTC), for the
    /// providers that sign one (Parallel, Sixtyfour, Stripe). Default: now. Receivers refuse
    /// a timestamp more than 5 minutes from their clock.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    timestamp: Option<i64>,
    /// The event type, for providers that send it in a header (GitHub's `X-GitHub-Event`;
    /// ParseFlow's is taken from the body when not given).
    #[arg(long, value_name = "TYPE")]
    event_type: Option<String>,
    /// The URL in the curl command (default: the example receiver's route).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// Signs `body` for `provider`.
pub(crate) fn headers(
    provider: ProviderName,
    secret: &str,
    id: &str,
    timestamp: i64,
    event_type: Option<&str>,
    body: &[u8],
) -> Result<SignedHeaders> {
    let mut request = SignRequest::body(id, timestamp, body);
    request.event_type = event_type;
    (provider.0.sign)(secret, &request).map_err(|e| {
        fail(format!(
            "the secret is not usable for {}: {e}",
            provider.as_str()
        ))
    })
}

/// The example receiver's route of `provider`.
pub(crate) fn default_url(provider: ProviderName) -> String {
    format!("http://127.0.0.1:3000/webhooks/{}", provider.as_str())
}

/// Quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let body = read_input(&args.body)?;
    let (secret, _) = secret(args.provider, args.secret.as_deref(), true)?;
    let id = args.id.clone().unwrap_or_else(fresh_id);
    let timestamp = args.timestamp.unwrap_or_else(now);
    let headers = headers(
        args.provider,
        &secret,
        &id,
        timestamp,
        args.event_type.as_deref(),
        &body,
    )?;
    for (name, value) in headers.iter() {
        say!("{name}: {value}");
    }
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| default_url(args.provider));
    let mut curl = format!("curl -i -X POST {}", shell_quote(&url));
    curl.push_str(" -H 'content-type: application/json'");
    for (name, value) in headers.iter() {
        curl.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    if args.body.as_os_str() == "-" {
        curl.push_str(&format!(
            " --data-binary {}",
            shell_quote(&String::from_utf8_lossy(&body))
        ));
    } else {
        // The file itself, so the bytes sent are the bytes signed.
        curl.push_str(&format!(
            " --data-binary {}",
            shell_quote(&format!("@{}", args.body.display()))
        ));
    }
    say!();
    say!("{curl}");
    if args.provider.signs_a_timestamp() {
        eprintln!("note: the signature covers the timestamp; receivers refuse it after 5 minutes");
    }
    Ok(ExitCode::SUCCESS)
}
