//! `axum_inbox`'s contract on a real Redis (skipped with a printed reason without
//! `redis-server`, unless `REQUIRE_REDIS=1`): 202 once stored and 200 + duplicate header for a
//! copy; a failing handler retried with backoff until dead, nothing printed; replayed once
//! fixed, one stdout line; 503 + `retry-after` while Redis is down, and the process waits for a
//! Redis that is not up yet.

mod support;

use support::{
    inbox::{
        replayed_once, stored_then_dead_after_backoff, unavailable_while_down, waits_for_its_server,
    },
    start_with,
};
use webhook_guard::inbox::Inbox;
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

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
    let inbox = Inbox::new(RedisInbox::connect(url.clone()).await.expect("redis"));
    let dead = stored_then_dead_after_backoff(&failing, &inbox).await;
    drop(failing);

    // Fixed: replayed, processed once: one line (no table on Redis).
    let fixed = start_with("axum_inbox", false, Some(&url), &[]);
    replayed_once(&inbox, &dead, &fixed).await;

    server.kill();
    unavailable_while_down(&fixed).await;
    drop(fixed);

    let url_again = server.url();
    waits_for_its_server(
        move || start_with("axum_inbox", false, Some(&url_again), &[]),
        || server.restart(),
    )
    .await;
}
