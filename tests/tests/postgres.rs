//! The conformance suite on `PgStore`: every case whose server names no store of its own runs
//! on a fresh Postgres (one per case), on both adapters; and both adapters on a `PgStore`
//! whose server is stopped during a run: 503 with `retry-after` while it is down
//! (fail-closed), and once it is back every delivery runs the handler exactly once. Needs
//! PostgreSQL (each case runs on the in-memory store, after printing why, without it, unless
//! `REQUIRE_POSTGRES=1`).

#[macro_use]
mod cases;

use std::{sync::Arc, time::Duration};

use sqlx::postgres::PgPoolOptions;
use webhook_guard::dedup::DedupStore;
use webhook_guard_conformance::{
    Adapter, DefaultStore, a_store_pause_leaves_no_orphan,
    every_delivery_runs_once_across_an_outage,
};
use webhook_guard_postgres::{PgStore, test_server::PostgresServer};

/// A fresh Postgres and a `PgStore` on it (its table created), and the server to keep.
async fn postgres_store(timeout: Duration) -> Option<(PgStore, PostgresServer)> {
    let server = PostgresServer::start()?;
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect(&server.url())
        .await
        .expect("connected");
    let store = PgStore::builder(pool)
        .timeout(timeout)
        .build()
        .expect("store");
    store.migrate().await.expect("migrated");
    Some((store, server))
}

fn on_postgres() {
    webhook_guard_conformance::use_default_store(|| {
        Box::pin(async {
            let (store, server) = postgres_store(Duration::from_secs(10)).await?;
            let store: Arc<dyn DedupStore> = Arc::new(store);
            Some::<DefaultStore>((store, Box::new(server)))
        })
    });
}

every_case!(setup = crate::on_postgres);

async fn survives_a_postgres_crash(adapter: Adapter) {
    let Some((store, mut postgres)) = postgres_store(Duration::from_millis(500)).await else {
        return;
    };
    let outage = async || {
        postgres.kill();
        tokio::time::sleep(Duration::from_secs(1)).await;
        postgres.restart();
    };
    every_delivery_runs_once_across_an_outage(
        adapter,
        Arc::new(store),
        Duration::from_secs(2),
        outage,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_survives_a_postgres_crash() {
    survives_a_postgres_crash(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_survives_a_postgres_crash() {
    survives_a_postgres_crash(Adapter::Actix).await;
}

/// Postgres paused past the store's time limit during a claim: 503; the claim it applies
/// once it goes on is released with its token, so the retry 2 s later is processed.
async fn a_postgres_pause_leaves_no_orphan(adapter: Adapter) {
    let Some((store, postgres)) = postgres_store(Duration::from_millis(300)).await else {
        return;
    };
    a_store_pause_leaves_no_orphan(
        adapter,
        Arc::new(store),
        || postgres.pause(),
        || postgres.resume(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_postgres_pause_leaves_no_orphan() {
    a_postgres_pause_leaves_no_orphan(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_postgres_pause_leaves_no_orphan() {
    a_postgres_pause_leaves_no_orphan(Adapter::Actix).await;
}

/// Postgres stalled (`SIGSTOP`) for 4.5 s while a captured delivery is replayed 4,400
/// times: fresh deliveries are served within 5 s of it answering again, and nothing runs
/// twice; also with the store answering at a tenth of its rate after the stall.
async fn a_postgres_stall_during_a_replay_storm(adapter: Adapter, slow: bool) {
    use webhook_guard_conformance::overload::a_store_stall_during_a_replay_storm;
    let Some((store, postgres)) = postgres_store(Duration::from_millis(500)).await else {
        return;
    };
    let store = Arc::new(store);
    // The stall, then a tenth of the usual rate: one call at a time, 2 ms each.
    let slow = slow.then_some(Duration::from_millis(2));
    a_store_stall_during_a_replay_storm(
        adapter,
        store,
        slow,
        || postgres.pause(),
        || postgres.resume(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_postgres_stall_during_a_replay_storm() {
    a_postgres_stall_during_a_replay_storm(Adapter::Axum, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_postgres_stall_during_a_replay_storm() {
    a_postgres_stall_during_a_replay_storm(Adapter::Actix, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_slow_postgres_stall_during_a_replay_storm() {
    a_postgres_stall_during_a_replay_storm(Adapter::Axum, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_slow_postgres_stall_during_a_replay_storm() {
    a_postgres_stall_during_a_replay_storm(Adapter::Actix, true).await;
}
