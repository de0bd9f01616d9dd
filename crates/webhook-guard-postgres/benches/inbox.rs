//! `PgInbox` against what a careful user writes by hand, side by side on one Postgres
//! (`fsync` on), through one pool; prints the ratios (the targets in brackets).
//!
//! 1. Ack: a delivery through a receiver in inbox mode (verify, parse, one `INSERT ... ON
//!    CONFLICT` with its dedup record and `NOTIFY`) against a plain `INSERT` of the same row
//!    into a table of the same columns, at concurrency 16 and 64 [≥ 0.7x]; the ack's p99
//!    latency at 16.
//! 2. Workers: entries handled by a `Worker` of 16 handlers with a no-op transactional handler
//!    (takes the attempt's `PgTx`, answers done: claim, `BEGIN`, fenced done mark, `COMMIT`)
//!    against 16 hand-written loops of `BEGIN; SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1;
//!    UPDATE ... SET state = 'done'; COMMIT` on a jobs table [≥ 0.5x].
//! 3. Growth: claim + settle of 2,000 entries with 1,000,000 done entries in the table,
//!    against the same with none [≤ 1.2x the time, ≥ 0.83x the rate].
//!
//! Run: `cargo bench -p webhook-guard-postgres --bench inbox` (needs PostgreSQL; skipped with
//! a printed reason without it). `INBOX_BENCH_DONE_ROWS` changes the million.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use sqlx::PgPool;
use webhook_guard::{
    Receiver, fixtures,
    inbox::{ClaimRequest, Inbox, InboxStore, NewEntry, Settlement, StoredHeaders, Verdict},
    parallel::Parallel,
    receiver::RejectionKind,
    scheme::unix_now,
};
use webhook_guard_postgres::{PgInbox, PgTx, test_server::PostgresServer};

use common::{Op, ROUNDS, TOKIO, compare_fresh, median};

const PLAIN: &str = "CREATE TABLE bench_acks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key text NOT NULL, provider text NOT NULL, endpoint text NOT NULL,
    delivery_id text NOT NULL, event_type text NOT NULL, header_names text[] NOT NULL,
    header_values bytea[] NOT NULL, body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now())";

async fn ack(pool: &PgPool, inbox: &Inbox, how: &str) {
    println!(
        "Ack, {how}: a delivery stored by a receiver in inbox mode against a plain INSERT of the same row"
    );
    println!("| concurrency | acks/s | INSERTs/s | ratio | target |");
    println!("|---|---|---|---|---|");
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("parallel"))
        .inbox(inbox)
        .build()
        .expect("receiver");
    let body = Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    let round = Arc::new(AtomicUsize::new(0));
    let ours = {
        let (receiver, body, round) = (receiver.clone(), body.clone(), Arc::clone(&round));
        let op: Op = Arc::new(move |i| {
            let (receiver, body) = (receiver.clone(), body.clone());
            let id = format!("ack-{}-{i}", round.load(Ordering::Relaxed));
            Box::pin(async move {
                let headers = fixtures::sign("parallel", secret, &id, unix_now(), &body)
                    .expect("signed")
                    .to_header_map();
                let answer = webhook_guard::adapter::accept(&receiver, &headers, body, TOKIO).await;
                let Err(answer) = answer else {
                    panic!("an inbox receiver handed the delivery to a handler")
                };
                assert_eq!(answer.kind(), &RejectionKind::Queued, "{answer}");
            })
        });
        op
    };
    let baseline = {
        let (pool, body, round) = (pool.clone(), body.clone(), Arc::clone(&round));
        let signed = fixtures::sign("parallel", secret, "x", unix_now(), &body).expect("signed");
        let headers = StoredHeaders::from_request(&signed);
        let op: Op = Arc::new(move |i| {
            let (pool, body, headers) = (pool.clone(), body.clone(), headers.clone());
            let id = format!("ack-{}-{i}", round.load(Ordering::Relaxed));
            Box::pin(async move {
                let (names, values): (Vec<&str>, Vec<&[u8]>) = headers
                    .pairs()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_slice()))
                    .unzip();
                sqlx::query(
                    "INSERT INTO bench_acks (dedup_key, provider, endpoint, delivery_id, event_type,
                       header_names, header_values, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(format!("parallel:default:{id}"))
                .bind("parallel")
                .bind("default")
                .bind(&id)
                .bind("task_run.status")
                .bind(names)
                .bind(values)
                .bind(&body[..])
                .execute(&pool)
                .await
                .expect("insert");
            })
        });
        op
    };
    for concurrency in [16, 64] {
        let (a, b, ratio) = compare_fresh(&ours, &baseline, concurrency, &round).await;
        println!("| {concurrency} | {a:.0} | {b:.0} | {ratio:.2}x | ≥ 0.7x |");
    }
    // p99 at 16: each ack timed.
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let next = Arc::new(AtomicUsize::new(0));
    round.fetch_add(1, Ordering::Relaxed);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (ours, latencies, next) =
                (Arc::clone(&ours), Arc::clone(&latencies), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= 4000 {
                        return;
                    }
                    let started = Instant::now();
                    ours(1_000_000 + i).await;
                    latencies.lock().expect("latencies").push(started.elapsed());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let mut latencies = latencies.lock().expect("latencies").clone();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "\nAck latency at concurrency 16 ({} acks): p50 {:.2} ms, p99 {:.2} ms\n",
        latencies.len(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
}

fn entry(n: usize, body: &Bytes, headers: &StoredHeaders) -> NewEntry {
    let id = format!("work-{n}");
    let mut new = NewEntry::new(
        "parallel",
        "default",
        &id,
        &format!("parallel:default:{id}"),
    );
    new.event_type = "task_run.status".to_owned();
    new.signed_by = Some(0);
    new.headers = headers.clone();
    new.body = body.clone();
    new
}

/// Stores `count` entries from `first` on, 64 at a time, then has Postgres gather the
/// table's statistics (autovacuum does within a minute of such a change; before it, the
/// planner guesses a near-empty table and sorts every due entry per claim instead of walking
/// the due index: see BENCHMARKS.md).
async fn fill(store: &PgInbox, first: usize, count: usize) {
    fill_only(&Inbox::new(store.clone()), first, count).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {}", store.table())))
        .execute(store.pool())
        .await
        .expect("analyze");
}

async fn fill_only(inbox: &Inbox, first: usize, count: usize) {
    let body = Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let signed = fixtures::sign("parallel", secret, "x", unix_now(), &body).expect("signed");
    let headers = StoredHeaders::from_request(&signed);
    let mut chunk = Vec::new();
    for n in first..first + count {
        let (inbox, new) = (inbox.clone(), entry(n, &body, &headers));
        chunk.push(tokio::spawn(async move {
            inbox.store().enqueue(&new).await.expect("stored")
        }));
        if chunk.len() == 64 {
            for task in chunk.drain(..) {
                task.await.expect("task");
            }
        }
    }
    for task in chunk {
        task.await.expect("task");
    }
}

async fn workers(pool: &PgPool, store: &PgInbox) {
    let inbox = &Inbox::new(store.clone());
    const ENTRIES: usize = 4000;
    println!(
        "\nWorkers: a no-op transactional handler against a hand-written SKIP LOCKED loop (16 at once, {ENTRIES} entries a run)"
    );
    println!("| run | worker entries/s | hand-written jobs/s | ratio |");
    println!("|---|---|---|---|");
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("parallel"))
        .inbox(inbox)
        .build()
        .expect("receiver");
    let mut ratios = Vec::new();
    for run in 0..ROUNDS {
        fill(store, run * ENTRIES + 10_000_000, ENTRIES).await;
        let done = Arc::new(AtomicUsize::new(0));
        let all = Arc::new(tokio::sync::Notify::new());
        let worker = {
            let (done, all) = (Arc::clone(&done), Arc::clone(&all));
            inbox
                .worker()
                .concurrency(16)
                .route(&receiver, move |_delivery, attempt| {
                    let (done, all) = (Arc::clone(&done), Arc::clone(&all));
                    async move {
                        let Ok(tx) = PgTx::from_attempt(&attempt) else {
                            return Verdict::fail("no transaction");
                        };
                        drop(tx);
                        attempt.on_done(move || {
                            if done.fetch_add(1, Ordering::SeqCst) + 1 == ENTRIES {
                                all.notify_one();
                            }
                        });
                        Verdict::Done
                    }
                })
        };
        let started = Instant::now();
        let stop = Arc::clone(&all);
        let running = tokio::spawn(worker.run_until(async move { stop.notified().await }));
        running.await.expect("worker");
        let ours = ENTRIES as f64 / started.elapsed().as_secs_f64();
        assert_eq!(done.load(Ordering::SeqCst), ENTRIES);

        sqlx::query(
            "INSERT INTO bench_jobs (payload, state) SELECT 'x', 'pending' FROM generate_series(1, $1)",
        )
        .bind(ENTRIES as i64)
        .execute(pool)
        .await
        .expect("jobs");
        sqlx::query("ANALYZE bench_jobs")
            .execute(pool)
            .await
            .expect("analyze");
        let started = Instant::now();
        let loops: Vec<_> = (0..16)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    loop {
                        let mut tx = pool.begin().await.expect("begin");
                        let id: Option<i64> = sqlx::query_scalar(
                            "SELECT id FROM bench_jobs WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                        )
                        .fetch_optional(&mut *tx)
                        .await
                        .expect("claim");
                        let Some(id) = id else { return };
                        sqlx::query("UPDATE bench_jobs SET state = 'done' WHERE id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .expect("complete");
                        tx.commit().await.expect("commit");
                    }
                })
            })
            .collect();
        for task in loops {
            task.await.expect("loop");
        }
        let theirs = ENTRIES as f64 / started.elapsed().as_secs_f64();
        ratios.push(ours / theirs);
        println!(
            "| {run} | {ours:.0} | {theirs:.0} | {:.2}x |",
            ours / theirs
        );
    }
    println!("Median ratio: {:.2}x (target ≥ 0.5x)", median(ratios));
}

/// Claim + settle (done) of every pending entry, 16 at a time, 16 per claim; entries/s.
async fn drain(store: &PgInbox, count: usize) -> f64 {
    drain_by(store, count, 16).await
}

/// [`drain`] with claims of `batch` entries.
async fn drain_by(store: &PgInbox, count: usize, batch: usize) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut request =
                    ClaimRequest::new(batch, Duration::from_secs(30), &format!("drain-{t}"));
                request.routes = vec![("parallel".to_owned(), "default".to_owned())];
                loop {
                    let claimed = store.claim(&request).await.expect("claim");
                    if claimed.is_empty() {
                        return;
                    }
                    for entry in claimed {
                        assert!(
                            store
                                .settle(&entry.lease, &Settlement::Done)
                                .await
                                .expect("settle")
                        );
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn growth(pool: &PgPool) {
    let done_rows: i64 = std::env::var("INBOX_BENCH_DONE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "\nGrowth: claim + settle of 2,000 entries, {done_rows} done entries in the table against none"
    );
    let empty = PgInbox::builder(pool.clone())
        .table("growth_empty")
        .build()
        .expect("inbox");
    let full = PgInbox::builder(pool.clone())
        .table("growth_full")
        .build()
        .expect("inbox");
    for store in [&empty, &full] {
        store.migrate().await.expect("migrated");
    }
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO webhook_guard.growth_full (dedup_key, provider, endpoint, delivery_id, event_type,
           header_names, header_values, body, state, attempts, finished_at)
         SELECT 'old:' || n, 'parallel', 'default', 'old-' || n, 'task_run.status', '{}', '{}',
           '\\x7b7d', 'done', 1, now() - interval '1 hour'
         FROM generate_series(1, $1) AS n",
    )
    .bind(done_rows)
    .execute(pool)
    .await
    .expect("done rows");
    sqlx::query("VACUUM ANALYZE webhook_guard.growth_full")
        .execute(pool)
        .await
        .expect("vacuum");
    println!(
        "({done_rows} done rows written in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    println!("| run | empty: entries/s | with the done rows: entries/s | ratio |");
    println!("|---|---|---|---|");
    let mut ratios = Vec::new();
    for run in 0..ROUNDS {
        let mut rates = Vec::new();
        for store in [&empty, &full] {
            fill(store, 20_000_000 + run * 2000, 2000).await;
            rates.push(drain(store, 2000).await);
        }
        ratios.push(rates[1] / rates[0]);
        println!(
            "| {run} | {:.0} | {:.0} | {:.2}x |",
            rates[0],
            rates[1],
            rates[1] / rates[0]
        );
    }
    println!(
        "Median ratio: {:.2}x (target ≥ 0.83x, i.e. ≤ 1.2x the time)",
        median(ratios)
    );
}

fn main() {
    let Some(server) = PostgresServer::start_durable() else {
        return;
    };
    let runtime = common::runtime();
    runtime.block_on(async {
        let pool = common::pool(&server.url(), 80).await;
        for ddl in [
            PLAIN,
            "CREATE TABLE bench_jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL, state text NOT NULL)",
            "CREATE INDEX bench_jobs_pending ON bench_jobs (id) WHERE state = 'pending'",
        ] {
            sqlx::query(ddl).execute(&pool).await.expect("table");
        }
        let build = |table: &str, notify: bool| {
            PgInbox::builder(pool.clone())
                .table(table)
                .notify(notify)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("inbox")
        };
        let (acks, acks_quiet, work) = (build("acks", true), build("acks_quiet", false), build("work", true));
        for store in [&acks, &acks_quiet, &work] {
            store.migrate().await.expect("migrated");
        }
        println!("Postgres on loopback, fsync on; {ROUNDS} alternating rounds per line, medians\n");
        if std::env::var_os("INBOX_BENCH_PROBE").is_some() {
            let probe = build("probe", false);
            probe.migrate().await.expect("migrated");
            for batch in [1, 16, 1, 16] {
                fill(&probe, batch * 100_000 + probe_round(), 4000).await;
                println!("claims of {batch}: {:.0} entries/s", drain_by(&probe, 4000, batch).await);
            }
            return;
        }
        ack(&pool, &Inbox::new(acks), "with NOTIFY (the default)").await;
        ack(&pool, &Inbox::new(acks_quiet), "without NOTIFY (`PgInboxBuilder::notify(false)`)").await;
        workers(&pool, &work).await;
        growth(&pool).await;
    });
}

fn probe_round() -> usize {
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    ROUND.fetch_add(1, Ordering::Relaxed) * 10_000
}
