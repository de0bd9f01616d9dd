//! `RedisInbox` against a real Redis (skipped with a printed reason without `redis-server`,
//! unless `REQUIRE_REDIS=1`): the inbox conformance suite on one server and on a three-node
//! cluster, the refusal of an evicting server, the dead letters' stream, and the trimming of
//! acknowledged messages (never of waiting or running ones).

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use webhook_guard::inbox::{ClaimRequest, Inbox, InboxStore, NewEntry, Settlement};
use webhook_guard_redis::{
    ConnectError, RedisInbox,
    test_server::{RedisCluster, RedisServer},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_inbox_conforms() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let names = AtomicU32::new(0);
    webhook_guard::testkit::inbox::conformance(async || {
        let n = names.fetch_add(1, Ordering::SeqCst);
        let store = RedisInbox::builder(server.url())
            .name(format!("inbox-{n}"))
            .connect()
            .await
            .expect("connected");
        Inbox::new(store)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_inbox_conforms_on_a_cluster() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let client = redis::cluster::ClusterClient::new(cluster.urls()).expect("cluster client");
    let connection = client.get_async_connection().await.expect("connected");
    let names = AtomicU32::new(0);
    webhook_guard::testkit::inbox::conformance(async || {
        let n = names.fetch_add(1, Ordering::SeqCst);
        // No wake-ups on a cluster connection: the workers poll.
        let store = RedisInbox::with_connection(connection.clone())
            .with_name("cluster", &format!("inbox-{n}"))
            .with_timeout(Duration::from_secs(2));
        Inbox::new(store)
    })
    .await;
}

#[tokio::test]
async fn an_evicting_redis_is_refused() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let client = redis::Client::open(server.url()).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connected");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query_async(&mut connection)
        .await
        .expect("config set");
    let refused = RedisInbox::builder(server.url()).connect().await;
    assert!(
        matches!(&refused, Err(ConnectError::EvictingPolicy { policy }) if policy == "allkeys-lru"),
        "{refused:?}"
    );
    let allowed = RedisInbox::builder(server.url())
        .allow_eviction(true)
        .connect()
        .await;
    assert!(allowed.is_ok());
    // A lazily built inbox refuses its first write instead.
    let lazy = RedisInbox::builder(server.url()).build().expect("built");
    let entry = NewEntry::new("p", "default", "msg_1", "p:default:msg_1");
    let error = lazy.enqueue(&entry).await.expect_err("refused");
    assert!(error.to_string().contains("allkeys-lru"), "{error}");
}

/// A dead entry is written to the dead letters' stream with its error and history, and a
/// replay takes it out again.
#[tokio::test]
async fn dead_letters_have_a_stream_of_their_own() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let inbox = RedisInbox::builder(server.url())
        .name("dlq")
        .connect()
        .await
        .expect("connected");
    let entry = NewEntry::new("p", "default", "msg_1", "p:default:msg_1");
    inbox.enqueue(&entry).await.expect("stored");
    let mut request = ClaimRequest::new(1, Duration::from_secs(5), "t");
    request.routes = vec![("p".to_owned(), "default".to_owned())];
    let claimed = inbox.claim(&request).await.expect("claimed");
    let dead = Settlement::Dead {
        error: "no such customer".to_owned(),
    };
    assert!(
        inbox
            .settle(&claimed[0].lease, &dead)
            .await
            .expect("settled")
    );
    let client = redis::Client::open(server.url()).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connected");
    let dlq = format!("{}:dlq", inbox.key_base());
    let letters: redis::Value = redis::cmd("XRANGE")
        .arg(&dlq)
        .arg("-")
        .arg("+")
        .query_async(&mut connection)
        .await
        .expect("xrange");
    let text = format!("{letters:?}");
    assert!(text.contains("no such customer"), "{text}");
    let stream = format!("{}:q:p\ndefault", inbox.key_base());
    let (pending, ..): (u64, Option<String>, Option<String>, redis::Value) = redis::cmd("XPENDING")
        .arg(&stream)
        .arg("workers")
        .query_async(&mut connection)
        .await
        .expect("xpending");
    assert_eq!(pending, 0, "the settled message was acknowledged");
    inbox.rescue(3).await.expect("rescue");
    let kept: u64 = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut connection)
        .await
        .expect("xlen");
    assert!(kept <= 1, "acknowledged messages trimmed: {kept} left");
    inbox
        .replay(&[claimed[0].lease.id])
        .await
        .expect("replayed");
    let left: u64 = redis::cmd("XLEN")
        .arg(&dlq)
        .query_async(&mut connection)
        .await
        .expect("xlen");
    assert_eq!(left, 0, "a replayed dead letter leaves the stream");
}

/// Trimming never removes a message still waiting or running: after a rescue pass, the
/// unread entries are still claimed, and the running one still settles.
#[tokio::test]
async fn trimming_keeps_waiting_and_running_messages() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let inbox = RedisInbox::builder(server.url())
        .name("trim")
        .connect()
        .await
        .expect("connected");
    for n in 0..3 {
        let key = format!("p:default:msg_{n}");
        let entry = NewEntry::new("p", "default", &format!("msg_{n}"), &key);
        inbox.enqueue(&entry).await.expect("stored");
    }
    let mut request = ClaimRequest::new(1, Duration::from_secs(30), "first");
    request.routes = vec![("p".to_owned(), "default".to_owned())];
    let running = inbox.claim(&request).await.expect("claimed");
    assert_eq!(running.len(), 1);
    assert_eq!(inbox.rescue(5).await.expect("rescue"), 0, "the lease holds");
    let client = redis::Client::open(server.url()).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connected");
    let left: u64 = redis::cmd("XLEN")
        .arg(format!("{}:q:p\ndefault", inbox.key_base()))
        .query_async(&mut connection)
        .await
        .expect("xlen");
    assert_eq!(
        left, 3,
        "the running message and the two unread ones are kept"
    );
    let mut rest = ClaimRequest::new(5, Duration::from_secs(30), "second");
    rest.routes = request.routes.clone();
    assert_eq!(inbox.claim(&rest).await.expect("claimed").len(), 2);
    assert!(
        inbox
            .settle(&running[0].lease, &Settlement::Done)
            .await
            .expect("settled")
    );
}
