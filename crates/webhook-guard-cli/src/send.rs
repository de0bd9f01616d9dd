//! `webhook-guard send`.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};
use webhook_guard::provider::DeliveryIdRule;

use crate::{
    error::{Result, fail, read_input},
    provider::{ProviderName, fresh_id, now, sample, secret},
    sign::headers,
};

/// Signs a sample event (or a body) and posts it; `--count` sends many.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider whose scheme signs.
    #[arg(value_parser = ProviderName::parser())]
    provider: ProviderName,
    /// The sample's event type or name (see `webhook-guard samples`); with --body, only the
    /// ParseFlow event header is taken from the body.
    event_type: String,
    /// Where to post.
    #[arg(long, value_name = "URL")]
    url: String,
    /// The secret (default: the provider's environment variable, else the demo secret).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
    /// Send this body instead of the sample, byte for byte (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// The delivery id (default: a fresh one; with --count, `<id>-<n>` for each request).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// How many requests to send. Each is a distinct delivery: its own id, and a JSON body
    /// made distinct by trailing white space (the same event), since FullEnrich and ParseFlow
    /// deliveries are deduplicated by their body.
    #[arg(long, value_name = "N", default_value_t = 1)]
    count: usize,
    /// How many requests in flight at once (with --count).
    #[arg(long, value_name = "C", default_value_t = 8)]
    concurrency: usize,
    /// The signed timestamp, in Unix seconds (seconds since 1970-01-01 UTC), for the
    /// providers that sign one (Parallel, Sixtyfour, Stripe). Default: now, for each request.
    /// Receivers refuse a timestamp more than 5 minutes from their clock: try an old one to
    /// see a replay refused.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    timestamp: Option<i64>,
    /// Give up on a request after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
}

/// One request's result: the status (or why there was none) and its time.
struct Sent {
    status: std::result::Result<u16, String>,
    duplicate: bool,
    elapsed: Duration,
    text: String,
}

/// What every request of one `send` shares.
#[derive(Clone)]
struct Sender {
    client: reqwest::Client,
    url: String,
    provider: ProviderName,
    secret: String,
    timestamp: Option<i64>,
    event_type: Option<String>,
}

async fn send_one(sender: &Sender, id: &str, body: &[u8]) -> Result<Sent> {
    let Sender {
        client,
        url,
        provider,
        secret,
        timestamp,
        event_type,
    } = sender;
    let timestamp = timestamp.unwrap_or_else(now);
    let headers = headers(
        *provider,
        secret,
        id,
        timestamp,
        event_type.as_deref(),
        body,
    )?;
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    let started = Instant::now();
    let sent = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
            let text = response.text().await.unwrap_or_default();
            Sent {
                status: Ok(status),
                duplicate,
                elapsed: started.elapsed(),
                text,
            }
        }
        Err(error) => Sent {
            status: Err(describe(&error)),
            duplicate: false,
            elapsed: started.elapsed(),
            text: String::new(),
        },
    };
    Ok(sent)
}

/// A request error in a few words.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    if args.count == 0 || args.concurrency == 0 {
        return Err(fail("--count and --concurrency must be at least 1"));
    }
    let url = reqwest::Url::parse(&args.url)
        .map_err(|e| fail(format!("--url {:?} is not a URL: {e}", args.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(fail("--url must be an http:// or https:// URL"));
    }
    let (body, event_type): (Vec<u8>, Option<String>) = match &args.body {
        Some(path) => (read_input(path)?, None),
        None => {
            let fixture = sample(args.provider, &args.event_type)?;
            (fixture.body.to_vec(), Some(fixture.event_type.to_owned()))
        }
    };
    let (secret, _) = secret(args.provider, args.secret.as_deref(), true)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout.max(1)))
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    let sender = Sender {
        client,
        url: url.to_string(),
        provider: args.provider,
        secret,
        timestamp: args.timestamp,
        event_type,
    };
    if args.count > 1 {
        let id = args.id.clone().unwrap_or_else(fresh_id);
        return runtime.block_on(load(args, sender, &id, body));
    }
    // The id the receiver sees: for a provider whose delivery id is a body field (Stripe's
    // event `id`), the body's (set to --id when given); otherwise the one signed.
    let (id, body) = match (args.provider.0.delivery_id, &args.id) {
        (DeliveryIdRule::BodyField(_), Some(id)) => {
            let body = distinct_body(args.provider, &body, id, 0);
            (id.clone(), body)
        }
        (DeliveryIdRule::BodyField(field), None) => {
            let id = body_field(&body, field).unwrap_or_else(fresh_id);
            (id, body)
        }
        (_, id) => (id.clone().unwrap_or_else(fresh_id), body),
    };
    let sent = runtime.block_on(send_one(&sender, &id, &body))?;
    match sent.status {
        Ok(status) => {
            let note = if sent.duplicate { " (duplicate)" } else { "" };
            say!(
                "{status}{note} in {} — {} {} id {id}",
                millis(sent.elapsed),
                args.provider.as_str(),
                args.event_type
            );
            if !(200..300).contains(&status) && !sent.text.is_empty() {
                say!("{}", sent.text.trim());
            }
            Ok(if (200..300).contains(&status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Err(reason) => Err(fail(format!("{url}: {reason}"))),
    }
}

/// The text of the top-level `field` of a JSON object body.
fn body_field(body: &[u8], field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get(field)?.as_str().map(str::to_owned)
}

/// `body` made the `n`th distinct delivery of a load: a JSON body gets `n` written in binary
/// as trailing JSON white space (space for 0, tab for 1), which changes its bytes (and so the
/// digest FullEnrich and ParseFlow deliveries are deduplicated by) but not its meaning. Other
/// bodies are sent as they are.
///
/// A provider whose delivery id is a body field (Stripe's event `id`) gets that field set to
/// `id` instead: its deliveries are told apart by it.
fn distinct_body(provider: ProviderName, body: &[u8], id: &str, n: usize) -> Vec<u8> {
    if let DeliveryIdRule::BodyField(field) = provider.0.delivery_id
        && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(object) = value.as_object_mut()
    {
        object.insert((*field).to_owned(), serde_json::Value::from(id));
        return serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec());
    }
    let mut distinct = body.to_vec();
    if serde_json::from_slice::<&serde_json::value::RawValue>(body).is_err() {
        return distinct;
    }
    let bits = usize::BITS - n.leading_zeros();
    distinct.push(b'\n');
    distinct.extend((0..bits).map(|bit| if n >> bit & 1 == 1 { b'\t' } else { b' ' }));
    distinct
}

/// `--count N`: N requests, `--concurrency` at a time, with a progress bar and a summary.
async fn load(args: &Args, sender: Sender, id: &str, body: Vec<u8>) -> Result<ExitCode> {
    let bar = ProgressBar::new(args.count as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} requests, {per_sec}, {elapsed}")
    {
        bar.set_style(style);
    }
    let body = Arc::new(body);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency.min(args.count))
        .map(|_| {
            let (sender, id) = (sender.clone(), id.to_owned());
            let (body, next, bar) = (Arc::clone(&body), Arc::clone(&next), bar.clone());
            let count = args.count;
            tokio::spawn(async move {
                let mut results = Vec::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= count {
                        break;
                    }
                    let one = format!("{id}-{n}");
                    let distinct = distinct_body(sender.provider, &body, &one, n);
                    let sent = send_one(&sender, &one, &distinct).await;
                    bar.inc(1);
                    results.push(sent);
                }
                results
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(args.count);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for worker in workers {
        let results = worker
            .await
            .map_err(|e| fail(format!("a sender failed: {e}")))?;
        for sent in results {
            let sent = sent?;
            latencies.push(sent.elapsed);
            let key = match sent.status {
                Ok(status) if sent.duplicate => format!("{status} duplicate"),
                Ok(status) => status.to_string(),
                Err(reason) => reason,
            };
            *by_status.entry(key).or_default() += 1;
        }
    }
    let wall = started.elapsed();
    bar.finish_and_clear();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    say!(
        "{} requests in {:.2} s: {:.0} requests/s, {} at a time",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        args.concurrency
    );
    say!(
        "latency: p50 {}, p90 {}, p99 {}, max {}",
        millis(at(0.50)),
        millis(at(0.90)),
        millis(at(0.99)),
        millis(at(1.0))
    );
    let mut all_ok = true;
    for (status, count) in &by_status {
        let ok = status.starts_with('2');
        all_ok &= ok;
        say!("{status:>16}: {count}");
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
