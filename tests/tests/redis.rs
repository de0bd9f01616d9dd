//! Both adapters on a `RedisStore` whose server is killed during a run: deliveries get 503
//! with `retry-after` while it is down (fail-closed), nothing panics, and once it is back the
//! provider's retries are processed: every delivery runs the handler exactly once. Needs
//! `redis-server` (skipped with a printed reason without it, unless `REQUIRE_REDIS=1`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use webhook_guard_conformance::{
    Adapter, Options, a_slow_handler_keeps_its_claim, client, post_signed,
    replays_and_pre_claims_change_nothing, sample, sign, start,
};
use webhook_guard_redis::{RedisStore, test_server::RedisServer};

const DELIVERIES: usize = 200;

async fn survives_a_redis_crash(adapter: Adapter) {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .prefix(format!("crash-{adapter}"))
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect("connected");
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
                        assert!(tries < 300, "{id}: never accepted");
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
    redis.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart();
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
async fn axum_survives_a_redis_crash() {
    survives_a_redis_crash(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_survives_a_redis_crash() {
    survives_a_redis_crash(Adapter::Actix).await;
}

/// A Redis server and the options of a receiver on it (keys under `prefix`); `None` without
/// `redis-server` (see `RedisServer::start`).
async fn on_redis(prefix: String) -> Option<(RedisServer, Options)> {
    let redis = RedisServer::start()?;
    let store = RedisStore::builder(redis.url())
        .prefix(prefix)
        .connect()
        .await
        .expect("connected");
    let options = Options {
        store: Some(Arc::new(store)),
        ..Options::default()
    };
    Some((redis, options))
}

/// A slow handler keeps its claim on Redis too: the renewals go to the server.
async fn slow_handler_on_redis(adapter: Adapter) {
    if let Some((_redis, options)) = on_redis(format!("slow-{adapter}")).await {
        a_slow_handler_keeps_its_claim(adapter, options).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_slow_handler_on_redis() {
    slow_handler_on_redis(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_slow_handler_on_redis() {
    slow_handler_on_redis(Adapter::Actix).await;
}

/// Redis paused (`SIGSTOP`) past the store's time limit during a claim: 503. It applies the
/// claim once it goes on (`SIGCONT`), and the receiver releases it with its token in the
/// background, so a retry 2 s later is processed, not refused as in flight for the whole
/// lease (10 s).
async fn a_store_pause_leaves_no_orphan(adapter: Adapter) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .prefix(format!("pause-{adapter}"))
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect("connected");
    let server = start(
        adapter,
        Options {
            store: Some(Arc::new(store)),
            ..Options::default()
        },
    )
    .await;
    let client = client();
    let body = sample("parallel");
    let url = server.url("parallel");
    let headers = sign("parallel", "paused-1", server.now(), body);
    redis.pause();
    let during = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(during.status(), 503, "{adapter}: the claim timed out");
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.resume();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let headers = sign("parallel", "paused-1", server.now(), body);
    let retry = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(
        retry.status(),
        200,
        "{adapter}: the retry is processed, not 409"
    );
    assert!(
        !retry
            .headers()
            .contains_key(webhook_guard::receiver::DUPLICATE_HEADER)
    );
    assert_eq!(server.runs_of("paused-1"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_store_pause_leaves_no_orphan() {
    a_store_pause_leaves_no_orphan(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_store_pause_leaves_no_orphan() {
    a_store_pause_leaves_no_orphan(Adapter::Actix).await;
}

/// Replays and pre-claims change nothing on Redis either.
async fn replays_on_redis(adapter: Adapter) {
    if let Some((_redis, options)) = on_redis(format!("replays-{adapter}")).await {
        replays_and_pre_claims_change_nothing(adapter, options).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_replays_and_pre_claims_on_redis() {
    replays_on_redis(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_replays_and_pre_claims_on_redis() {
    replays_on_redis(Adapter::Actix).await;
}
