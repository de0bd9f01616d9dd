//! `webhook-guard dedup show|forget`: what the receivers' shared store holds for a delivery,
//! and forgetting it so the sender's redelivery is processed again (after a handler was
//! fixed). The store is the one of the example contract: `REDIS_URL` or `DATABASE_URL`.

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use webhook_guard::dedup::{DedupKey, DedupStore, Record};

use crate::{
    error::{Result, fail, read_input},
    provider::ProviderName,
};

/// Looks up or forgets a delivery in the store the receivers share.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// What the store holds for a delivery: done (answered as a duplicate), in flight, or
    /// nothing.
    Show(Target),
    /// Remove a delivery's record, done or in flight, so that its next delivery (the sender's
    /// "redeliver") runs the handler again.
    Forget(Target),
}

/// Which delivery, in which store.
#[derive(Debug, clap::Args)]
struct Target {
    /// The provider.
    #[arg(value_parser = ProviderName::parser())]
    provider: ProviderName,
    /// The id the receiver deduplicates by: the delivery id (Parallel's `webhook-id`,
    /// Sixtyfour's event id, Stripe's `evt_...`); for GitHub, ParseFlow and FullEnrich, the
    /// SHA-256 of the body in hex (or give --body).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "body",
        conflicts_with = "body"
    )]
    id: Option<String>,
    /// The delivery's body, byte for byte (`-` reads standard input): its id is computed
    /// where it is the body's (a digest, or Stripe's `id` field).
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// The receiver's endpoint name (`ReceiverBuilder::endpoint`).
    #[arg(long, value_name = "NAME", default_value = "default")]
    endpoint: String,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        match &args.action {
            Action::Show(target) => show(target).await,
            Action::Forget(target) => forget(target).await,
        }
    })
}

async fn show(target: &Target) -> Result<ExitCode> {
    let store = store_from_env().await?;
    let id = dedup_id(target)?;
    let mut found = false;
    for (key, what) in keys(target, &id) {
        let record = store
            .inspect(&key)
            .await
            .map_err(|e| fail(format!("the store: {e}")))?;
        match record {
            Some(Record::Done { expires_in }) => {
                found = true;
                say!(
                    "done{what}: {key} is answered as a duplicate for {} more",
                    human(expires_in)
                );
            }
            Some(Record::InFlight { expires_in }) => {
                found = true;
                say!(
                    "in flight{what}: {key} is held by a handler (or a crashed one) for {} more",
                    human(expires_in)
                );
            }
            Some(_) | None => {}
        }
    }
    if !found {
        say!(
            "nothing: {} {id} is not recorded; its next delivery runs the handler",
            target.provider.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn forget(target: &Target) -> Result<ExitCode> {
    let store = store_from_env().await?;
    let id = dedup_id(target)?;
    let mut forgotten = false;
    for (key, _) in keys(target, &id) {
        forgotten |= store
            .forget(&key)
            .await
            .map_err(|e| fail(format!("the store: {e}")))?;
    }
    if forgotten {
        say!(
            "forgotten: the next delivery of {} {id} runs the handler (ask the sender to redeliver it)",
            target.provider.as_str()
        );
    } else {
        say!(
            "nothing to forget: {} {id} is not recorded",
            target.provider.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The keys of the delivery: signed, and unsigned (a provider configured to accept those).
fn keys(target: &Target, id: &str) -> [(DedupKey, &'static str); 2] {
    let namespace = format!("{}:{}", target.provider.as_str(), target.endpoint);
    [
        (DedupKey::new(&namespace, id), ""),
        (
            DedupKey::new(&format!("{namespace}/unsigned"), id),
            " (unsigned)",
        ),
    ]
}

/// The id given, or the one the provider's rule reads from the body.
fn dedup_id(target: &Target) -> Result<String> {
    if let Some(id) = &target.id {
        return Ok(id.clone());
    }
    let Some(path) = &target.body else {
        return Err(fail("give --id or --body"));
    };
    let body = read_input(path)?;
    let entry = target.provider.0;
    let rule = entry.dedup_id.unwrap_or(entry.delivery_id);
    let no_headers: Vec<(String, String)> = Vec::new();
    match rule.read(&no_headers, &body) {
        Ok(id) => Ok(id.to_string()),
        Err(error) => Err(fail(format!(
            "{}'s id is not in the body ({error}): give it with --id",
            entry.name
        ))),
    }
}

/// The store of `REDIS_URL` or `DATABASE_URL`.
async fn store_from_env() -> Result<Arc<dyn DedupStore>> {
    let what = "the store the receivers share (an in-memory store lives in its process only)";
    match crate::server::server_from_env(what)? {
        crate::server::Server::Redis(url) => {
            let store = webhook_guard_redis::RedisStore::connect(url)
                .await
                .map_err(|e| fail(format!("REDIS_URL: {e}")))?;
            Ok(Arc::new(store))
        }
        crate::server::Server::Postgres(url) => Ok(Arc::new(webhook_guard_postgres::PgStore::new(
            crate::server::postgres_pool(&url).await?,
        ))),
    }
}

/// `2 h 5 min`, `8 s`.
fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}
