//! `axum_inbox` under crashes: 3 receiver processes and 3 worker processes on one Postgres,
//! deliveries of two providers sent twice each (duplicates, some at once) and retried like a
//! sender until answered 2xx, workers SIGKILLed at random points and started again, Postgres
//! restarted once. At the end: every delivery answered 2xx is in the inbox (no 2xx before the
//! commit), every entry is done (none lost, none stuck past a lease), and `received_events`
//! holds exactly one row per distinct delivery. `INBOX_KILL_DELIVERIES` sets the count (default
//! 600; the issue's figure, 10,000, was run by hand, see BENCHMARKS.md). Needs PostgreSQL
//! (skipped with a printed reason without it, unless `REQUIRE_POSTGRES=1`).

mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::postgres::PgPoolOptions;
use support::{Lcg, Running, sign, start_with};
use webhook_guard::fixtures;
use webhook_guard_postgres::test_server::PostgresServer;

fn worker(url: &str) -> Running {
    start_with(
        "axum_inbox",
        false,
        None,
        &[
            ("DATABASE_URL", url),
            ("ROLE", "worker"),
            ("WORKERS", "4"),
            ("HANDLER_DELAY_MS", "3"),
            ("INBOX_LEASE_MS", "1500"),
            ("RETRY_BASE_MS", "50"),
        ],
    )
}

/// One delivery: its provider, id and body.
fn delivery(i: usize) -> (&'static str, String, Vec<u8>) {
    if i.is_multiple_of(2) {
        let body = fixtures::of("parallel")
            .next()
            .expect("fixture")
            .body
            .to_vec();
        ("parallel", format!("kill-{i}"), body)
    } else {
        // ParseFlow deduplicates by the body's digest: each delivery's body differs.
        let body = format!(
            r#"{{"event":"quota.warning","timestamp":"2025-01-15T10:30:00Z","data":{{"used":{i},"limit":100000}}}}"#
        );
        ("parseflow", format!("kill-{i}"), body.into_bytes())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receivers_and_workers_killed_lose_nothing_and_run_each_delivery_once() {
    let Some(mut server) = PostgresServer::start_durable() else {
        return;
    };
    let count: usize = std::env::var("INBOX_KILL_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let mut random = Lcg::from_clock();
    let url = server.url();
    let receivers: Vec<Running> = (0..3)
        .map(|_| {
            start_with(
                "axum_inbox",
                false,
                None,
                &[("DATABASE_URL", &url), ("ROLE", "receiver")],
            )
        })
        .collect();
    let mut workers: Vec<Running> = (0..3).map(|_| worker(&url)).collect();
    let urls: Arc<Vec<String>> = Arc::new(
        receivers
            .iter()
            .map(|r| format!("http://{}", r.addr))
            .collect(),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let started = Instant::now();
    // Each delivery is sent twice (a sender's retry and a duplicate), by tasks of their own,
    // each retrying until a 2xx, on a receiver picked by the delivery.
    let semaphore = Arc::new(tokio::sync::Semaphore::new(32));
    let mut sends = Vec::new();
    for i in 0..count {
        for copy in 0..2 {
            let (client, urls, semaphore) =
                (client.clone(), Arc::clone(&urls), Arc::clone(&semaphore));
            sends.push(tokio::spawn(async move {
                let _slot = semaphore.acquire_owned().await.expect("semaphore");
                let (provider, id, body) = delivery(i);
                let deadline = Instant::now() + Duration::from_secs(120);
                let mut pick = i + copy;
                loop {
                    let headers = sign(provider, &id, &body);
                    let url = format!("{}/webhooks/{provider}", urls[pick % urls.len()]);
                    let mut request = client.post(&url).body(body.clone());
                    for (name, value) in headers.iter() {
                        request = request.header(name, value);
                    }
                    if let Ok(response) = request.send().await {
                        let status = response.status().as_u16();
                        if status == 200 || status == 202 {
                            return (provider, id, status);
                        }
                        assert!(
                            matches!(status, 503 | 409),
                            "{provider} {id}: unexpected {status}"
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{provider} {id}: no 2xx within 120 s"
                    );
                    pick += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
    }
    // Chaos while the deliveries arrive: a worker killed and started again every 150-450 ms,
    // Postgres restarted once.
    let mut kills = 0;
    let mut restarted = false;
    while sends.iter().any(|s| !s.is_finished()) {
        tokio::time::sleep(Duration::from_millis(150 + random.below(300))).await;
        let victim = random.below(3) as usize;
        workers[victim] = worker(&url);
        kills += 1;
        if !restarted && kills == 4 {
            server.restart();
            restarted = true;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "sending took over 10 minutes"
        );
    }
    let mut answered: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for send in sends {
        let (provider, id, status) = send.await.expect("task");
        answered
            .entry(format!("{provider}/{id}"))
            .or_default()
            .push(status);
    }
    eprintln!(
        "{count} deliveries answered in {:?}, {kills} worker kills, postgres restarted",
        started.elapsed()
    );
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("connected");
    // Every 2xx is in the inbox.
    let stored: BTreeSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT provider || '/' || delivery_id FROM webhook_guard.inbox",
    )
    .fetch_all(&pool)
    .await
    .expect("entries")
    .into_iter()
    .collect();
    for key in answered.keys() {
        assert!(
            stored.contains(key),
            "{key} was answered 2xx but is not in the inbox"
        );
    }
    assert_eq!(stored.len(), count, "one entry per distinct delivery");
    // Every entry done, within a few leases.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (not_done, dead): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE state <> 'done'), count(*) FILTER (WHERE state = 'dead')
             FROM webhook_guard.inbox",
        )
        .fetch_one(&pool)
        .await
        .expect("states");
        assert_eq!(dead, 0, "no entry dead");
        if not_done == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{not_done} entries not done 60 s after the last answer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT provider || '/' || delivery_id, count(*) FROM received_events GROUP BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("rows");
    let doubled: Vec<_> = rows.iter().filter(|(_, n)| *n != 1).collect();
    assert!(
        doubled.is_empty(),
        "deliveries with more than one row: {doubled:?}"
    );
    assert_eq!(rows.len(), count, "one row per distinct delivery");
    drop(workers);
    drop(receivers);
}
