//! The Redis inbox stalled for 4 s (`SIGSTOP`) during a storm of copies of a captured
//! delivery, through axum over real sockets: no copy is ever stored again (each is a duplicate,
//! or 503 while Redis is stopped), an authentic new delivery retried like a sender gets its
//! 2xx once Redis is back (202, or 200 when a try answered 503 was stored after all), and a
//! worker then runs each of the two entries exactly once. Skipped with a printed
//! reason without `redis-server`, unless `REQUIRE_REDIS=1`.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use webhook_guard::{inbox::Inbox, inbox::Verdict, testkit::inbox::RunningWorker};
use webhook_guard_conformance::{Adapter, Options, client, now, receiver_for, sample, sign, start};
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

async fn post(url: &str, id: &str, body: &[u8]) -> Option<reqwest::Response> {
    let headers = sign("parallel", id, now(), body);
    let mut request = client().post(url).body(body.to_vec());
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    request.send().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_stall_during_a_replay_storm_loses_and_doubles_nothing() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let inbox = Inbox::new(RedisInbox::connect(redis.url()).await.expect("redis"));
    let options = Options {
        inbox: Some(inbox.clone()),
        ..Options::default()
    };
    let receiver = receiver_for("parallel", &options);
    let server = start(Adapter::Axum, options).await;
    let url = server.url("parallel");
    let body = sample("parallel");
    let first = post(&url, "captured", body).await.expect("sent");
    assert_eq!(first.status().as_u16(), 202);

    redis.pause();
    let stalled_at = Instant::now();
    // The storm: 400 copies of the captured delivery, 8 at a time.
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, u32>::new()));
    let storm: Vec<_> = (0..8)
        .map(|_| {
            let (url, statuses) = (url.clone(), Arc::clone(&statuses));
            tokio::spawn(async move {
                for _ in 0..50 {
                    if let Some(answer) = post(&url, "captured", body).await {
                        let status = answer.status().as_u16();
                        *statuses.lock().expect("lock").entry(status).or_default() += 1;
                    }
                }
            })
        })
        .collect();
    // An authentic new delivery, retried like a sender until a 2xx.
    let fresh = {
        let url = url.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(answer) = post(&url, "fresh", body).await {
                    let status = answer.status().as_u16();
                    if answer.status().is_success() {
                        return (status, Instant::now());
                    }
                    assert_eq!(status, 503, "only 503 while the store is stalled");
                }
                assert!(Instant::now() < deadline, "no 2xx within 30 s");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(4)).await;
    redis.resume();
    for task in storm {
        task.await.expect("storm");
    }
    let (status, stored_at) = fresh.await.expect("fresh");
    // 202, or 200 as a duplicate: a try answered 503 at its time-out may have been stored
    // when Redis came back, and the sender's retry then finds it.
    assert!(
        matches!(status, 200 | 202),
        "the new delivery is stored: {status}"
    );
    assert!(stored_at.duration_since(stalled_at) < Duration::from_secs(30));
    let statuses = statuses.lock().expect("lock").clone();
    assert!(
        statuses.keys().all(|status| matches!(status, 200 | 503)),
        "a copy is a duplicate (200) or refused while stalled (503): {statuses:?}"
    );

    let runs = Arc::new(Mutex::new(BTreeMap::<String, u32>::new()));
    let counted = Arc::clone(&runs);
    let worker = RunningWorker::start(
        inbox
            .worker()
            .poll_interval(Duration::from_millis(50))
            .route(&receiver, move |delivery, _attempt| {
                let counted = Arc::clone(&counted);
                async move {
                    let id = delivery.meta.delivery_id.to_string();
                    *counted.lock().expect("lock").entry(id).or_default() += 1;
                    Verdict::Done
                }
            }),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while inbox.store().stats().await.expect("stats").done < 2 {
        assert!(Instant::now() < deadline, "the two entries not done");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.stop().await.expect("worker");
    let stats = inbox.store().stats().await.expect("stats");
    assert_eq!((stats.pending, stats.running, stats.done), (0, 0, 2));
    let runs = runs.lock().expect("lock").clone();
    assert_eq!(
        runs,
        BTreeMap::from([("captured".to_owned(), 1), ("fresh".to_owned(), 1)]),
        "each entry run once"
    );
    assert!(
        server.calls().is_empty(),
        "the route's own handler never runs"
    );
}
