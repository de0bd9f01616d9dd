//! What the Postgres benchmarks share: running an operation at a concurrency, and comparing
//! two side by side in alternating rounds.

#![allow(dead_code)] // Each bench uses part of it.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{PgPool, postgres::PgPoolOptions};
use webhook_guard::adapter;

pub(crate) type Op = Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub(crate) const ROUNDS: usize = 5;
/// Every run stops after this long, whatever its count.
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(8);

pub(crate) const TOKIO: adapter::Runtime = adapter::Runtime {
    spawn: |task| drop(tokio::spawn(task)),
    background: |task| drop(tokio::spawn(task)),
    sleep: |after| Box::pin(tokio::time::sleep(after)),
};

/// Runs `op(0..count)` with `concurrency` workers; operations per second.
pub(crate) async fn rate(op: &Op, concurrency: usize, count: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, next) = (Arc::clone(op), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || started.elapsed() > RUN_LIMIT {
                        return;
                    }
                    op(i).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let done = next.load(Ordering::Relaxed).min(count) as f64;
    done / started.elapsed().as_secs_f64()
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub(crate) fn count_for(concurrency: usize) -> usize {
    match concurrency {
        1 => 1500,
        16 => 6000,
        _ => 12_000,
    }
}

/// Alternating rounds of `ours` and `baseline`, each run on a fresh key space (the round
/// counter): the median ops/s of each, and the median of the per-round ratios.
pub(crate) async fn compare_fresh(
    ours: &Op,
    baseline: &Op,
    concurrency: usize,
    round: &AtomicUsize,
) -> (f64, f64, f64) {
    let count = count_for(concurrency);
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        round.fetch_add(1, Ordering::Relaxed);
        let x = rate(ours, concurrency, count).await;
        round.fetch_add(1, Ordering::Relaxed);
        let y = rate(baseline, concurrency, count).await;
        a.push(x);
        b.push(y);
        ratios.push(x / y);
    }
    (median(a), median(b), median(ratios))
}

/// The benchmarks' runtime: two worker threads, as many as the machine's cores.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A pool of `connections` on `url`, sqlx's defaults otherwise.
pub(crate) async fn pool(url: &str, connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(connections)
        .connect(url)
        .await
        .expect("connected")
}

pub(crate) fn p99(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() * 99 / 100]
}
