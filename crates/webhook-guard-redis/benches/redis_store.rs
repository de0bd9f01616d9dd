//! Claim+complete pairs per second through `RedisStore` at concurrency 1, 16 and 64, against
//! `redis-benchmark -t set` (the floor of one round trip) on the same server with the same
//! concurrency, in the same run. Targets: at concurrency 1, pairs/s at least 0.5x the `redis`
//! crate's SET rate (a pair is two round trips: that is the limit); at 16, at least 0.55x
//! `redis-benchmark`'s. A third column gives plain `SET`s through the `redis` crate's own connection
//! manager at the same concurrency: the floor of a round trip from Rust with that client.
//!
//! `cargo bench -p webhook-guard-redis --bench redis_store` (`REDIS_BENCH_REQUESTS` changes
//! the 50,000 operations per measurement, `REDIS_BENCH_ROUNDS` the 3 rounds; medians are
//! shown). Needs `redis-server` and `redis-benchmark`; without them it prints why and exits.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, DedupStore};
use webhook_guard_redis::{RedisStore, test_server::RedisServer};

const LEASE: Duration = Duration::from_secs(60);
const RETENTION: Duration = Duration::from_secs(3600);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `redis-benchmark -t set` at `concurrency`: SET requests per second.
fn redis_benchmark(port: u16, concurrency: usize, requests: usize) -> Option<f64> {
    let output = Command::new("redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "set",
            "-q",
        ])
        .args(["-c", &concurrency.to_string(), "-n", &requests.to_string()])
        .output()
        .ok()?;
    // "SET: 81234.56 requests per second, p50=0.303 msec", after progress lines ended by '\r'.
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .split(['\r', '\n'])
        .map(str::trim)
        .find(|l| l.starts_with("SET:") && l.contains("requests per second"))?;
    line.trim_start_matches("SET:")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Claim+complete pairs per second through the store, `concurrency` tasks at once.
async fn store_pairs(
    store: Arc<RedisStore>,
    concurrency: usize,
    pairs: usize,
    round: usize,
) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in (task..pairs).step_by(concurrency) {
                    let key = DedupKey::new("bench", &format!("{round}:{concurrency}:{i}"));
                    let token = ClaimToken::random();
                    match store.claim(&key, &token, LEASE).await.expect("claim") {
                        Claim::Claimed => store
                            .complete(&key, &token, RETENTION)
                            .await
                            .expect("complete"),
                        other => panic!("fresh key {key}: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    pairs as f64 / started.elapsed().as_secs_f64()
}

/// Plain `SET`s per second through the `redis` crate's connection manager (the client this
/// store uses), `concurrency` tasks at once: the floor of one round trip from Rust.
async fn client_sets(
    connection: redis::aio::ConnectionManager,
    concurrency: usize,
    requests: usize,
    round: usize,
) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let mut connection = connection.clone();
            tokio::spawn(async move {
                for i in (task..requests).step_by(concurrency) {
                    let () = redis::cmd("SET")
                        .arg(format!("plain:{round}:{concurrency}:{i}"))
                        .arg("x")
                        .query_async(&mut connection)
                        .await
                        .expect("SET");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    requests as f64 / started.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let requests = env_number("REDIS_BENCH_REQUESTS", 50_000);
    let rounds = env_number("REDIS_BENCH_ROUNDS", 3).max(1);
    let Some(server) = RedisServer::start_in_memory() else {
        return;
    };
    if redis_benchmark(server.port(), 1, 10).is_none() {
        println!("skipped: redis-benchmark is not installed or did not run");
        return;
    }
    let threads = env_number("REDIS_BENCH_THREADS", 2);
    let runtime = if threads == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .expect("runtime")
    };
    let store = Arc::new(
        runtime
            .block_on(RedisStore::connect(server.url()))
            .expect("connected"),
    );
    let plain = runtime
        .block_on(async {
            redis::Client::open(server.url())?
                .get_connection_manager()
                .await
        })
        .expect("connection manager");
    // Warm up both.
    let _ = redis_benchmark(server.port(), 16, requests / 5);
    runtime.block_on(store_pairs(Arc::clone(&store), 16, requests / 5, 0));

    println!(
        "{requests} operations per measurement, median of {rounds} rounds, the three alternating"
    );
    println!(
        "| concurrency | redis-benchmark SET/s | redis crate SET/s | RedisStore claim+complete pairs/s | pairs / redis-benchmark SET | pairs / redis crate SET |"
    );
    println!("|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for concurrency in [1, 16, 64] {
        let (mut sets, mut client, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=rounds {
            sets.push(
                redis_benchmark(server.port(), concurrency, requests).expect("redis-benchmark"),
            );
            client.push(runtime.block_on(client_sets(plain.clone(), concurrency, requests, round)));
            pairs.push(runtime.block_on(store_pairs(
                Arc::clone(&store),
                concurrency,
                requests,
                round,
            )));
        }
        let (set, client, pair) = (median(&mut sets), median(&mut client), median(&mut pairs));
        println!(
            "| {concurrency} | {set:.0} | {client:.0} | {pair:.0} | {:.2}x | {:.2}x |",
            pair / set,
            pair / client
        );
        match concurrency {
            1 => verdicts.push(format!(
                "concurrency 1: pairs / redis crate SET {:.2}x (target: at least 0.5x, which is the limit: a pair is two round trips, a SET one)",
                pair / client
            )),
            16 => verdicts.push(format!(
                "concurrency 16: pairs / redis-benchmark SET {:.2}x (target: at least 0.55x)",
                pair / set
            )),
            _ => {}
        }
    }
    println!();
    for verdict in verdicts {
        println!("{verdict}");
    }
}
