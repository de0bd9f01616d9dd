//! `webhook-guard inbox`: the durable inbox on `REDIS_URL` (a `RedisInbox`) or `DATABASE_URL`
//! (a `PgInbox` in `webhook_guard.inbox`): counts, entries, one entry verified again, replays,
//! pauses, purges. Exit 0 on success, 1 on an error (the server, an entry that is not there),
//! 2 on bad usage.

use std::{process::ExitCode, time::Duration};

use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use webhook_guard::{
    catalog::Config,
    inbox::{Cancel, Entry, EntryId, EntryState, Filter, Inbox, PauseScope, Throttle},
};

use crate::{
    error::{Result, fail},
    provider::ProviderName,
    server::inbox_from_env,
};

/// Operates the durable inbox the receivers write to (`REDIS_URL` or `DATABASE_URL`).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
    /// The inbox's schema (Postgres).
    #[arg(long, global = true, default_value = "webhook_guard")]
    schema: String,
    /// The inbox's table (Postgres).
    #[arg(long, global = true, default_value = "inbox")]
    table: String,
    /// The key prefix (Redis).
    #[arg(long, global = true, default_value = webhook_guard_redis::DEFAULT_PREFIX)]
    prefix: String,
    /// The inbox's name (Redis).
    #[arg(long, global = true, default_value = webhook_guard_redis::DEFAULT_INBOX_NAME)]
    name: String,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Entries by state, and the age of the oldest pending one.
    Stats,
    /// Entries, oldest first: id, state, provider, delivery id, event type, attempts,
    /// received at (tab-separated), or JSON lines with --json.
    List(ListArgs),
    /// One entry: its fields, every attempt, the stored headers and raw body, and whether
    /// the body verifies again with the provider's secret.
    Show(ShowArgs),
    /// Run entries again (even done ones): by id (from `list`), or every entry matching
    /// --filter, in throttled steps (Ctrl-C stops after the step in progress).
    Replay(ReplayArgs),
    /// Stop running a provider's entries (deliveries keep being stored).
    Pause(ScopeArgs),
    /// Run a paused provider's entries again.
    Resume(ScopeArgs),
    /// Delete done entries (and dead ones with --dead) finished longer ago than --older-than.
    Purge(PurgeArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only entries in this state: pending, running, done or dead.
    #[arg(long, value_name = "S", value_parser = parse_state)]
    state: Option<EntryState>,
    /// Only this provider's entries.
    #[arg(long, value_name = "P")]
    provider: Option<String>,
    /// Only entries received since: an RFC 3339 time, or an age (`2h`, `30m`, `7d`).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    since: Option<i64>,
    /// At most this many.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// JSON lines instead of tab-separated ones.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The entry's id.
    id: EntryId,
    /// The provider's secret to verify the body with (default: the provider's environment
    /// variable, as the example receivers read it).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// Entry ids.
    #[arg(required_unless_present = "filter", conflicts_with = "filter")]
    ids: Vec<EntryId>,
    /// Every entry matching `key=value,...`: state, provider, endpoint, event_type, since,
    /// until (times in RFC 3339, or ages such as `2h`).
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    filter: Option<Filter>,
    /// Entries per step.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Pause between steps, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pause_ms: u64,
}

#[derive(Debug, clap::Args)]
struct ScopeArgs {
    /// The provider.
    provider: String,
    /// Only this endpoint (default: all of the provider's).
    #[arg(long, value_name = "NAME")]
    endpoint: Option<String>,
}

#[derive(Debug, clap::Args)]
struct PurgeArgs {
    /// How long after they finished: `7d`, `12h`, `30m`, `45s`.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: Duration,
    /// Dead entries too.
    #[arg(long)]
    dead: bool,
}

fn parse_state(text: &str) -> std::result::Result<EntryState, String> {
    text.parse()
        .map_err(|e: webhook_guard::inbox::UnknownState| e.to_string())
}

/// `7d`, `12h`, `30m`, `45s`, `250ms`.
fn parse_age(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: give a unit (s, m, h, d)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: not a number followed by a unit"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("{text:?}: unknown unit {other:?} (ms, s, m, h, d)")),
    };
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

/// An RFC 3339 time, or an age before now, as Unix milliseconds.
fn parse_when(text: &str) -> std::result::Result<i64, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|e| e.to_string());
    }
    let age = parse_age(text)
        .map_err(|_| format!("{text:?}: not an RFC 3339 time nor an age such as 2h"))?;
    Ok(now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)))
}

fn parse_filter(text: &str) -> std::result::Result<Filter, String> {
    let mut filter = Filter::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: expected key=value"))?;
        let value = value.trim();
        match key.trim() {
            "state" => filter.state = Some(parse_state(value)?),
            "provider" => filter.provider = Some(value.to_owned()),
            "endpoint" => filter.endpoint = Some(value.to_owned()),
            "event_type" => filter.event_type = Some(value.to_owned()),
            "since" => filter.since_ms = Some(parse_when(value)?),
            "until" => filter.until_ms = Some(parse_when(value)?),
            other => {
                return Err(format!(
                    "unknown filter key {other:?} (state, provider, endpoint, event_type, since, until)"
                ));
            }
        }
    }
    if filter == Filter::default() {
        return Err("an empty filter would replay every entry: name at least one key".to_owned());
    }
    Ok(filter)
}

fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// Unix milliseconds in RFC 3339.
fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        let inbox = connect(args).await?;
        match &args.action {
            Action::Stats => stats(&inbox).await,
            Action::List(list_args) => list(&inbox, list_args).await,
            Action::Show(show_args) => show(&inbox, show_args).await,
            Action::Replay(replay_args) => replay(&inbox, replay_args).await,
            Action::Pause(scope) => pause(&inbox, scope, true).await,
            Action::Resume(scope) => pause(&inbox, scope, false).await,
            Action::Purge(purge_args) => purge(&inbox, purge_args).await,
        }
    });
    // Errors here are the database's or the entries': exit 1 (2 is bad usage).
    Ok(outcome.unwrap_or_else(|error| {
        eprintln!("webhook-guard: {error}");
        ExitCode::FAILURE
    }))
}

async fn connect(args: &Args) -> Result<Inbox> {
    inbox_from_env(&args.schema, &args.table, &args.prefix, &args.name).await
}

fn store_error(error: impl std::fmt::Display) -> crate::error::CliError {
    fail(format!("the inbox: {error}"))
}

async fn stats(inbox: &Inbox) -> Result<ExitCode> {
    let stats = inbox.store().stats().await.map_err(store_error)?;
    say!("pending\t{}", stats.pending);
    say!("running\t{}", stats.running);
    say!("done\t{}", stats.done);
    say!("dead\t{}", stats.dead);
    match stats.oldest_pending {
        Some(age) => say!("oldest pending\t{} s", age.as_secs()),
        None => say!("oldest pending\t-"),
    }
    let paused = inbox.store().paused().await.map_err(store_error)?;
    for scope in paused {
        say!(
            "paused\t{}{}",
            scope.provider,
            scope.endpoint.map(|e| format!("/{e}")).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn json_line(entry: &Entry) -> String {
    serde_json::json!({
        "id": entry.id.get(),
        "state": entry.state.as_str(),
        "provider": entry.provider,
        "endpoint": entry.endpoint,
        "delivery_id": entry.delivery_id,
        "event_type": entry.event_type,
        "attempts": entry.attempts,
        "times_seen": entry.times_seen,
        "received_at": rfc3339(entry.received_at_ms),
        "last_error": entry.last_error,
    })
    .to_string()
}

async fn list(inbox: &Inbox, args: &ListArgs) -> Result<ExitCode> {
    let filter = Filter {
        state: args.state,
        provider: args.provider.clone(),
        since_ms: args.since,
        ..Filter::default()
    };
    let (mut after, mut left) = (None, args.limit);
    while left > 0 {
        let page = inbox
            .store()
            .list(&filter, after, left.min(1000))
            .await
            .map_err(store_error)?;
        for entry in &page {
            if args.json {
                say!("{}", json_line(entry));
            } else {
                say!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    entry.id,
                    entry.state,
                    entry.provider,
                    entry.delivery_id,
                    entry.event_type,
                    entry.attempts,
                    rfc3339(entry.received_at_ms)
                );
            }
        }
        left -= page.len();
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(last.id),
            _ => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(inbox: &Inbox, args: &ShowArgs) -> Result<ExitCode> {
    let entry = inbox
        .store()
        .get(args.id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| fail(format!("no entry {}", args.id)))?;
    say!("id\t{}", entry.id);
    say!("state\t{}", entry.state);
    say!("provider\t{}", entry.provider);
    say!("endpoint\t{}", entry.endpoint);
    say!("delivery id\t{}", entry.delivery_id);
    say!("dedup key\t{}", entry.dedup_key);
    say!("event type\t{}", entry.event_type);
    say!("attempts\t{}", entry.attempts);
    say!("times seen\t{}", entry.times_seen);
    say!("received at\t{}", rfc3339(entry.received_at_ms));
    say!("last seen\t{}", rfc3339(entry.last_seen_ms));
    if let Some(key) = &entry.ordering_key {
        say!("ordering key\t{key}");
    }
    if let Some(error) = &entry.last_error {
        say!("last error\t{error}");
    }
    for attempt in &entry.history {
        say!(
            "history\t{}\tattempt {}\t{}{}",
            rfc3339(attempt.at_ms),
            attempt.attempt,
            attempt.outcome,
            attempt
                .error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
    }
    for (name, value) in entry.headers.pairs() {
        say!("header\t{name}: {}", String::from_utf8_lossy(value));
    }
    say!("body\t{} bytes", entry.body.len());
    {
        use std::io::Write as _;
        let mut out = std::io::stdout();
        let _ = out.write_all(&entry.body);
        let _ = writeln!(out);
    }
    say!("{}", verify_again(&entry, args.secret.as_deref()));
    Ok(ExitCode::SUCCESS)
}

/// Verifies the stored body again, as of when it was received.
fn verify_again(entry: &Entry, flag: Option<&str>) -> String {
    let Ok(provider) = ProviderName::named(&entry.provider) else {
        return format!(
            "verify\tnot checked: {} is not a built-in provider",
            entry.provider
        );
    };
    let secret = flag
        .map(str::to_owned)
        .or_else(|| std::env::var(provider.secret_variable()).ok());
    let Some(secret) = secret else {
        return format!(
            "verify\tnot checked: pass --secret or set {}",
            provider.secret_variable()
        );
    };
    let built = (provider.0.build)(&Config::new(&secret));
    let verifier = match built {
        Ok(verifier) => verifier,
        Err(error) => return format!("verify\tFAIL: the secret is not usable: {error}"),
    };
    let at = entry.received_at_ms / 1000;
    match verifier.authenticate(&entry.headers, &entry.body, at) {
        Ok(_) => "verify\tPASS: the stored body verifies with the secret (as of its reception)"
            .to_owned(),
        Err(error) => format!("verify\tFAIL: {error}"),
    }
}

async fn replay(inbox: &Inbox, args: &ReplayArgs) -> Result<ExitCode> {
    if let Some(filter) = &args.filter {
        let cancel = Cancel::new();
        let on_interrupt = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping after the step in progress");
                on_interrupt.cancel();
            }
        });
        let throttle = Throttle::new(args.batch, Duration::from_millis(args.pause_ms));
        let report = inbox
            .replay_matching(filter, throttle, &cancel, async |pause| {
                tokio::time::sleep(pause).await
            })
            .await
            .map_err(store_error)?;
        say!(
            "replayed {}{}",
            report.replayed,
            if report.cancelled { " (stopped)" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let replayed = inbox.store().replay(&args.ids).await.map_err(store_error)?;
    let missed: Vec<String> = (args.ids.iter())
        .filter(|id| !replayed.contains(id))
        .map(ToString::to_string)
        .collect();
    say!("replayed {}", replayed.len());
    if missed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(fail(format!(
            "not replayed (no such entry, or running): {}",
            missed.join(" ")
        )))
    }
}

async fn pause(inbox: &Inbox, args: &ScopeArgs, pause: bool) -> Result<ExitCode> {
    let scope = PauseScope {
        provider: args.provider.clone(),
        endpoint: args.endpoint.clone(),
    };
    if pause {
        inbox.store().pause(&scope).await.map_err(store_error)?;
        say!("paused {}", args.provider);
    } else if inbox.store().resume(&scope).await.map_err(store_error)? {
        say!("resumed {}", args.provider);
    } else {
        say!("{} was not paused", args.provider);
    }
    Ok(ExitCode::SUCCESS)
}

async fn purge(inbox: &Inbox, args: &PurgeArgs) -> Result<ExitCode> {
    const BATCH: usize = 1000;
    let mut total = 0;
    loop {
        let deleted = inbox
            .store()
            .purge(args.older_than, args.dead, BATCH)
            .await
            .map_err(store_error)?;
        total += deleted;
        if deleted < BATCH as u64 {
            break;
        }
    }
    say!("purged {total}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_filters_and_states_parse() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_age("7").is_err());
        assert!(parse_age("7w").is_err());
        let filter = parse_filter("state=dead,provider=github,event_type=push").expect("parses");
        assert_eq!(filter.state, Some(EntryState::Dead));
        assert_eq!(filter.provider.as_deref(), Some("github"));
        assert_eq!(filter.event_type.as_deref(), Some("push"));
        assert!(parse_filter("").is_err(), "an empty filter is refused");
        assert!(parse_filter("colour=red").is_err());
        assert!(parse_filter("state=sleeping").is_err());
        let since = parse_filter("since=2025-01-15T10:30:00Z").expect("parses");
        assert_eq!(since.since_ms, Some(1_736_937_000_000));
        let age = parse_when("1h").expect("an age");
        assert!((now_ms() - age - 3_600_000).abs() < 5_000);
    }
}
