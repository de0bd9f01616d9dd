//! `RedisStore` against a real `redis-server` (started per test on a free loopback port;
//! skipped with a printed reason when the binary is missing, unless `REQUIRE_REDIS=1`).

use std::{sync::Arc, time::Duration};

use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreErrorKind};
use webhook_guard_redis::{ConnectError, RedisStore, test_server::RedisServer};

const LEASE: Duration = Duration::from_secs(60);
const RETENTION: Duration = Duration::from_secs(3600);

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::builder(server.url())
        .prefix("test")
        .timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("connected")
}

/// `namespace:id` as a key.
fn k(key: &str) -> DedupKey {
    let (namespace, id) = key.rsplit_once(':').unwrap_or(("test", key));
    DedupKey::new(namespace, id)
}

/// Claims `key` with a new token and returns it.
async fn claimed(store: &RedisStore, key: &str, lease: Duration) -> ClaimToken {
    let token = ClaimToken::random();
    match store.claim(&k(key), &token, lease).await {
        Ok(Claim::Claimed) => token,
        other => panic!("expected a claim of {key}, got {other:?}"),
    }
}

async fn raw(server: &RedisServer, args: &[&str]) -> redis::Value {
    let client = redis::Client::open(server.url()).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query_async(&mut connection).await.expect("command")
}

#[tokio::test]
async fn claim_complete_release_and_duplicates() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let token = claimed(&store, "p:e:a", LEASE).await;
    assert_eq!(
        store.claim(&k("p:e:a"), &ClaimToken::random(), LEASE).await,
        Ok(Claim::InFlight)
    );
    store
        .complete(&k("p:e:a"), &token, RETENTION)
        .await
        .expect("complete");
    assert_eq!(
        store.claim(&k("p:e:a"), &ClaimToken::random(), LEASE).await,
        Ok(Claim::Done)
    );

    let token = claimed(&store, "p:e:b", LEASE).await;
    store.release(&k("p:e:b"), &token).await.expect("release");
    claimed(&store, "p:e:b", LEASE).await;

    // Keys carry the prefix and the hash tag; a completed record has the retention as TTL.
    assert_eq!(
        raw(&server, &["GET", "test:{p:e:a}"]).await,
        redis::Value::BulkString(b"done".to_vec())
    );
    let redis::Value::Int(ttl) = raw(&server, &["PTTL", "test:{p:e:a}"]).await else {
        panic!("no TTL");
    };
    assert!(ttl > 3_500_000 && ttl <= 3_600_000, "ttl {ttl}");
}

#[tokio::test]
async fn a_late_owner_never_touches_the_new_owners_claim() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let a = claimed(&store, "p:e:late", Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let b = claimed(&store, "p:e:late", LEASE).await;
    assert_ne!(a, b);
    // A comes back late: its complete and release leave B's claim alone.
    store
        .complete(&k("p:e:late"), &a, RETENTION)
        .await
        .expect("late complete");
    store
        .release(&k("p:e:late"), &a)
        .await
        .expect("late release");
    assert_eq!(
        store
            .claim(&k("p:e:late"), &ClaimToken::random(), LEASE)
            .await,
        Ok(Claim::InFlight)
    );
    store
        .complete(&k("p:e:late"), &b, RETENTION)
        .await
        .expect("B completes");
    assert_eq!(
        store
            .claim(&k("p:e:late"), &ClaimToken::random(), LEASE)
            .await,
        Ok(Claim::Done)
    );
}

#[tokio::test]
async fn completed_records_expire_after_the_retention() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let token = claimed(&store, "p:e:ret", LEASE).await;
    store
        .complete(&k("p:e:ret"), &token, Duration::from_millis(200))
        .await
        .expect("complete");
    assert_eq!(
        store
            .claim(&k("p:e:ret"), &ClaimToken::random(), LEASE)
            .await,
        Ok(Claim::Done)
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    claimed(&store, "p:e:ret", LEASE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_of_one_key_make_one_owner() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = Arc::new(store(&server).await);
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .claim(&k("p:e:burst"), &ClaimToken::random(), LEASE)
                .await
                .expect("claim")
        }));
    }
    let mut owners = 0;
    for task in tasks {
        match task.await.expect("task") {
            Claim::Claimed => owners += 1,
            Claim::InFlight => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn a_dead_server_fails_calls_in_time_and_a_restarted_one_serves_again() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let token = claimed(&store, "p:e:kill", LEASE).await;
    store
        .complete(&k("p:e:kill"), &token, RETENTION)
        .await
        .expect("complete");
    server.kill();
    let started = std::time::Instant::now();
    let error = store
        .claim(&k("p:e:other"), &ClaimToken::random(), LEASE)
        .await
        .expect_err("no server");
    assert!(
        matches!(
            error.kind(),
            StoreErrorKind::Unavailable | StoreErrorKind::Timeout
        ),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    server.restart();
    // The connection manager reconnects; the completed record survived (append-only file).
    let mut answer = store
        .claim(&k("p:e:kill"), &ClaimToken::random(), LEASE)
        .await;
    for _ in 0..50 {
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = store
            .claim(&k("p:e:kill"), &ClaimToken::random(), LEASE)
            .await;
    }
    assert_eq!(answer, Ok(Claim::Done));
}

#[tokio::test]
async fn bad_configuration_and_unreachable_servers_are_clear_errors() {
    assert_eq!(
        RedisStore::builder("http://nope").build().err(),
        Some(ConnectError::InvalidUrl)
    );
    assert_eq!(
        RedisStore::builder("redis://127.0.0.1:1/")
            .prefix("a{b}")
            .build()
            .err(),
        Some(ConnectError::InvalidPrefix)
    );
    assert_eq!(
        RedisStore::builder("redis://127.0.0.1:1/")
            .timeout(Duration::ZERO)
            .build()
            .err(),
        Some(ConnectError::InvalidTimeout)
    );
    // Port 1 on loopback: nothing listens.
    let error = RedisStore::builder("redis://:hunter2@127.0.0.1:1/")
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect_err("unreachable");
    assert!(matches!(error, ConnectError::Unreachable(_)), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
    // A lazily built store answers each call with an error instead.
    let lazy = RedisStore::builder("redis://127.0.0.1:1/")
        .timeout(Duration::from_millis(300))
        .build()
        .expect("built");
    assert!(
        lazy.claim(&k("k"), &ClaimToken::random(), LEASE)
            .await
            .is_err()
    );
    assert!(!format!("{lazy:?}").contains("127.0.0.1"));
}

/// A Redis that may evict keys loses dedup records (a replay of an evicted delivery would run
/// its handler again): refused at connect, and a claim fails while a server found evicting at
/// a later check; accepted when the user opts in.
#[tokio::test]
async fn a_server_that_may_evict_records_is_refused_unless_allowed() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    raw(&server, &["CONFIG", "SET", "maxmemory", "3mb"]).await;
    for policy in ["allkeys-lru", "volatile-lru"] {
        raw(&server, &["CONFIG", "SET", "maxmemory-policy", policy]).await;
        let refused = RedisStore::builder(server.url())
            .connect()
            .await
            .expect_err("an evicting policy");
        assert_eq!(
            refused,
            ConnectError::EvictingPolicy {
                policy: policy.to_owned()
            }
        );
        assert!(refused.to_string().contains("noeviction"), "{refused}");
        // Built without connecting: the first claim reads the policy and fails (503).
        let lazy = RedisStore::builder(server.url()).build().expect("built");
        let failed = lazy
            .claim(&k("lazy"), &ClaimToken::random(), LEASE)
            .await
            .expect_err("refused");
        assert_eq!(failed.kind(), StoreErrorKind::Unavailable, "{failed}");
        // Opted in: works.
        let allowed = RedisStore::builder(server.url())
            .allow_eviction(true)
            .connect()
            .await
            .expect("allowed");
        claimed(&allowed, &format!("allowed-{policy}"), LEASE).await;
    }

    // A server that turns evicting while the store runs: claims fail from the next check on,
    // and work again once it is back to noeviction.
    raw(
        &server,
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    )
    .await;
    let store = RedisStore::builder(server.url())
        .connect()
        .await
        .expect("noeviction")
        .with_eviction_check(false, Duration::from_millis(50));
    claimed(&store, "before", LEASE).await;
    raw(
        &server,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    let failed = store
        .claim(&k("during"), &ClaimToken::random(), LEASE)
        .await
        .expect_err("evicting now");
    assert!(failed.to_string().contains("allkeys-lfu"), "{failed}");
    raw(
        &server,
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    claimed(&store, "after", LEASE).await;
}

/// A release that finds no record fences its token: the claim it was meant to undo, arriving
/// late (sent on a connection the client gave up on), is refused; any other owner claims the
/// key at once, with `SET NX GET` and with the script.
#[tokio::test]
async fn a_release_before_its_claim_fences_the_late_claim() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let key = k("p:e:fenced");
    let late = ClaimToken::random();
    store.release(&key, &late).await.expect("release");
    assert_eq!(store.claim(&key, &late, LEASE).await, Ok(Claim::InFlight));
    let ttl = raw(&server, &["PTTL", "test:{p:e:fenced}"]).await;
    assert!(
        matches!(ttl, redis::Value::Int(ms) if ms > 0 && ms <= 60_000),
        "a fence expires: {ttl:?}"
    );
    let other = claimed(&store, "p:e:fenced", LEASE).await;
    assert_eq!(store.claim(&key, &late, LEASE).await, Ok(Claim::InFlight));
    // The fenced token cannot renew or complete a record that is not its own.
    assert_eq!(store.renew(&key, &late, LEASE).await, Ok(false));
    store
        .complete(&key, &other, RETENTION)
        .await
        .expect("complete");
    assert_eq!(store.claim(&key, &late, LEASE).await, Ok(Claim::Done));
    // A release of a claim that exists deletes it and leaves no fence.
    let held = claimed(&store, "p:e:plain", LEASE).await;
    store
        .release(&k("p:e:plain"), &held)
        .await
        .expect("release");
    assert_eq!(
        raw(&server, &["EXISTS", "test:{p:e:plain}"]).await,
        redis::Value::Int(0)
    );
}

/// `inspect` tells a claim in flight from a completed record (and a fence from nothing);
/// `forget` removes either, and the next claim is processed.
#[tokio::test]
async fn inspect_and_forget() {
    use webhook_guard::dedup::Record;
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let key = k("p:e:forget");
    assert_eq!(store.inspect(&key).await, Ok(None));
    let token = claimed(&store, "p:e:forget", LEASE).await;
    assert!(
        matches!(store.inspect(&key).await, Ok(Some(Record::InFlight { expires_in })) if expires_in <= LEASE)
    );
    store
        .complete(&key, &token, RETENTION)
        .await
        .expect("complete");
    assert!(
        matches!(store.inspect(&key).await, Ok(Some(Record::Done { expires_in })) if expires_in <= RETENTION && expires_in > LEASE)
    );
    assert_eq!(store.forget(&key).await, Ok(true));
    assert_eq!(store.inspect(&key).await, Ok(None));
    assert_eq!(store.forget(&key).await, Ok(false));
    claimed(&store, "p:e:forget", LEASE).await;
    // A fence holds no delivery.
    let fenced = k("p:e:fence-only");
    store
        .release(&fenced, &ClaimToken::random())
        .await
        .expect("release");
    assert_eq!(store.inspect(&fenced).await, Ok(None));
}
