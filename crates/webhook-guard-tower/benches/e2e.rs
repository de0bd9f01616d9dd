//! End-to-end load on loopback: a bare axum handler that reads the body, against the same
//! handler behind `WebhookGuardLayer` with a `MemoryStore`, side by side in one run.
//!
//! Each request is a 1 KiB signed Parallel delivery with a new id. 64 connections each send
//! their share of the requests one after another (HTTP/1.1 keep-alive). The two servers are
//! measured in alternating rounds; the table gives the median round of each.
//!
//! `cargo bench -p webhook-guard-tower --bench e2e` (`E2E_REQUESTS`, `E2E_ROUNDS` to change
//! the defaults of 20,000 requests and 5 rounds).

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, http::StatusCode, routing::post};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use webhook_guard::{Receiver, parallel::Parallel, scheme::unix_now};
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const CONNECTIONS: usize = 64;

/// A `task_run.status` delivery padded to 1 KiB.
fn body() -> Vec<u8> {
    let head = r#"{"type":"task_run.status","timestamp":"2025-10-27T15:02:11.204518Z","data":{"run_id":"trun_9907962f83aa4d9d98fd7f4bf745d654","status":"completed","is_active":false,"processor":"core","metadata":{"note":""#;
    let tail = r#""},"created_at":"2025-10-27T14:59:48.118204Z","modified_at":"2025-10-27T15:02:11.198731Z","error":null,"warnings":null}}"#;
    let pad = 1024 - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
}

async fn bare(body: Bytes) -> StatusCode {
    std::hint::black_box(body.len());
    StatusCode::OK
}

async fn guarded(Webhook(delivery): Webhook<webhook_guard::parallel::Event>) -> StatusCode {
    std::hint::black_box(&delivery.event);
    StatusCode::OK
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
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

fn requests(
    addr: SocketAddr,
    path: &str,
    round: usize,
    count: usize,
    body: &[u8],
) -> Vec<Request<Full<Bytes>>> {
    let parallel = Parallel::new(SECRET).expect("secret");
    let now = unix_now();
    (0..count)
        .map(|i| {
            let headers = parallel.sign_headers(&format!("whevent_{round}_{i}"), now, body);
            let mut request = Request::post(format!("http://{addr}{path}"))
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
}

fn summarize(wall: Duration, mut latencies: Vec<Duration>) -> Round {
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Round {
        per_second: latencies.len() as f64 / wall.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
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

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let count = env_number("E2E_REQUESTS", 20_000);
    let rounds = env_number("E2E_ROUNDS", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let body = body();
        assert_eq!(body.len(), 1024);
        let bare_addr = serve(Router::new().route("/bare", post(bare))).await;
        let receiver = Receiver::new(Parallel::new(SECRET).expect("secret")).expect("receiver");
        let guarded_addr = serve(Router::new().route(
            "/guarded",
            post(guarded).layer(WebhookGuardLayer::new(receiver)),
        ))
        .await;

        // Warm up both servers.
        load(bare_addr, requests(bare_addr, "/bare", 0, 2_000, &body)).await;
        load(guarded_addr, requests(guarded_addr, "/guarded", 0, 2_000, &body)).await;

        let mut bare_rounds = Vec::new();
        let mut guarded_rounds = Vec::new();
        for round in 1..=rounds {
            // Alternate which server goes first, so neither always follows the other.
            let only = std::env::var("E2E_ONLY").unwrap_or_default();
            for guarded_turn in [round % 2 == 0, round % 2 == 1] {
                if (only == "bare" && guarded_turn) || (only == "guarded" && !guarded_turn) {
                    continue;
                }
                if guarded_turn {
                    let batch = requests(guarded_addr, "/guarded", round, count, &body);
                    let (wall, latencies) = load(guarded_addr, batch).await;
                    guarded_rounds.push(summarize(wall, latencies));
                } else {
                    let batch = requests(bare_addr, "/bare", round, count, &body);
                    let (wall, latencies) = load(bare_addr, batch).await;
                    bare_rounds.push(summarize(wall, latencies));
                }
            }
            if let (Some(b), Some(g)) = (bare_rounds.last(), guarded_rounds.last()) {
                eprintln!("round {round}: bare {:.0}/s, guarded {:.0}/s", b.per_second, g.per_second);
            }
        }
        if bare_rounds.is_empty() || guarded_rounds.is_empty() {
            return;
        }
        let bare = median(&mut bare_rounds);
        let guarded = median(&mut guarded_rounds);
        println!(
            "{count} requests of 1 KiB, {CONNECTIONS} connections, median of {rounds} alternating rounds"
        );
        println!("| server | requests/s | p50 | p99 |");
        println!("|---|---|---|---|");
        for (name, r) in [("bare axum handler", bare), ("WebhookGuardLayer + MemoryStore", guarded)] {
            println!(
                "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
                r.per_second,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3
            );
        }
        println!(
            "\nguarded/bare throughput: {:.3}x (target: at least 0.85x)",
            guarded.per_second / bare.per_second
        );
    });
}
