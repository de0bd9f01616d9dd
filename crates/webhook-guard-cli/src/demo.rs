//! `webhook-guard demo`: an in-process receiver on a free loopback port, every sample event
//! sent to it, and the cases the guard exists for.

use std::{
    collections::HashMap,
    net::SocketAddr,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, http::StatusCode, routing::post};
use webhook_guard::{
    Provider, Receiver, WebhookEvent,
    catalog::Config,
    dedup::{DedupStore, MemoryStore},
    fixtures,
    provider::AnyEvent,
};
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

use crate::{
    error::{Result, fail},
    provider::{ProviderName, now},
    sign::headers,
};

/// Runs the demo.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How many copies of one delivery the concurrent burst sends at once.
    #[arg(long, value_name = "N", default_value_t = 50)]
    burst: usize,
}

/// Handler runs by delivery id.
type Runs = Arc<Mutex<HashMap<String, usize>>>;

fn runs_of(runs: &Runs, id: &str) -> usize {
    runs.lock().map_or(0, |r| r.get(id).copied().unwrap_or(0))
}

async fn handle<E: WebhookEvent + Clone>(
    axum::extract::State(runs): axum::extract::State<Runs>,
    Webhook(delivery): Webhook<E>,
) -> StatusCode {
    if let Ok(mut runs) = runs.lock() {
        *runs
            .entry(delivery.meta.delivery_id.to_string())
            .or_default() += 1;
    }
    // The handler's work, long enough for the burst to find deliveries in flight.
    tokio::time::sleep(Duration::from_millis(20)).await;
    StatusCode::OK
}

fn guard<P: Provider>(provider: P, store: &Arc<dyn DedupStore>) -> Result<WebhookGuardLayer<P>> {
    let receiver = Receiver::builder(provider)
        .store(Arc::clone(store))
        .build()
        .map_err(|e| fail(format!("cannot build the receiver: {e}")))?;
    Ok(WebhookGuardLayer::new(receiver))
}

fn demo_secret(provider: ProviderName) -> &'static str {
    provider.0.secret.demo
}

/// A receiver for every provider of the catalogue, with the demo secrets and one
/// `MemoryStore`, each on `/webhooks/<name>`.
async fn start_receiver(runs: Runs) -> Result<SocketAddr> {
    let store: Arc<dyn DedupStore> = Arc::new(MemoryStore::new());
    let mut app = Router::new();
    for provider in ProviderName::all() {
        let built = (provider.0.build)(&Config::new(demo_secret(provider)))
            .map_err(|e| fail(format!("demo secret refused: {e}")))?;
        app = app.route(
            &format!("/webhooks/{}", provider.as_str()),
            post(handle::<AnyEvent>).layer(guard(built, &store)?),
        );
    }
    let app = app.with_state(runs);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| fail(format!("cannot listen on loopback: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| fail(format!("no local address: {e}")))?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("webhook-guard: the demo receiver stopped: {error}");
        }
    });
    Ok(addr)
}

/// The event type of the sample whose body `body` is, for providers that send it in a header.
fn event_type(provider: ProviderName, body: &[u8]) -> Option<&'static str> {
    fixtures::of(provider.as_str())
        .find(|fixture| fixture.body == body || body.starts_with(fixture.body))
        .map(|fixture| fixture.event_type)
}

/// A delivery the receiver must refuse: signed over `fixture`'s body, `sent` as sent.
struct BadCase {
    provider: ProviderName,
    fixture: &'static fixtures::Fixture,
    id: &'static str,
    timestamp: i64,
    secret: &'static str,
    sent: Vec<u8>,
    case: &'static str,
}

/// One line of the table.
struct Row {
    provider: &'static str,
    event_type: String,
    case: String,
    status: String,
    outcome: String,
    expected: bool,
}

/// What the receiver answered.
struct Answer {
    status: u16,
    duplicate: bool,
    text: String,
}

impl Answer {
    fn outcome(&self, ran: bool) -> String {
        match (self.status, self.duplicate) {
            (200..=299, false) if ran => "processed".to_owned(),
            (200, true) => "duplicate (handler not run)".to_owned(),
            (409, _) => "in flight (retry later)".to_owned(),
            (status, _) if status >= 400 => format!("rejected: {}", self.text),
            _ => "answered, but the handler did not run".to_owned(),
        }
    }
}

struct Demo {
    client: reqwest::Client,
    addr: SocketAddr,
    runs: Runs,
}

impl Demo {
    async fn post(
        &self,
        provider: ProviderName,
        id: &str,
        timestamp: i64,
        body: &[u8],
        secret: &str,
        sent_body: &[u8],
    ) -> Result<Answer> {
        let headers = headers(
            provider,
            secret,
            id,
            timestamp,
            event_type(provider, body),
            body,
        )?;
        let mut request = self
            .client
            .post(format!(
                "http://{}/webhooks/{}",
                self.addr,
                provider.as_str()
            ))
            .header("content-type", "application/json")
            .body(sent_body.to_vec());
        for (name, value) in headers.iter() {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| fail(format!("the demo receiver did not answer: {e}")))?;
        let status = response.status().as_u16();
        let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
        let text = response.text().await.unwrap_or_default();
        Ok(Answer {
            status,
            duplicate,
            text,
        })
    }

    /// The delivery id the receiver reads from `body` signed with `id`, by the provider's
    /// rule (FullEnrich's is the body's digest, Stripe's the body's `id`).
    fn delivery_id(provider: ProviderName, id: &str, body: &[u8]) -> String {
        headers(
            provider,
            demo_secret(provider),
            id,
            0,
            event_type(provider, body),
            body,
        )
        .and_then(|headers| {
            provider
                .0
                .delivery_id
                .read(&headers, body)
                .map_err(|e| fail(e.to_string()))
        })
        .map(|id| id.to_string())
        .unwrap_or_default()
    }
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    if args.burst < 2 {
        return Err(fail("--burst must be at least 2"));
    }
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(demo(args))
}

async fn demo(args: &Args) -> Result<ExitCode> {
    let runs = Runs::default();
    let addr = start_receiver(Arc::clone(&runs)).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.burst)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
    let demo = Demo { client, addr, runs };
    say!("receiver listening on {addr} (in-memory store, demo secrets)\n");
    let mut rows = Vec::new();

    // Every sample of every provider, correctly signed: processed once.
    for provider in ProviderName::all() {
        let secret = demo_secret(provider);
        for (i, fixture) in fixtures::of(provider.as_str()).enumerate() {
            let id = format!("demo-{}-{i}", provider.as_str());
            let answer = demo
                .post(provider, &id, now(), fixture.body, secret, fixture.body)
                .await?;
            let ran = runs_of(&demo.runs, &Demo::delivery_id(provider, &id, fixture.body)) == 1;
            rows.push(Row {
                provider: provider.as_str(),
                event_type: fixture.event_type.to_owned(),
                case: format!("signed ({})", fixture.name),
                status: answer.status.to_string(),
                outcome: answer.outcome(ran),
                expected: answer.status == 200 && !answer.duplicate && ran,
            });
        }
    }

    // A retry of a processed delivery: a duplicate; the handler does not run again.
    let first = fixtures::of("parallel")
        .next()
        .ok_or_else(|| fail("no sample"))?;
    let parallel_secret = demo_secret(ProviderName::named("parallel")?);
    let answer = demo
        .post(
            ProviderName::named("parallel")?,
            "demo-parallel-0",
            now(),
            first.body,
            parallel_secret,
            first.body,
        )
        .await?;
    rows.push(Row {
        provider: "parallel",
        event_type: first.event_type.to_owned(),
        case: "retry of a processed delivery".to_owned(),
        status: format!(
            "{}{}",
            answer.status,
            if answer.duplicate { " duplicate" } else { "" }
        ),
        outcome: answer.outcome(false),
        expected: answer.status == 200
            && answer.duplicate
            && runs_of(&demo.runs, "demo-parallel-0") == 1,
    });

    // A tampered body, a stale timestamp, a wrong secret: 401, the handler never runs.
    let parseflow = fixtures::of("parseflow")
        .next()
        .ok_or_else(|| fail("no sample"))?;
    let mut tampered = parseflow.body.to_vec();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let sixtyfour = fixtures::of("sixtyfour")
        .next()
        .ok_or_else(|| fail("no sample"))?;
    let cases = [
        BadCase {
            provider: ProviderName::named("parseflow")?,
            fixture: parseflow,
            id: "demo-tampered",
            timestamp: now(),
            secret: demo_secret(ProviderName::named("parseflow")?),
            sent: tampered,
            case: "tampered body (one byte changed)",
        },
        BadCase {
            provider: ProviderName::named("sixtyfour")?,
            fixture: sixtyfour,
            id: "demo-stale",
            timestamp: now() - 3600,
            secret: demo_secret(ProviderName::named("sixtyfour")?),
            sent: sixtyfour.body.to_vec(),
            case: "stale (signed an hour ago)",
        },
        BadCase {
            provider: ProviderName::named("parallel")?,
            fixture: first,
            id: "demo-forged",
            timestamp: now(),
            secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            sent: first.body.to_vec(),
            case: "signed with another secret",
        },
    ];
    for bad in cases {
        let answer = demo
            .post(
                bad.provider,
                bad.id,
                bad.timestamp,
                bad.fixture.body,
                bad.secret,
                &bad.sent,
            )
            .await?;
        let ran = runs_of(
            &demo.runs,
            &Demo::delivery_id(bad.provider, bad.id, &bad.sent),
        ) > 0;
        rows.push(Row {
            provider: bad.provider.as_str(),
            event_type: bad.fixture.event_type.to_owned(),
            case: bad.case.to_owned(),
            status: answer.status.to_string(),
            outcome: answer.outcome(ran),
            expected: answer.status == 401 && !ran,
        });
    }

    // A burst of copies of one new delivery at once: the handler runs once. A body not sent
    // before (the sample with a trailing newline): Sixtyfour deliveries are deduplicated by
    // their signed body, so the sample itself would be a duplicate of its earlier run.
    let demo = Arc::new(demo);
    let burst_body: Arc<[u8]> = [sixtyfour.body, b"\n"].concat().into();
    let copies: Vec<_> = (0..args.burst)
        .map(|_| {
            let (demo, body) = (Arc::clone(&demo), Arc::clone(&burst_body));
            tokio::spawn(async move {
                demo.post(
                    ProviderName::named("sixtyfour")?,
                    "demo-burst",
                    now(),
                    &body,
                    demo_secret(ProviderName::named("sixtyfour")?),
                    &body,
                )
                .await
            })
        })
        .collect();
    let (mut processed, mut duplicates, mut in_flight, mut other) = (0, 0, 0, 0);
    for copy in copies {
        let answer = copy
            .await
            .map_err(|e| fail(format!("a sender failed: {e}")))??;
        match (answer.status, answer.duplicate) {
            (200, false) => processed += 1,
            (200, true) => duplicates += 1,
            (409, _) => in_flight += 1,
            _ => other += 1,
        }
    }
    let ran = runs_of(&demo.runs, "demo-burst");
    rows.push(Row {
        provider: "sixtyfour",
        event_type: sixtyfour.event_type.to_owned(),
        case: format!("{} copies at once", args.burst),
        status: "200 / 409".to_owned(),
        outcome: format!(
            "handler ran {ran}x: {processed} processed, {duplicates} duplicate, {in_flight} in flight{}",
            if other > 0 {
                format!(", {other} other")
            } else {
                String::new()
            }
        ),
        expected: processed == 1 && ran == 1 && other == 0,
    });

    print_table(&rows);
    let unexpected = rows.iter().filter(|r| !r.expected).count();
    let types: usize = ProviderName::all()
        .map(|p| fixtures::event_types(p.as_str()).len())
        .sum();
    say!();
    if unexpected == 0 {
        say!(
            "{} checks, every outcome as expected: {} samples ({types} event types of {} providers) processed once each, the duplicate answered without running the handler, 3 bad deliveries rejected, the burst run once.",
            rows.len(),
            fixtures::all().count(),
            ProviderName::all().count()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        say!(
            "{unexpected} of {} checks did not go as expected (marked ✗).",
            rows.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

fn print_table(rows: &[Row]) {
    let width =
        |f: fn(&Row) -> usize, title: &str| rows.iter().map(f).max().unwrap_or(0).max(title.len());
    let provider = width(|r| r.provider.len(), "provider");
    let event = width(|r| r.event_type.len(), "event type");
    let case = width(|r| r.case.chars().count(), "case");
    let status = width(|r| r.status.len(), "status");
    say!(
        "  {:<provider$}  {:<event$}  {:<case$}  {:<status$}  outcome",
        "provider",
        "event type",
        "case",
        "status"
    );
    for row in rows {
        say!(
            "{} {:<provider$}  {:<event$}  {:<case$}  {:<status$}  {}",
            if row.expected { "✓" } else { "✗" },
            row.provider,
            row.event_type,
            row.case,
            row.status,
            row.outcome
        );
    }
}
