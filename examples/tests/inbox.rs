//! `axum_inbox`'s contract on a real Postgres (skipped with a printed reason without one,
//! unless `REQUIRE_POSTGRES=1`): 202 after the commit and 200 + duplicate header for a copy;
//! a failing handler retried with backoff until dead (its inserts rolled back), replayed once
//! fixed, one row and one stdout line; 503 + `retry-after` while the database is down, and the
//! process waits for a database that is not up yet.

mod support;

use sqlx::postgres::PgPoolOptions;
use support::{
    inbox::{
        replayed_once, stored_then_dead_after_backoff, unavailable_while_down, waits_for_its_server,
    },
    start_with,
};
use webhook_guard::inbox::Inbox;
use webhook_guard_postgres::{PgInbox, test_server::PostgresServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_handler_dead_then_replayed_once_and_503_while_the_database_is_down() {
    let Some(mut server) = PostgresServer::start() else {
        return;
    };
    let url = server.url();
    let failing = start_with(
        "axum_inbox",
        false,
        None,
        &[
            ("DATABASE_URL", &url),
            ("HANDLER_FAIL_EVERY", "1"),
            ("MAX_ATTEMPTS", "3"),
            ("RETRY_BASE_MS", "50"),
        ],
    );
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("connected");
    let inbox = Inbox::new(PgInbox::new(pool.clone()));
    let dead = stored_then_dead_after_backoff(&failing, &inbox).await;
    let rows = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM received_events")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    assert_eq!(rows().await, 0, "every failed attempt's insert rolled back");
    drop(failing);

    // Fixed: replayed, processed once: one row, one line printed after the commit.
    let fixed = start_with("axum_inbox", false, None, &[("DATABASE_URL", &url)]);
    replayed_once(&inbox, &dead, &fixed).await;
    assert_eq!(rows().await, 1);

    server.kill();
    unavailable_while_down(&fixed).await;
    drop(fixed);

    let url_again = server.url();
    waits_for_its_server(
        move || start_with("axum_inbox", false, None, &[("DATABASE_URL", &url_again)]),
        || server.restart(),
    )
    .await;
}
