//! `axum_exactly_once` SIGKILLed again and again, at random points, while a client delivers
//! and retries like a provider: every delivery ends as exactly one row of `received_events`,
//! and no retry waits on a lease (Postgres rolls back a dead process's transactions as soon
//! as its connections drop). Needs PostgreSQL (skipped with a printed reason without it,
//! unless `REQUIRE_POSTGRES=1`).

mod support;

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::postgres::PgPoolOptions;
use support::{Lcg, post, sign, start_with};
use webhook_guard::fixtures;
use webhook_guard_postgres::test_server::PostgresServer;

const DELIVERIES: usize = 40;
const KILLS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_every_delivery_is_one_row() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let mut random = Lcg::from_clock();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&server.url())
        .await
        .expect("connected");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let mut pending: BTreeSet<String> = (0..DELIVERIES).map(|i| format!("kill-{i}")).collect();
    let mut conflicts_after_a_kill = 0;
    let mut answered = 0;
    let (mut cut_off, mut committed_unanswered) = (0, 0);
    for round in 0..=KILLS {
        if pending.is_empty() {
            break;
        }
        // The handler holds its transaction open for a random time after its insert.
        let delay_ms = 100 + random.below(400);
        let delay = delay_ms.to_string();
        let receiver = start_with(
            "axum_exactly_once",
            false,
            None,
            &[
                ("DATABASE_URL", &server.url()),
                ("HANDLER_DELAY_MS", &delay),
            ],
        );
        let url = Arc::new(format!("http://{}/webhooks/parallel", receiver.addr));
        let attempts: Vec<_> = pending
            .iter()
            .map(|id| {
                let (client, url, id) = (client.clone(), Arc::clone(&url), id.clone());
                tokio::spawn(async move {
                    let headers = sign("parallel", &id, body);
                    let mut request = client.post(url.as_str()).body(body.to_vec());
                    for (name, value) in headers.iter() {
                        request = request.header(name, value);
                    }
                    let answer = request.send().await.ok().map(|response| {
                        let duplicate = response.headers().contains_key("webhook-guard-duplicate");
                        (response.status().as_u16(), duplicate)
                    });
                    (id, answer)
                })
            })
            .collect();
        let last = round == KILLS;
        if !last {
            // Kill at a random point: before the claims, in the handlers, around the commits.
            tokio::time::sleep(Duration::from_millis(random.below(delay_ms + 150))).await;
            drop(receiver);
        }
        for attempt in attempts {
            let (id, answer) = attempt.await.expect("task");
            match answer {
                Some((200, duplicate)) => {
                    // A duplicate: committed in an earlier round, its answer lost in a kill.
                    committed_unanswered += usize::from(duplicate);
                    answered += 1;
                    pending.remove(&id);
                }
                Some((409, _)) => conflicts_after_a_kill += usize::from(round > 0),
                Some((503, _)) => {}
                // Cut off by the kill: retried in the next round.
                None => cut_off += 1,
                Some((other, _)) => panic!("{id}: unexpected status {other}"),
            }
        }
        if last {
            break;
        }
        // The dead process's transactions are gone within moments (no lease to run out):
        // no session of it is left, no advisory lock held.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (sessions, locks): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM pg_stat_activity
                         WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()),
                        (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')",
            )
            .fetch_one(&pool)
            .await
            .expect("activity");
            if sessions == 0 && locks == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: {sessions} transactions and {locks} locks of a dead process left after 5 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // What is still pending after the last round is retried against a live receiver.
    if !pending.is_empty() {
        let receiver = start_with(
            "axum_exactly_once",
            false,
            None,
            &[("DATABASE_URL", &server.url())],
        );
        let url = format!("http://{}/webhooks/parallel", receiver.addr);
        for id in std::mem::take(&mut pending) {
            let response = post(&client, &url, &sign("parallel", &id, body), body).await;
            assert_eq!(response.status(), 200, "{id}");
        }
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT delivery_id, count(*) FROM received_events GROUP BY delivery_id ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("rows");
    assert_eq!(rows.len(), DELIVERIES, "{rows:?}");
    for (id, count) in &rows {
        assert_eq!(*count, 1, "{id}: {count} rows");
    }
    assert_eq!(
        conflicts_after_a_kill, 0,
        "a retry after a kill found its delivery held"
    );
    assert!(cut_off > 0, "no kill met a delivery in flight");
    eprintln!(
        "{KILLS} kills, {DELIVERIES} deliveries: {cut_off} attempts cut off by a kill, {committed_unanswered} of them committed before it (their retry answered as a duplicate), {answered} answered 200 in the rounds; one row each"
    );
}
