//! `axum_inbox`'s contract on a real Redis (skipped with a printed reason without
//! `redis-server`, unless `REQUIRE_REDIS=1`): 202 once stored and 200 + duplicate header for a
//! copy; a failing handler retried with backoff until dead, nothing printed; replayed once
//! fixed, one stdout line; 503 + `retry-after` while Redis is down, and the process waits for a
//! Redis that is not up yet.

mod support;

use std::time::{Duration, Instant};

use support::{post, sign, start_with};
use webhook_guard::{
    fixtures,
    inbox::{Cancel, EntryState, Filter, Inbox, Throttle},
};
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_failing_handler_dead_then_replayed_once_and_503_while_redis_is_down() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let failing = start_with(
        "axum_inbox",
        false,
        Some(&url),
        &[
            ("HANDLER_FAIL_EVERY", "1"),
            ("MAX_ATTEMPTS", "3"),
            ("RETRY_BASE_MS", "50"),
        ],
    );
    let client = reqwest::Client::new();
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let headers = sign("parallel", "inbox-1", body);
    let target = format!("http://{}/webhooks/parallel", failing.addr);
    let first = post(&client, &target, &headers, body).await;
    assert_eq!(first.status().as_u16(), 202);
    let copy = post(&client, &target, &headers, body).await;
    assert_eq!(copy.status().as_u16(), 200);
    assert!(copy.headers().contains_key("webhook-guard-duplicate"));

    let inbox = Inbox::new(RedisInbox::connect(url.clone()).await.expect("redis"));
    let dead = Filter {
        state: Some(EntryState::Dead),
        ..Filter::default()
    };
    wait_until("the entry is dead", async || {
        inbox.store().stats().await.expect("stats").dead == 1
    })
    .await;
    let listed = inbox.store().list(&dead, None, 10).await.expect("list");
    let entry = inbox
        .store()
        .get(listed[0].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(entry.attempts, 3, "MAX_ATTEMPTS");
    assert_eq!(entry.times_seen, 2, "the copy was counted");
    let gaps: Vec<i64> = entry
        .history
        .windows(2)
        .map(|w| w[1].at_ms - w[0].at_ms)
        .collect();
    assert!(
        gaps.iter().all(|gap| *gap >= 50),
        "backoff between attempts: {gaps:?}"
    );
    assert!(
        failing.lines.try_recv().is_err(),
        "nothing printed for failed attempts"
    );
    drop(failing);

    // Fixed: replayed, processed once.
    let fixed = start_with("axum_inbox", false, Some(&url), &[]);
    let report = inbox
        .replay_matching(&dead, Throttle::default(), &Cancel::new(), async |pause| {
            tokio::time::sleep(pause).await;
        })
        .await
        .expect("replay");
    assert_eq!(report.replayed, 1);
    wait_until("the replay is done", async || {
        inbox.store().stats().await.expect("stats").done == 1
    })
    .await;
    let line = fixed
        .lines
        .recv_timeout(Duration::from_secs(5))
        .expect("the JSON line");
    let line: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(line["provider"], "parallel");
    assert_eq!(line["delivery_id"], "inbox-1");
    assert!(
        fixed
            .lines
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "processed once"
    );

    // Redis down: 503 with retry-after, nothing answered 2xx.
    server.kill();
    let target = format!("http://{}/webhooks/parallel", fixed.addr);
    let headers = sign("parallel", "inbox-2", body);
    let down = post(&client, &target, &headers, body).await;
    assert_eq!(down.status().as_u16(), 503);
    assert!(down.headers().contains_key("retry-after"));
    drop(fixed);

    // A process started before its Redis waits for it.
    let url_again = server.url();
    let waiting =
        std::thread::spawn(move || start_with("axum_inbox", false, Some(&url_again), &[]));
    std::thread::sleep(Duration::from_millis(800));
    server.restart();
    let waited = waiting.join().expect("started");
    let up = post(
        &client,
        &format!("http://{}/webhooks/parallel", waited.addr),
        &headers,
        body,
    )
    .await;
    assert_eq!(up.status().as_u16(), 202, "stored once Redis is up");
}
