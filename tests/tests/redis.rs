//! Both adapters on a `RedisStore` whose server is killed during a run: deliveries get 503
//! with `retry-after` while it is down (fail-closed), nothing panics, and once it is back the
//! provider's retries are processed: every delivery runs the handler exactly once. Needs
//! `redis-server` (skipped with a printed reason without it, unless `REQUIRE_REDIS=1`).

use std::{sync::Arc, time::Duration};

use webhook_guard_conformance::{
    Adapter, Options, a_slow_handler_keeps_its_claim, a_store_pause_leaves_no_orphan,
    every_delivery_runs_once_across_an_outage, replays_and_pre_claims_change_nothing,
};
use webhook_guard_redis::{RedisStore, test_server::RedisServer};

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
    let outage = async || {
        redis.kill();
        tokio::time::sleep(Duration::from_secs(1)).await;
        redis.restart();
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
async fn a_redis_pause_leaves_no_orphan(adapter: Adapter) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .prefix(format!("pause-{adapter}"))
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect("connected");
    a_store_pause_leaves_no_orphan(
        adapter,
        Arc::new(store),
        || redis.pause(),
        || redis.resume(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_store_pause_leaves_no_orphan() {
    a_redis_pause_leaves_no_orphan(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_store_pause_leaves_no_orphan() {
    a_redis_pause_leaves_no_orphan(Adapter::Actix).await;
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

/// Redis stalled (`SIGSTOP`) for 4.5 s while a captured delivery is replayed 4,400 times:
/// fresh deliveries are served within 5 s of it answering again, and nothing runs twice.
async fn a_redis_stall_during_a_replay_storm(adapter: Adapter, slow: bool) {
    use webhook_guard_conformance::overload::a_store_stall_during_a_replay_storm;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = Arc::new(
        RedisStore::builder(redis.url())
            .prefix(format!("storm-{adapter}-{slow}"))
            .timeout(Duration::from_millis(500))
            .connect()
            .await
            .expect("connected"),
    );
    // The stall, then a tenth of the usual rate: one call at a time, 1 ms each.
    let slow = slow.then_some(Duration::from_millis(1));
    a_store_stall_during_a_replay_storm(adapter, store, slow, || redis.pause(), || redis.resume())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_redis_stall_during_a_replay_storm() {
    a_redis_stall_during_a_replay_storm(Adapter::Axum, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_redis_stall_during_a_replay_storm() {
    a_redis_stall_during_a_replay_storm(Adapter::Actix, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_slow_redis_stall_during_a_replay_storm() {
    a_redis_stall_during_a_replay_storm(Adapter::Axum, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_slow_redis_stall_during_a_replay_storm() {
    a_redis_stall_during_a_replay_storm(Adapter::Actix, true).await;
}
