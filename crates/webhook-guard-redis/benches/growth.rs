//! How `RedisStore`'s cost grows with what it keeps, on Redis servers started for it (no
//! persistence, as in `redis_store`):
//!
//! 1. Bytes per record at `GROWTH_REDIS_RECORDS` (1,000,000) done records: `used_memory`
//!    growth per record, and `MEMORY USAGE` of one record.
//! 2. Claim+complete pairs per second on a server holding those records, against an empty
//!    server, in alternating rounds.
//! 3. The p99 of those pairs while about 1,000 records a second reach the end of their
//!    retention (Redis expires them itself), against a server of the same size where none
//!    does, in alternating rounds.
//!
//! `cargo bench -p webhook-guard-redis --bench growth` (needs `redis-server`).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, DedupStore};
use webhook_guard_redis::{RedisStore, test_server::RedisServer};

mod common;
use common::{median, p99};

const LEASE: Duration = Duration::from_secs(60);
const RETENTION: Duration = Duration::from_secs(72 * 3600);
const CONCURRENCY: usize = 16;
const PAIRS: usize = 50_000;
const ROUNDS: usize = 5;
/// Records that expire one a millisecond, beginning a few seconds after they are written.
const EXPIRING: usize = 120_000;

/// Claim+complete pairs on keys `tag-0..count`, `concurrency` tasks; `retention` of the i-th.
async fn pairs(
    store: &Arc<RedisStore>,
    tag: &str,
    count: usize,
    concurrency: usize,
    retention: fn(usize) -> Duration,
) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let (store, tag) = (Arc::clone(store), tag.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::new();
                for i in (task..count).step_by(concurrency) {
                    let key = DedupKey::new("parallel:default", &format!("whevent_{tag}{i:014}"));
                    let token = ClaimToken::random();
                    let one = Instant::now();
                    match store.claim(&key, &token, LEASE).await.expect("claim") {
                        Claim::Claimed => store
                            .complete(&key, &token, retention(i))
                            .await
                            .expect("complete"),
                        other => panic!("fresh key {key}: {other:?}"),
                    }
                    times.push(one.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::with_capacity(count);
    for task in tasks {
        times.extend(task.await.expect("task"));
    }
    (count as f64 / started.elapsed().as_secs_f64(), times)
}

fn kept(_: usize) -> Duration {
    RETENTION
}

fn staggered(i: usize) -> Duration {
    Duration::from_secs(8) + Duration::from_millis(i as u64)
}

async fn used_memory(url: &str) -> u64 {
    let mut connection = redis::Client::open(url)
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    common::used_memory(&mut connection)
        .await
        .try_into()
        .expect("positive")
}

async fn memory_usage(url: &str, key: &str) -> Option<u64> {
    let mut connection = redis::Client::open(url)
        .ok()?
        .get_multiplexed_async_connection()
        .await
        .ok()?;
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query_async(&mut connection)
        .await
        .ok()
}

fn main() {
    let records: usize = std::env::var("GROWTH_REDIS_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (Some(empty), Some(full), Some(expiring)) = (
        RedisServer::start_in_memory(),
        RedisServer::start_in_memory(),
        RedisServer::start_in_memory(),
    ) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let connect = |url: String| async move {
            Arc::new(RedisStore::connect(url).await.expect("connected"))
        };
        let (on_empty, on_full, on_expiring) = (
            connect(empty.url()).await,
            connect(full.url()).await,
            connect(expiring.url()).await,
        );
        println!("Redis 7 on loopback, no persistence; {ROUNDS} alternating rounds of {PAIRS} pairs at concurrency {CONCURRENCY}, medians\n");

        let before = used_memory(&full.url()).await;
        let started = Instant::now();
        pairs(&on_full, "fill", records, 64, kept).await;
        let after = used_memory(&full.url()).await;
        pairs(&on_expiring, "fill", records, 64, kept).await;
        eprintln!("filled 2 x {records} records in {:.0} s", started.elapsed().as_secs_f64());
        let sample = on_full.redis_key(
            DedupKey::new("parallel:default", &format!("whevent_fill{:014}", 7)).as_str(),
        );
        println!("| records | used_memory growth | bytes per record | MEMORY USAGE of one record |");
        println!("|---|---|---|---|");
        println!(
            "| {records} | {:.1} MiB | {:.0} | {} B (key `{sample}`) |",
            (after - before) as f64 / 1_048_576.0,
            (after - before) as f64 / records as f64,
            memory_usage(&full.url(), &sample)
                .await
                .map_or_else(|| "?".to_owned(), |b| b.to_string()),
        );

        println!();
        println!("| server | pairs/s | p99 |");
        println!("|---|---|---|");
        let (mut a, mut b, mut ratios, mut pa, mut pb) = (vec![], vec![], vec![], vec![], vec![]);
        for round in 0..ROUNDS {
            let (x, tx) = pairs(&on_empty, &format!("e{round}_"), PAIRS, CONCURRENCY, kept).await;
            let (y, ty) = pairs(&on_full, &format!("f{round}_"), PAIRS, CONCURRENCY, kept).await;
            a.push(x);
            b.push(y);
            ratios.push(y / x);
            pa.push(p99(tx).as_secs_f64() * 1000.0);
            pb.push(p99(ty).as_secs_f64() * 1000.0);
        }
        println!("| empty | {:.0} | {:.2} ms |", median(a), median(pa));
        println!("| {records} records | {:.0} | {:.2} ms |", median(b), median(pb));
        println!("full / empty: **{:.2}x** (target: at least 0.80x)", median(ratios));

        // The same number of records on both; on one, EXPIRING of them pass their retention
        // one a millisecond from 8 s after they are written.
        pairs(&on_full, "more", EXPIRING, 64, kept).await;
        pairs(&on_expiring, "more", EXPIRING, 64, staggered).await;
        tokio::time::sleep(Duration::from_secs(8)).await;
        println!();
        println!("Two servers of {} records; on one, about 1,000 a second pass their retention (Redis expires them)", records + EXPIRING);
        println!("| | pairs/s | p99 |");
        println!("|---|---|---|");
        let (mut a, mut b, mut ratios, mut pa, mut pb) = (vec![], vec![], vec![], vec![], vec![]);
        for round in 0..ROUNDS {
            let (x, tx) = pairs(&on_full, &format!("k{round}_"), PAIRS, CONCURRENCY, kept).await;
            let (y, ty) =
                pairs(&on_expiring, &format!("x{round}_"), PAIRS, CONCURRENCY, kept).await;
            a.push(x);
            b.push(y);
            let (qa, qb) = (p99(tx).as_secs_f64(), p99(ty).as_secs_f64());
            pa.push(qa * 1000.0);
            pb.push(qb * 1000.0);
            ratios.push(qb / qa);
        }
        let left = used_memory(&expiring.url()).await;
        println!("| nothing expires | {:.0} | {:.2} ms |", median(a), median(pa));
        println!("| about 1,000 a second expire | {:.0} | {:.2} ms |", median(b), median(pb));
        println!(
            "p99 with expiry / without: **{:.2}x** (target: at most 1.20x); used_memory of the expiring server at the end: {:.1} MiB",
            median(ratios),
            left as f64 / 1_048_576.0
        );
    });
}
