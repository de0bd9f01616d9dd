//! What the Redis benchmarks share.

#![allow(dead_code)] // Each bench uses part of it.

use std::time::Duration;

use redis::aio::ConnectionLike;

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub(crate) fn p99(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() * 99 / 100]
}

/// The server's `used_memory` (from `INFO memory`), in bytes.
pub(crate) async fn used_memory<C: ConnectionLike>(connection: &mut C) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(connection)
        .await
        .expect("INFO");
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory")
}
