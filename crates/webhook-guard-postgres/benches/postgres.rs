//! `PgStore` against plain statements, side by side on one Postgres (`fsync` on, as in
//! production), through one pool, at concurrency 1, 16 and 64; prints the ratios.
//!
//! 1. Dedup store: claim + complete pairs per second against single-statement `INSERT`s.
//! 2. Transactional mode: a delivery through the receiver (verify, claim in a transaction,
//!    parse), the handler's `INSERT` on its `PgTx`, the commit; against the same `INSERT` in
//!    the handler's own `BEGIN; INSERT; COMMIT`, without the guard.
//!
//! Each pair is measured in alternating rounds (A, B, A, B, ...) and the median of the
//! per-round ratios is printed, so load from elsewhere on the machine hits both sides alike.
//! Run: `cargo bench -p webhook-guard-postgres --bench postgres` (needs PostgreSQL; skipped
//! with a printed reason without it).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use http::{HeaderMap, StatusCode};
use sqlx::PgPool;
use webhook_guard::{
    Receiver, adapter,
    dedup::{ClaimToken, DedupKey, DedupStore},
    fixtures,
    parallel::Parallel,
    scheme::unix_now,
};
use webhook_guard_postgres::{PgStore, PgTx, test_server::PostgresServer};

mod common;
use common::{Op, ROUNDS, TOKIO, compare_fresh, count_for, median, rate};

async fn dedup_store(pool: &PgPool, store: &PgStore, verdicts: &mut Vec<String>) {
    println!("PgStore claim + complete pairs against single-statement INSERTs (same pool)");
    println!("| concurrency | claim+complete pairs/s | INSERTs/s | ratio |");
    println!("|---|---|---|---|");
    let round = Arc::new(AtomicUsize::new(0));
    for concurrency in [1, 16, 64] {
        let store = store.clone();
        let ours_round = Arc::clone(&round);
        let ours: Op = Arc::new(move |i| {
            let store = store.clone();
            let key = DedupKey::new(
                "bench:default",
                &format!("{}-{i}", ours_round.load(Ordering::Relaxed)),
            );
            Box::pin(async move {
                let token = ClaimToken::random();
                let lease = Duration::from_secs(10);
                store.claim(&key, &token, lease).await.expect("claim");
                store
                    .complete(&key, &token, Duration::from_secs(3600))
                    .await
                    .expect("complete");
            })
        });
        let pool = pool.clone();
        let base_round = Arc::clone(&round);
        let baseline: Op = Arc::new(move |i| {
            let pool = pool.clone();
            let key = format!("{}-{i}", base_round.load(Ordering::Relaxed));
            Box::pin(async move {
                sqlx::query("INSERT INTO bench_plain (key) VALUES ($1)")
                    .bind(key)
                    .execute(&pool)
                    .await
                    .expect("insert");
            })
        });
        let (ours, base, ratio) = compare_fresh(&ours, &baseline, concurrency, &round).await;
        println!("| {concurrency} | {ours:.0} | {base:.0} | {ratio:.2}x |");
        verdicts.push(format!(
            "PgStore pairs / INSERT at concurrency {concurrency}: {ratio:.2}x (target: at least 0.45x)"
        ));
    }
}

async fn transactional(pool: &PgPool, store: &PgStore, verdicts: &mut Vec<String>) {
    println!();
    println!(
        "Transactional mode: a delivery behind the guard whose handler INSERTs a row on its PgTx, against the handler's own BEGIN; INSERT; COMMIT"
    );
    println!(
        "| concurrency | guarded deliveries/s | own transactions/s | ratio | hand-written inbox/s | ratio to it |"
    );
    println!("|---|---|---|---|---|---|");
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("secret"))
        .transactional_store(Arc::new(store.clone()))
        .build()
        .expect("receiver");
    let body = bytes::Bytes::from_static(fixtures::of("parallel").next().expect("fixture").body);
    for concurrency in [1, 16, 64] {
        let count = count_for(concurrency);
        // Signed beforehand: the deliveries of every round, with ids never used before.
        let runs = ROUNDS;
        let signed: Vec<HeaderMap> = (0..count * runs)
            .map(|i| {
                fixtures::sign(
                    "parallel",
                    secret,
                    &format!("c{concurrency}-{i}"),
                    unix_now(),
                    &body,
                )
                .expect("signed")
                .to_header_map()
            })
            .collect();
        let signed = Arc::new(signed);
        let offset = Arc::new(AtomicUsize::new(0));
        let (receiver, body2, signed2, offset2) = (
            receiver.clone(),
            body.clone(),
            Arc::clone(&signed),
            Arc::clone(&offset),
        );
        let ours: Op = Arc::new(move |i| {
            let (receiver, body) = (receiver.clone(), body2.clone());
            let (signed, base) = (Arc::clone(&signed2), offset2.load(Ordering::Relaxed));
            Box::pin(async move {
                let headers = &signed[base + i];
                let accepted = adapter::accept(&receiver, headers, body, TOKIO)
                    .await
                    .expect("accepted");
                let handle = accepted.claim.transaction().expect("a transaction");
                {
                    let mut tx = PgTx::from_handle(&handle).expect("PgTx");
                    sqlx::query("INSERT INTO bench_effects (delivery_id) VALUES ($1)")
                        .bind(accepted.delivery.meta.delivery_id.as_str())
                        .execute(&mut *tx)
                        .await
                        .expect("insert");
                }
                accepted
                    .claim
                    .finish(StatusCode::OK)
                    .await
                    .expect("committed");
            })
        });
        let pool_for_inbox = pool.clone();
        let pool = pool.clone();
        let base_offset = Arc::clone(&offset);
        let baseline: Op = Arc::new(move |i| {
            let pool = pool.clone();
            let id = format!("own-{}-{i}", base_offset.load(Ordering::Relaxed));
            Box::pin(async move {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("INSERT INTO bench_effects (delivery_id) VALUES ($1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx.commit().await.expect("commit");
            })
        });
        // The idempotent consumer written by hand: the same two rows (the id, the effect) in
        // one transaction, without verification, parsing, the in-flight lock or the check.
        let pool = pool_for_inbox.clone();
        let inbox_offset = Arc::clone(&offset);
        let inbox: Op = Arc::new(move |i| {
            let pool = pool.clone();
            let id = format!("inbox-{}-{i}", inbox_offset.load(Ordering::Relaxed));
            Box::pin(async move {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("INSERT INTO bench_inbox (id) VALUES ($1) ON CONFLICT DO NOTHING")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .expect("inbox");
                sqlx::query("INSERT INTO bench_effects (delivery_id) VALUES ($1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx.commit().await.expect("commit");
            })
        });
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ratios, mut to_inbox) = (Vec::new(), Vec::new());
        for run in 0..runs {
            offset.store(run * count, Ordering::Relaxed);
            let x = rate(&ours, concurrency, count).await;
            let y = rate(&baseline, concurrency, count).await;
            let z = rate(&inbox, concurrency, count).await;
            a.push(x);
            b.push(y);
            c.push(z);
            ratios.push(x / y);
            to_inbox.push(x / z);
        }
        let to_inbox = median(to_inbox);
        println!(
            "| {concurrency} | {:.0} | {:.0} | {:.2}x | {:.0} | {to_inbox:.2}x |",
            median(a),
            median(b),
            median(ratios),
            median(c),
        );
        verdicts.push(format!(
            "transactional mode / hand-written inbox at concurrency {concurrency}: {to_inbox:.2}x (target: at least 0.90x)"
        ));
    }
}

fn main() {
    let Some(server) = PostgresServer::start_durable() else {
        return;
    };
    let runtime = common::runtime();
    runtime.block_on(async {
        let pool = common::pool(&server.url(), 80).await;
        for ddl in [
            "CREATE TABLE bench_plain (key text PRIMARY KEY)",
            "CREATE TABLE bench_effects (n bigserial PRIMARY KEY, delivery_id text NOT NULL)",
            "CREATE TABLE bench_inbox (id text PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now())",
        ] {
            sqlx::query(ddl).execute(&pool).await.expect("table");
        }
        let store = PgStore::builder(pool.clone())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("store");
        store.migrate().await.expect("migrated");
        println!(
            "Postgres on loopback, fsync on; {ROUNDS} alternating rounds per line, medians\n"
        );
        let mut verdicts = Vec::new();
        dedup_store(&pool, &store, &mut verdicts).await;
        transactional(&pool, &store, &mut verdicts).await;
        println!();
        for verdict in verdicts {
            println!("{verdict}");
        }
    });
}
