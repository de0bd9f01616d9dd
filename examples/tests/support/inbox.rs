//! The steps of `axum_inbox`'s contract that its Postgres and Redis tests share.

use std::time::{Duration, Instant};

use webhook_guard::{
    fixtures,
    inbox::{Cancel, EntryState, Filter, Inbox, Throttle},
};

use super::{Running, post, sign};

/// Waits until `check` holds, for at most 20 s.
pub async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The Parallel fixture's body.
pub fn body() -> &'static [u8] {
    fixtures::of("parallel").next().expect("fixture").body
}

/// Posts delivery `id` of the Parallel fixture to `running`; the status and whether the
/// duplicate header and `retry-after` were there.
pub async fn deliver(running: &Running, id: &str) -> (u16, bool, bool) {
    let client = reqwest::Client::new();
    let target = format!("http://{}/webhooks/parallel", running.addr);
    let headers = sign("parallel", id, body());
    let answer = post(&client, &target, &headers, body()).await;
    let has = |name: &str| answer.headers().contains_key(name);
    (
        answer.status().as_u16(),
        has("webhook-guard-duplicate"),
        has("retry-after"),
    )
}

/// Delivery `inbox-1` to a process whose every attempt fails (`HANDLER_FAIL_EVERY=1
/// MAX_ATTEMPTS=3 RETRY_BASE_MS=50`), twice: 202, then 200 with the duplicate header; then
/// the entry is dead after 3 attempts at least 50 ms apart, with the copy counted. Answers the
/// filter of the dead entries.
pub async fn stored_then_dead_after_backoff(failing: &Running, inbox: &Inbox) -> Filter {
    assert_eq!(deliver(failing, "inbox-1").await, (202, false, false));
    assert_eq!(deliver(failing, "inbox-1").await, (200, true, false));
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
    dead
}

/// Replays the dead entry and waits until it is done; then `fixed` prints its one JSON line.
pub async fn replayed_once(inbox: &Inbox, dead: &Filter, fixed: &Running) {
    let report = inbox
        .replay_matching(dead, Throttle::default(), &Cancel::new(), async |pause| {
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
}

/// With the server down: 503 with `retry-after`, nothing answered 2xx.
pub async fn unavailable_while_down(running: &Running) {
    assert_eq!(deliver(running, "inbox-2").await, (503, false, true));
}

/// A process started (by `start`) before its server is up waits for it: once `restart` has
/// started the server, it stores a delivery (202).
pub async fn waits_for_its_server(
    start: impl FnOnce() -> Running + Send + 'static,
    restart: impl FnOnce(),
) {
    let waiting = std::thread::spawn(start);
    std::thread::sleep(Duration::from_millis(800));
    restart();
    let waited = waiting.join().expect("started");
    assert_eq!(
        deliver(&waited, "inbox-2").await.0,
        202,
        "stored once the server is up"
    );
}
