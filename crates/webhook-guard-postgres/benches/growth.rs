//! How `PgStore`'s cost grows with what it keeps, on one Postgres (`fsync` on):
//!
//! 1. Bytes per record (table and its indexes) at 1M and at `GROWTH_PG_RECORDS` (10M).
//! 2. Claim+complete pairs per second on a table holding that many retained records, against
//!    an empty table, in alternating rounds on the same server and pool.
//! 3. The p99 of those pairs while the store's purge deletes 1,000 expired records a second
//!    beside them, against the same pairs without the purge, in alternating rounds.
//!
//! `cargo bench -p webhook-guard-postgres --bench growth` (needs PostgreSQL; skipped with a
//! printed reason without it). `GROWTH_PG_RECORDS` sets the retained records (10,000,000).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{PgPool, Row as _};
use webhook_guard::dedup::{ClaimToken, DedupKey, DedupStore};
use webhook_guard_postgres::{PgStore, test_server::PostgresServer};

mod common;
use common::{ROUNDS, median, p99};

const CONCURRENCY: usize = 16;
/// Pairs per measured round: of the throughput rounds, of the purge rounds.
const PAIRS: usize = 6000;
const PURGE_PAIRS: usize = 15_000;
/// How often the purge runs while it is measured: a steady `PURGE_RATE` a second.
const PURGE_EVERY: Duration = Duration::from_millis(100);
/// Expired records the purge finds each second while it runs.
const PURGE_RATE: i64 = 1000;
const FILL_CHUNK: i64 = 1_000_000;

fn store(pool: &PgPool, table: &str) -> PgStore {
    PgStore::builder(pool.clone())
        .table(table)
        .timeout(Duration::from_secs(30))
        // Purged by the benchmark itself, at the rate it measures.
        .purge_interval(None)
        .build()
        .expect("store")
}

/// Claim+complete pairs at `CONCURRENCY` on fresh keys: pairs per second and each pair's time.
async fn pairs(store: &PgStore, tag: &str, count: usize) -> (f64, Vec<Duration>) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (store, next, tag) = (store.clone(), Arc::clone(&next), tag.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return times;
                    }
                    // Keys spread over the whole index, as delivery ids are.
                    let id = format!("{:x}", md5_like(&format!("{tag}-{i}")));
                    let key = DedupKey::new("bench:default", &id);
                    let token = ClaimToken::random();
                    let one = Instant::now();
                    store
                        .claim(&key, &token, Duration::from_secs(60))
                        .await
                        .expect("claim");
                    store
                        .complete(&key, &token, Duration::from_secs(72 * 3600))
                        .await
                        .expect("complete");
                    times.push(one.elapsed());
                }
            })
        })
        .collect();
    let mut times = Vec::with_capacity(count);
    for worker in workers {
        times.extend(worker.await.expect("worker"));
    }
    (count as f64 / started.elapsed().as_secs_f64(), times)
}

/// A 128-bit spread of `text` (FNV-1a twice, seeded apart): enough to scatter keys.
fn md5_like(text: &str) -> u128 {
    let fnv = |seed: u64| {
        text.bytes().fold(seed, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(fnv(0x8422_2325_cbf2_9ce4))
}

/// Table and index bytes of `table`, and its rows.
async fn sizes(pool: &PgPool, table: &str) -> (i64, i64, i64) {
    let row = sqlx::query(
        "SELECT pg_table_size($1::regclass), pg_indexes_size($1::regclass),
                (SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass)",
    )
    .bind(format!("webhook_guard.{table}"))
    .fetch_one(pool)
    .await
    .expect("sizes");
    (row.get(0), row.get(1), row.get(2))
}

/// Appends `count` done records with 72 h left, keys like the guard's.
async fn fill(pool: &PgPool, table: &str, from: i64, count: i64) {
    let sql = format!(
        "INSERT INTO webhook_guard.{table} (key, owner, expires_at)
         SELECT 'parallel:default:whevent_' || md5(i::text), NULL, now() + interval '72 hours'
         FROM generate_series($1::bigint, $2::bigint) AS i"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(from + count - 1)
        .execute(pool)
        .await
        .expect("fill");
}

async fn vacuum(pool: &PgPool, table: &str) {
    let sql = format!("VACUUM ANALYZE webhook_guard.{table}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("vacuum");
}

fn row(label: &str, (table, indexes, rows): (i64, i64, i64)) {
    let per = |bytes: i64| bytes as f64 / rows.max(1) as f64;
    println!(
        "| {label} | {rows} | {:.0} MiB | {:.0} MiB | {:.0} | {:.0} | {:.0} |",
        table as f64 / 1_048_576.0,
        indexes as f64 / 1_048_576.0,
        per(table),
        per(indexes),
        per(table + indexes)
    );
}

fn main() {
    let Some(server) = PostgresServer::start_durable() else {
        return;
    };
    let records: i64 = std::env::var("GROWTH_PG_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let runtime = common::runtime();
    runtime.block_on(async {
        let pool = common::pool(&server.url(), 40).await;
        let empty = store(&pool, "growth_empty");
        let full = store(&pool, "growth_full");
        empty.migrate().await.expect("migrated");
        full.migrate().await.expect("migrated");

        println!("Postgres on loopback, fsync on, shared_buffers 64MB; {ROUNDS} alternating rounds per line, medians\n");
        println!("Bytes per record (done records, keys of 57 bytes like `parallel:default:whevent_<32 hex>`)");
        println!("| records | rows | table | indexes | table B/record | indexes B/record | total B/record |");
        println!("|---|---|---|---|---|---|---|");
        let started = Instant::now();
        let mut filled = 0;
        while filled < records {
            let count = FILL_CHUNK.min(records - filled);
            fill(&pool, "growth_full", filled, count).await;
            filled += count;
            if filled == FILL_CHUNK.min(records) {
                vacuum(&pool, "growth_full").await;
                row("1M", sizes(&pool, "growth_full").await);
            }
        }
        vacuum(&pool, "growth_full").await;
        if records > FILL_CHUNK {
            row(&format!("{}M", records / 1_000_000), sizes(&pool, "growth_full").await);
        }
        eprintln!("filled {records} records in {:.0} s", started.elapsed().as_secs_f64());

        println!();
        println!("Claim+complete pairs, concurrency {CONCURRENCY}, {PAIRS} fresh random keys a round");
        println!("| table | pairs/s | p99 |");
        println!("|---|---|---|");
        let (mut a, mut b, mut ratios, mut pa, mut pb) = (vec![], vec![], vec![], vec![], vec![]);
        for round in 0..ROUNDS {
            let (x, tx) = pairs(&empty, &format!("e{round}"), PAIRS).await;
            let (y, ty) = pairs(&full, &format!("f{round}"), PAIRS).await;
            a.push(x);
            b.push(y);
            ratios.push(y / x);
            pa.push(p99(tx).as_secs_f64() * 1000.0);
            pb.push(p99(ty).as_secs_f64() * 1000.0);
        }
        println!("| empty | {:.0} | {:.2} ms |", median(a), median(pa));
        println!(
            "| {records} records | {:.0} | {:.2} ms |",
            median(b),
            median(pb)
        );
        println!(
            "full / empty: **{:.2}x** (target: at least 0.80x)",
            median(ratios)
        );

        // Records that pass their time plus the purge's grace at PURGE_RATE a second from
        // now, for as long as the measurement below can last.
        let stock = PURGE_RATE * 40 * ROUNDS as i64;
        let sql = "INSERT INTO webhook_guard.growth_full (key, owner, expires_at)
             SELECT 'expired:default:' || i, NULL,
                    now() - interval '60 seconds' + i * ($2::bigint * interval '1 microsecond')
             FROM generate_series(1, $1::bigint) AS i";
        sqlx::query(sql)
            .bind(stock)
            .bind(1_000_000 / PURGE_RATE)
            .execute(&pool)
            .await
            .expect("expiring records");
        vacuum(&pool, "growth_full").await;

        println!();
        println!(
            "The same pairs on the {records}-record table, without and with the store's purge deleting the {PURGE_RATE} records a second that pass their time (a purge() call every {} ms), {PURGE_PAIRS} pairs a round", PURGE_EVERY.as_millis()
        );
        println!("| | pairs/s | p99 |");
        println!("|---|---|---|");
        let purged = Arc::new(AtomicUsize::new(0));
        let (mut a, mut b, mut pa, mut pb, mut ratios) = (vec![], vec![], vec![], vec![], vec![]);
        for round in 0..ROUNDS {
            let (x, tx) = pairs(&full, &format!("q{round}"), PURGE_PAIRS).await;
            // What passed its time during that round is purged first, unmeasured: the
            // purge below then deletes only what passes its time while it runs.
            purged.fetch_add(full.purge().await.expect("purge") as usize, Ordering::Relaxed);
            let stop = Arc::new(AtomicBool::new(false));
            let purger = {
                let (full, stop, purged) = (full.clone(), Arc::clone(&stop), Arc::clone(&purged));
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let deleted = full.purge().await.expect("purge");
                        purged.fetch_add(deleted as usize, Ordering::Relaxed);
                        tokio::time::sleep(PURGE_EVERY).await;
                    }
                })
            };
            let (y, ty) = pairs(&full, &format!("p{round}"), PURGE_PAIRS).await;
            stop.store(true, Ordering::Relaxed);
            purger.await.expect("purger");
            a.push(x);
            b.push(y);
            let (qa, qb) = (p99(tx).as_secs_f64(), p99(ty).as_secs_f64());
            pa.push(qa * 1000.0);
            pb.push(qb * 1000.0);
            ratios.push(qb / qa);
        }
        println!("| claims alone | {:.0} | {:.2} ms |", median(a), median(pa));
        println!("| claims beside the purge | {:.0} | {:.2} ms |", median(b), median(pb));
        println!(
            "p99 beside the purge / alone: **{:.2}x** (target: at most 1.20x); {} records purged in all",
            median(ratios),
            purged.load(Ordering::Relaxed)
        );
    });
}
