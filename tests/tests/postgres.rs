//! The conformance suite on `PgStore`: every case whose server names no store of its own runs
//! on a fresh Postgres (one per case), on both adapters; and both adapters on a `PgStore`
//! whose server is stopped during a run: 503 with `retry-after` while it is down
//! (fail-closed), and once it is back every delivery runs the handler exactly once. Needs
//! PostgreSQL (each case runs on the in-memory store, after printing why, without it, unless
//! `REQUIRE_POSTGRES=1`).

#[macro_use]
mod cases;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sqlx::postgres::PgPoolOptions;
use webhook_guard::dedup::DedupStore;
use webhook_guard_conformance::{
    Adapter, DefaultStore, Options, client, post_signed, sample, sign, start,
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

const DELIVERIES: usize = 200;

async fn survives_a_postgres_crash(adapter: Adapter) {
    let Some((store, mut postgres)) = postgres_store(Duration::from_millis(500)).await else {
        return;
    };
    let server = Arc::new(
        start(
            adapter,
            Options {
                store: Some(Arc::new(store)),
                // A claim whose answer was lost in the crash blocks its retries for this long.
                lease: Some(Duration::from_secs(2)),
                ..Options::default()
            },
        )
        .await,
    );
    let client = client();
    let body = sample("parallel");
    let done = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    // Eight "provider" workers; each retries a delivery until it gets a 2xx, as senders do.
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let (server, client) = (Arc::clone(&server), client.clone());
            let (done, unavailable) = (Arc::clone(&done), Arc::clone(&unavailable));
            tokio::spawn(async move {
                for i in (worker..DELIVERIES).step_by(8) {
                    let id = format!("crash-{i}");
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        assert!(tries < 400, "{id}: never accepted");
                        let headers = sign("parallel", &id, server.now(), body);
                        let response =
                            post_signed(&client, &server.url("parallel"), &headers, body, &[])
                                .await
                                .expect("the server answers");
                        match response.status().as_u16() {
                            200 => break,
                            503 => {
                                assert!(response.headers().get("retry-after").is_some());
                                unavailable.fetch_add(1, Ordering::SeqCst);
                            }
                            409 => {}
                            other => panic!("{id}: unexpected status {other}"),
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < DELIVERIES / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    postgres.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    postgres.restart();
    for worker in workers {
        worker.await.expect("worker");
    }
    assert!(
        unavailable.load(Ordering::SeqCst) > 0,
        "no delivery met the outage"
    );
    for i in 0..DELIVERIES {
        assert_eq!(server.runs_of(&format!("crash-{i}")), 1, "crash-{i}");
    }
    assert_eq!(server.calls().len(), DELIVERIES);
    eprintln!(
        "{adapter}: {DELIVERIES} deliveries, {} answers 503 during the outage, every one run once",
        unavailable.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_survives_a_postgres_crash() {
    survives_a_postgres_crash(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_survives_a_postgres_crash() {
    survives_a_postgres_crash(Adapter::Actix).await;
}
