//! `axum_inbox` under crashes, on Postgres and on Redis: 3 receiver processes and 3 worker
//! processes, deliveries of two providers sent twice each (duplicates, some at once) and
//! retried like a sender until answered 2xx, workers SIGKILLed at random points and started
//! again (at least 4 times), the server restarted once (Postgres; Redis killed and restarted with AOF
//! `appendfsync everysec`). At the end: every delivery answered 2xx is in the inbox (no 2xx
//! before the entry is stored), every entry is done (none lost, none stuck past a lease), and
//! each delivery was handled: exactly once on Postgres (`received_events`, written in the
//! entry's transaction), at least once on Redis with double runs only in the documented
//! window (a worker killed between its handler's end and its done mark: at most its handlers
//! in flight per kill). `INBOX_KILL_DELIVERIES` sets the count (default 600; the issue's
//! figure, 10,000, was run by hand, see BENCHMARKS.md). Skipped with a printed reason without
//! the server, unless `REQUIRE_POSTGRES=1` / `REQUIRE_REDIS=1`.

mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::postgres::PgPoolOptions;
use support::{Lcg, Running, sign, start_with};
use webhook_guard::{
    fixtures,
    inbox::{EntryState, Filter, InboxStore},
};
use webhook_guard_postgres::test_server::PostgresServer;
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

/// Handlers per worker process.
const WORKERS: usize = 4;

/// Where the inbox is: the environment that names it to the example.
#[derive(Clone, Copy)]
enum Backend<'a> {
    Postgres(&'a str),
    Redis(&'a str),
}

fn start(backend: Backend<'_>, env: &[(&str, &str)]) -> Running {
    match backend {
        Backend::Postgres(url) => {
            let mut all = vec![("DATABASE_URL", url)];
            all.extend_from_slice(env);
            start_with("axum_inbox", false, None, &all)
        }
        Backend::Redis(url) => start_with("axum_inbox", false, Some(url), env),
    }
}

fn worker(backend: Backend<'_>) -> Running {
    let workers = WORKERS.to_string();
    start(
        backend,
        &[
            ("ROLE", "worker"),
            ("WORKERS", &workers),
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

fn deliveries() -> usize {
    std::env::var("INBOX_KILL_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

/// What a run under chaos saw.
struct Run {
    /// The 2xx statuses of each delivery (`provider/id`).
    answered: BTreeMap<String, Vec<u16>>,
    kills: usize,
    /// The stdout lines of the workers killed.
    lines: Vec<String>,
    /// The workers still running.
    workers: Vec<Running>,
}

impl Run {
    /// Every delivery answered 2xx is among `stored` (`provider/id`), one entry each.
    fn all_stored(&self, stored: &BTreeSet<String>, count: usize) {
        for key in self.answered.keys() {
            assert!(
                stored.contains(key),
                "{key} was answered 2xx but is not in the inbox"
            );
        }
        assert_eq!(stored.len(), count, "one entry per distinct delivery");
    }

    /// Stops the workers left; every worker's stdout lines.
    fn stop(self) -> Vec<String> {
        let mut lines = self.lines;
        for worker in self.workers {
            lines.extend(worker.stop());
        }
        lines
    }
}

/// Sends `count` deliveries twice each through 3 receivers while killing a worker every
/// 150-450 ms, at least 4 times (`restart` runs once, at the second kill).
async fn run_under_chaos(backend: Backend<'_>, count: usize, mut restart: impl FnMut()) -> Run {
    let mut random = Lcg::from_clock();
    let receivers: Vec<Running> = (0..3)
        .map(|_| start(backend, &[("ROLE", "receiver")]))
        .collect();
    let mut workers: Vec<Running> = (0..3).map(|_| worker(backend)).collect();
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
    let mut kills = 0;
    let mut lines = Vec::new();
    while kills < 4 || sends.iter().any(|s| !s.is_finished()) {
        tokio::time::sleep(Duration::from_millis(150 + random.below(300))).await;
        let victim = random.below(3) as usize;
        let killed = std::mem::replace(&mut workers[victim], worker(backend));
        lines.extend(killed.stop());
        kills += 1;
        if kills == 2 {
            restart();
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
        "{count} deliveries answered in {:?}, {kills} worker kills, the server restarted once",
        started.elapsed()
    );
    drop(receivers);
    Run {
        answered,
        kills,
        lines,
        workers,
    }
}

/// Waits until `not_done` answers 0 (and no entry is dead), for at most 60 s.
async fn wait_all_done(mut states: impl AsyncFnMut() -> (u64, u64)) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (not_done, dead) = states().await;
        assert_eq!(dead, 0, "no entry dead");
        if not_done == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{not_done} entries not done 60 s after the last answer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receivers_and_workers_killed_lose_nothing_and_run_each_delivery_once() {
    let Some(mut server) = PostgresServer::start_durable() else {
        return;
    };
    let count = deliveries();
    let url = server.url();
    let run = run_under_chaos(Backend::Postgres(&url), count, || server.restart()).await;
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
    run.all_stored(&stored, count);
    wait_all_done(async || {
        let (not_done, dead): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE state <> 'done'), count(*) FILTER (WHERE state = 'dead')
             FROM webhook_guard.inbox",
        )
        .fetch_one(&pool)
        .await
        .expect("states");
        (not_done as u64, dead as u64)
    })
    .await;
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
    assert!(run.kills > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_redis_workers_killed_lose_nothing_and_double_runs_stay_in_the_window() {
    let Some(mut server) = RedisServer::start_everysec() else {
        return;
    };
    let count = deliveries();
    let url = server.url();
    let run = run_under_chaos(Backend::Redis(&url), count, || server.restart()).await;
    let inbox = RedisInbox::connect(url.clone()).await.expect("redis");
    // Every 2xx is in the inbox.
    let mut stored = BTreeSet::new();
    let mut after = None;
    loop {
        let page = inbox
            .list(&Filter::default(), after, 1000)
            .await
            .expect("list");
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.id);
        stored.extend(
            page.iter()
                .map(|e| format!("{}/{}", e.provider, e.delivery_id)),
        );
    }
    run.all_stored(&stored, count);
    wait_all_done(async || {
        let stats = inbox.stats().await.expect("stats");
        (stats.pending + stats.running, stats.dead)
    })
    .await;
    let dead = Filter {
        state: Some(EntryState::Dead),
        ..Filter::default()
    };
    assert!(inbox.list(&dead, None, 1).await.expect("list").is_empty());
    let kills = run.kills;
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for line in run.stop() {
        let line: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        let key = format!(
            "{}/{}",
            line["provider"].as_str().expect("provider"),
            line["delivery_id"].as_str().expect("delivery_id")
        );
        *runs.entry(key).or_default() += 1;
    }
    for key in &stored {
        assert!(runs.contains_key(key), "{key} was never handled");
    }
    let doubles: usize = runs.values().map(|n| n - 1).sum();
    // The window: a worker killed after a handler printed and before its done mark reached
    // Redis, at most its handlers in flight per kill, and the same around the restart.
    let window = (kills + 1) * WORKERS;
    eprintln!("{doubles} double runs after {kills} kills (window: at most {window})");
    assert!(
        doubles <= window,
        "{doubles} double runs, more than the window of {window}"
    );
}
