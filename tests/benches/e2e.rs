//! End-to-end load on loopback: a bare axum handler that reads the body, against a handler
//! behind `WebhookGuardLayer` with a `MemoryStore` (which verifies, deduplicates and parses
//! the typed Parallel event before the handler runs) that takes the typed delivery, side by
//! side in one run.
//!
//! Each request is a 1 KiB signed Parallel delivery with a new id. 64 connections each send
//! their share of the requests one after another (HTTP/1.1 keep-alive). The servers are
//! measured in rotating rounds; the table gives the median round of each. More servers split
//! the cost of the guard: a bare handler that parses the body into `serde_json::Value` (what a
//! handler without the guard would do with a webhook), a plain middleware that buffers the body
//! the way the layer does, the layer alone (no signature check, no store, no parsing), and
//! verification plus deduplication without typed parsing.
//!
//! The server runtime (one thread by default) and the load generator's runtime (one thread)
//! are separate, so that the server's CPU time per request is measured on its own.
//!
//! The same load runs against a bare actix-web handler and the same handler behind the actix
//! middleware (one worker thread); each framework's rows are compared with its own bare row.
//!
//! For each framework, the row users would write instead of the guard: a hand-written handler
//! that reads the body, verifies Standard Webhooks v1 with `hmac` + `base64` + `subtle`
//! (tolerance included), claims the id in a `Mutex<HashMap>`, parses the same typed Parallel
//! event and marks the id done. The guarded rows are compared with it.
//!
//! `cargo bench -p webhook-guard-conformance --bench e2e`; `E2E_REQUESTS`, `E2E_ROUNDS`,
//! `E2E_SERVER_THREADS` and `E2E_CLIENT_THREADS` change the defaults of 10,000 requests, 9
//! rounds, 1 and 1; `E2E_ONLY=<row>` runs a single server (for profiling).

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, http::StatusCode, routing::post};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde::de::IgnoredAny;
use webhook_guard::{
    Authenticator, Authenticity, DeliveryId, ParseError, Provider, Receiver, StandardWebhooks,
    VerifyError,
    dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreFuture},
    generic::{GenericEvent, GenericStandard},
    headers::Headers,
    parallel::Parallel,
    provider::DeliveryIdRule,
    scheme::unix_now,
};
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

use hand_written::{SECRET, body};

mod hand_written;
use hand_written::{HandWritten, hand_actix, hand_axum};

const CONNECTIONS: usize = 64;

async fn bare(body: Bytes) -> StatusCode {
    std::hint::black_box(body.len());
    StatusCode::OK
}

async fn bare_parsing(body: Bytes) -> StatusCode {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => {
            std::hint::black_box(value);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// What a handler behind the guard does: take the typed delivery.
async fn typed(Webhook(delivery): Webhook<webhook_guard::parallel::Event>) -> StatusCode {
    std::hint::black_box(&delivery);
    StatusCode::OK
}

async fn typed_actix(
    webhook_guard_actix::Webhook(delivery): webhook_guard_actix::Webhook<
        webhook_guard::parallel::Event,
    >,
) -> actix_web::HttpResponse {
    std::hint::black_box(&delivery);
    actix_web::HttpResponse::Ok().finish()
}

async fn untyped(Webhook(delivery): Webhook<GenericEvent<IgnoredAny>>) -> StatusCode {
    std::hint::black_box(&delivery.meta);
    StatusCode::OK
}

/// A provider that checks nothing, for the cost of the layer alone.
#[derive(Debug)]
struct Unchecked;

impl Authenticator for Unchecked {
    fn name(&self) -> &str {
        "unchecked"
    }

    fn authenticate(&self, _: &dyn Headers, _: &[u8], _: i64) -> Result<Authenticity, VerifyError> {
        Ok(Authenticity::UnsignedAllowed)
    }

    fn delivery_id_rule(&self) -> &DeliveryIdRule {
        &DeliveryIdRule::BodyDigest
    }

    /// One constant id, whatever the rule says: the store claims everything anyway.
    fn delivery_id(&self, _: &dyn Headers, _: &[u8]) -> Result<DeliveryId, ParseError> {
        DeliveryId::new(b"same", "constant")
    }
}

impl Provider for Unchecked {
    type Event = GenericEvent<IgnoredAny>;

    fn parse(&self, _: &dyn Headers, _: &[u8]) -> Result<Self::Event, ParseError> {
        Ok(GenericEvent::Parsed {
            event_type: None,
            payload: IgnoredAny,
        })
    }
}

/// A store that claims everything at once, for the cost of the layer alone.
#[derive(Debug)]
struct NoStore;

impl DedupStore for NoStore {
    fn claim<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(std::future::ready(Ok(Claim::Claimed)))
    }

    fn renew<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(std::future::ready(Ok(true)))
    }

    fn complete<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, _: &'a DedupKey, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Serves `app` on the server runtime.
fn serve(server: &tokio::runtime::Runtime, app: Router) -> SocketAddr {
    server.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        addr
    })
}

/// Sends every request over `CONNECTIONS` keep-alive connections; returns the wall time and
/// each request's latency.
async fn load(addr: SocketAddr, requests: Vec<Request<Full<Bytes>>>) -> (Duration, Vec<Duration>) {
    let mut shares: Vec<Vec<Request<Full<Bytes>>>> = (0..CONNECTIONS).map(|_| Vec::new()).collect();
    for (i, request) in requests.into_iter().enumerate() {
        shares[i % CONNECTIONS].push(request);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for share in shares {
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(connection);
            let mut latencies = Vec::with_capacity(share.len());
            for request in share {
                let sent = Instant::now();
                let response = sender.send_request(request).await.expect("response");
                assert_eq!(response.status(), 200);
                response.into_body().collect().await.expect("body");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    (started.elapsed(), latencies)
}

/// Signed requests with fresh ids (signing is done before the clock starts).
fn requests(
    addr: SocketAddr,
    round: usize,
    count: usize,
    body: &[u8],
) -> Vec<Request<Full<Bytes>>> {
    let parallel = Parallel::new(SECRET).expect("secret");
    let now = unix_now();
    (0..count)
        .map(|i| {
            let headers = parallel
                .sign_headers(&format!("whevent_{round}_{i}"), now, body)
                .expect("signs");
            let mut request = Request::post(format!("http://{addr}/"))
                .header("host", addr.to_string())
                .header("content-type", "application/json");
            for (name, value) in headers.iter() {
                request = request.header(name, value);
            }
            request
                .body(Full::new(Bytes::copy_from_slice(body)))
                .expect("request")
        })
        .collect()
}

struct Round {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    /// Process CPU time (user + system, all threads) per request, in microseconds.
    cpu_per_request: f64,
    /// CPU time of the server runtime's threads per request, in microseconds.
    server_cpu_per_request: f64,
}

/// The process's CPU time so far (user + system), from `/proc/self/stat` (Linux; zero
/// elsewhere). Clock ticks are 10 ms; a round takes seconds.
fn cpu_time() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// The CPU time so far of the threads whose name starts with `prefix`, in nanoseconds from
/// `schedstat` (Linux; zero elsewhere): the 10 ms ticks of `stat` are 1 µs per request over
/// 10,000 requests, too coarse for the differences measured here.
fn threads_cpu_time(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix))
        })
        .map(|task| {
            let schedstat = std::fs::read_to_string(task.path().join("schedstat"));
            let nanos = schedstat
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
            Duration::from_nanos(nanos.unwrap_or(0))
        })
        .sum()
}

/// User + system time from a `stat` file of procfs.
fn stat_cpu(path: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn summarize(
    wall: Duration,
    cpu: Duration,
    server_cpu: Duration,
    mut latencies: Vec<Duration>,
) -> Round {
    latencies.sort_unstable();
    let cpu_per_request = cpu.as_secs_f64() * 1e6 / latencies.len() as f64;
    let server_cpu_per_request = server_cpu.as_secs_f64() * 1e6 / latencies.len() as f64;
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Round {
        per_second: latencies.len() as f64 / wall.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        cpu_per_request,
        server_cpu_per_request,
    }
}

fn median(rounds: &mut [Round]) -> &Round {
    rounds.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    &rounds[rounds.len() / 2]
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime(name: &str, threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

fn main() {
    let count = env_number("E2E_REQUESTS", 10_000);
    let rounds = env_number("E2E_ROUNDS", 9);
    // One server only (its index in the table), for profiling.
    let only = std::env::var("E2E_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let server = runtime("e2e-server", env_number("E2E_SERVER_THREADS", 1));
    let client = runtime("e2e-client", env_number("E2E_CLIENT_THREADS", 1));
    let body = body();
    assert_eq!(body.len(), 1024);
    let full = Receiver::new(Parallel::new(SECRET).expect("secret")).expect("receiver");
    let verify_only = Receiver::new(GenericStandard::<IgnoredAny>::typed(
        "standard",
        StandardWebhooks::new(SECRET).expect("secret"),
    ))
    .expect("receiver");
    let layer_only = Receiver::builder(Unchecked)
        .store(Arc::new(NoStore))
        .build()
        .expect("receiver");
    let passthrough = axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            let (parts, body) = request.into_parts();
            let bytes = http_body_util::Limited::new(body, 5 << 20)
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            next.run(request).await
        },
    );
    let tower = |name, addr| Row {
        name,
        addr,
        threads: "e2e-server",
        bare: 0,
    };
    let mut servers = vec![
        tower(
            "bare axum handler (reads the body)",
            serve(&server, Router::new().route("/", post(bare))),
        ),
        tower(
            "bare axum handler that parses the body into serde_json::Value",
            serve(&server, Router::new().route("/", post(bare_parsing))),
        ),
        tower(
            "axum middleware that buffers the body and re-wraps it",
            serve(
                &server,
                Router::new().route("/", post(bare).layer(passthrough)),
            ),
        ),
        tower(
            "layer only (no check, no store, no parse)",
            serve(
                &server,
                Router::new().route("/", post(untyped).layer(WebhookGuardLayer::new(layer_only))),
            ),
        ),
        tower(
            "layer + verify + MemoryStore, untyped",
            serve(
                &server,
                Router::new().route(
                    "/",
                    post(untyped).layer(WebhookGuardLayer::new(verify_only)),
                ),
            ),
        ),
        tower(
            "WebhookGuardLayer + MemoryStore, a handler taking Webhook<parallel::Event>",
            serve(
                &server,
                Router::new().route("/", post(typed).layer(WebhookGuardLayer::new(full))),
            ),
        ),
    ];
    servers.push(tower(
        "hand-written axum handler: HMAC + subtle, Mutex<HashMap>, typed Parallel event",
        serve(
            &server,
            Router::new()
                .route("/", post(hand_axum))
                .with_state(Arc::new(HandWritten::new())),
        ),
    ));
    servers.push(Row {
        name: "bare actix-web handler (reads the body)",
        addr: serve_actix(None),
        threads: "actix-",
        bare: 7,
    });
    servers.push(Row {
        name: "actix WebhookGuard + MemoryStore, a handler taking Webhook<parallel::Event>",
        addr: serve_actix(Some(
            Receiver::new(Parallel::new(SECRET).expect("secret")).expect("receiver"),
        )),
        threads: "actix-",
        bare: 7,
    });
    servers.push(Row {
        name: "hand-written actix-web handler: HMAC + subtle, Mutex<HashMap>, typed Parallel event",
        addr: serve_actix_hand_written(),
        threads: "actix-",
        bare: 7,
    });

    client.block_on(async {
        for row in &servers {
            load(row.addr, requests(row.addr, 0, 2_000, &body)).await;
        }
    });
    let mut results: Vec<Vec<Round>> = servers.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        // Rotate the order so that no server always follows another.
        for k in 0..servers.len() {
            let index = (k + round) % servers.len();
            if only.is_some_and(|only| only != index) {
                continue;
            }
            let Row { addr, threads, .. } = servers[index];
            let batch = requests(addr, round, count, &body);
            let cpu_before = cpu_time();
            let server_before = threads_cpu_time(threads);
            let (wall, latencies) = client.block_on(load(addr, batch));
            let cpu = cpu_time().saturating_sub(cpu_before);
            let server_cpu = threads_cpu_time(threads).saturating_sub(server_before);
            results[index].push(summarize(wall, cpu, server_cpu, latencies));
        }
    }
    println!(
        "{count} requests of 1 KiB, {CONNECTIONS} connections, median of {rounds} rotating rounds"
    );
    println!(
        "| server | requests/s | p50 | p99 | throughput vs bare | server CPU per request | server CPU vs bare | CPU per request (client, server, kernel) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    if let Some(only) = only {
        let rounds = &mut results[only];
        if rounds.is_empty() {
            return;
        }
        let r = median(rounds);
        println!(
            "{}: {:.0} requests/s, server CPU {:.1} µs per request",
            servers[only].name, r.per_second, r.server_cpu_per_request
        );
        return;
    }
    let median_of = |rounds: &[Round], f: fn(&Round) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let throughput: Vec<f64> = results
        .iter_mut()
        .map(|rounds| median(rounds).per_second)
        .collect();
    let server_cpu: Vec<f64> = results
        .iter()
        .map(|rounds| median_of(rounds, |r| r.server_cpu_per_request))
        .collect();
    for (i, (row, rounds)) in servers.iter().zip(results.iter_mut()).enumerate() {
        let cpu = median_of(rounds, |r| r.cpu_per_request);
        let r = median(rounds);
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.3}x | {:.2} µs | {:.3}x | {cpu:.1} µs |",
            row.name,
            r.per_second,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.per_second / throughput[row.bare],
            server_cpu[i],
            server_cpu[row.bare] / server_cpu[i],
        );
    }
    for (framework, guarded, hand) in [("axum", 5, 6), ("actix-web", 8, 9)] {
        println!(
            "\n{framework}: guarded/hand-written throughput: {:.3}x (target: at least 0.95x)",
            throughput[guarded] / throughput[hand]
        );
        println!(
            "{framework}: guard's server CPU per request minus the hand-written one: {:+.2} µs (target: at most +1.5 µs)",
            server_cpu[guarded] - server_cpu[hand]
        );
    }
    println!(
        "axum: guarded/bare throughput: {:.3}x; guarded/(bare handler parsing to Value): {:.3}x",
        throughput[5] / throughput[0],
        throughput[5] / throughput[1]
    );
    println!(
        "actix-web: guarded/bare throughput: {:.3}x",
        throughput[8] / throughput[7]
    );
}

/// A server of the table: its address, the name prefix of the threads that run it (for its
/// CPU time), and the row it is compared with.
#[derive(Clone, Copy)]
struct Row {
    name: &'static str,
    addr: SocketAddr,
    threads: &'static str,
    bare: usize,
}

async fn actix_bare(body: actix_web::web::Bytes) -> actix_web::HttpResponse {
    std::hint::black_box(body.len());
    actix_web::HttpResponse::Ok().finish()
}

/// Serves an actix-web app factory with one worker, on threads of its own.
macro_rules! serve_actix {
    ($factory:expr) => {{
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = actix_web::HttpServer::new($factory)
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
        addr
    }};
}

/// The hand-written actix-web handler.
fn serve_actix_hand_written() -> SocketAddr {
    use actix_web::{App, web};
    let hand = web::Data::new(HandWritten::new());
    serve_actix!(move || {
        App::new()
            .app_data(hand.clone())
            .service(web::resource("/").route(web::post().to(hand_actix)))
    })
}

/// An actix-web server, bare or guarded by `receiver`.
fn serve_actix(receiver: Option<Receiver<Parallel>>) -> SocketAddr {
    use actix_web::{App, web};
    match receiver {
        None => serve_actix!(|| {
            App::new().service(web::resource("/").route(web::post().to(actix_bare)))
        }),
        Some(receiver) => serve_actix!(move || {
            App::new().service(
                web::resource("/")
                    .wrap(webhook_guard_actix::WebhookGuard::new(receiver.clone()))
                    .route(web::post().to(typed_actix)),
            )
        }),
    }
}
