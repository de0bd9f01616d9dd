//! Both example receivers, in separate processes, share one store, Redis (`REDIS_URL`) or
//! Postgres (`DATABASE_URL`): a delivery sent to both at once runs the handler once in
//! total; a receiver killed mid-handler loses nothing: the retries on Sixtyfour's schedule
//! reach the other one, which processes the delivery once, within the schedule. Needs
//! `redis-server` and PostgreSQL (each skipped with a printed reason without it, unless
//! `REQUIRE_REDIS=1` / `REQUIRE_POSTGRES=1`).

mod support;

use std::time::Duration;

use support::{post, sign, start_with};
use webhook_guard::fixtures;
use webhook_guard_postgres::test_server::PostgresServer;
use webhook_guard_redis::test_server::RedisServer;

/// A store server for the receivers, and the variable that points them at it.
enum Shared {
    Redis(RedisServer),
    Postgres(PostgresServer),
}

impl Shared {
    fn redis() -> Option<Self> {
        RedisServer::start().map(Self::Redis)
    }

    fn postgres() -> Option<Self> {
        PostgresServer::start().map(Self::Postgres)
    }

    /// Starts example `name` on this store, with more variables.
    fn start(&self, name: &str, env: &[(&str, &str)]) -> support::Running {
        match self {
            Self::Redis(server) => start_with(name, false, Some(&server.url()), env),
            Self::Postgres(server) => {
                let url = server.url();
                let mut env = env.to_vec();
                env.push(("DATABASE_URL", &url));
                start_with(name, false, None, &env)
            }
        }
    }
}

async fn two_replicas_run_a_delivery_once(store: Option<Shared>) {
    let Some(store) = store else {
        return;
    };
    let axum = store.start("axum_receiver", &[]);
    let actix = store.start("actix_receiver", &[]);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    for provider in support::ROUTES {
        let body = fixtures::of(provider).next().expect("fixture").body;
        let headers = sign(provider, &format!("replicas-{provider}"), body);
        // 500 copies, alternately to each replica, all at once.
        let copies: Vec<_> = (0..500)
            .map(|i| {
                let addr = if i % 2 == 0 { &axum.addr } else { &actix.addr };
                let url = format!("http://{addr}/webhooks/{provider}");
                let (client, headers) = (client.clone(), headers.clone());
                tokio::spawn(async move {
                    let response = post(&client, &url, &headers, body).await;
                    let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
                    (response.status().as_u16(), duplicate)
                })
            })
            .collect();
        let mut processed = 0;
        for copy in copies {
            match copy.await.expect("task") {
                (200, false) => processed += 1,
                (200, true) | (409, false) => {}
                other => panic!("{provider}: unexpected answer {other:?}"),
            }
        }
        assert_eq!(processed, 1, "{provider}");
    }
    // One stdout line per provider, from one replica or the other.
    let mut lines = Vec::new();
    for running in [&axum, &actix] {
        while let Ok(line) = running.lines.recv_timeout(Duration::from_millis(500)) {
            lines.push(line);
        }
    }
    assert_eq!(lines.len(), support::ROUTES.len(), "{lines:#?}");
    for provider in support::ROUTES {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains(&format!("\"provider\":\"{provider}\"")))
                .count(),
            1,
            "{lines:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_run_a_delivery_once() {
    two_replicas_run_a_delivery_once(Shared::redis()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_postgres_run_a_delivery_once() {
    two_replicas_run_a_delivery_once(Shared::postgres()).await;
}

/// A receiver is SIGKILLed while its handler runs; Sixtyfour retries 1, 2, 4, 8 and 16 s after
/// each failure, against a second receiver on the same store. The dead process's claim stops
/// being renewed and expires after the 10 s lease, so the retry at +15 s is processed, once.
async fn killed_mid_handler(name: &str, store: Option<Shared>) {
    let Some(store) = store else {
        return;
    };
    let doomed = store.start(name, &[("HANDLER_DELAY_MS", "600000")]);
    let survivor = store.start(name, &[]);
    let client = reqwest::Client::new();
    let body = fixtures::of("sixtyfour").next().expect("fixture").body;
    let headers = sign("sixtyfour", &format!("killed-{name}"), body);
    let first = {
        let (client, headers) = (client.clone(), headers.clone());
        let url = format!("http://{}/webhooks/sixtyfour", doomed.addr);
        tokio::spawn(async move {
            let mut request = client.post(url).body(body.to_vec());
            for (n, v) in headers.iter() {
                request = request.header(n, v);
            }
            request.send().await
        })
    };
    // Let the doomed receiver claim the delivery and start its handler, then kill it.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    drop(doomed);
    let first = first.await.expect("task");
    assert!(
        first.is_err(),
        "{name}: the first attempt died with the process, not {:?}",
        first.map(|r| r.status())
    );
    let started = std::time::Instant::now();
    let url = format!("http://{}/webhooks/sixtyfour", survivor.addr);
    let mut processed_at = None;
    let mut waited = 0;
    for backoff in [1_u64, 2, 4, 8, 16] {
        tokio::time::sleep(Duration::from_secs(backoff)).await;
        waited += backoff;
        let response = post(&client, &url, &headers, body).await;
        let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
        match (response.status().as_u16(), duplicate) {
            (200, false) => {
                assert!(processed_at.is_none(), "{name}: processed twice");
                processed_at = Some(waited);
            }
            (409, false) | (200, true) => {}
            other => panic!("{name}: unexpected answer {other:?} at +{waited} s"),
        }
    }
    eprintln!(
        "{name}: processed by the survivor at +{processed_at:?} s of Sixtyfour's schedule ({:?} in all)",
        started.elapsed()
    );
    assert!(
        processed_at.is_some_and(|at| at <= 31),
        "{name}: not processed within the schedule"
    );
    let mut lines = Vec::new();
    while let Ok(line) = survivor.lines.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    assert_eq!(lines.len(), 1, "{name}: {lines:#?}");
    assert!(lines[0].contains(&format!("killed-{name}")), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_receiver_killed_mid_handler_loses_nothing_on_redis() {
    killed_mid_handler("axum_receiver", Shared::redis()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actix_receiver_killed_mid_handler_loses_nothing_on_redis() {
    killed_mid_handler("actix_receiver", Shared::redis()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_receiver_killed_mid_handler_loses_nothing_on_postgres() {
    killed_mid_handler("axum_receiver", Shared::postgres()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actix_receiver_killed_mid_handler_loses_nothing_on_postgres() {
    killed_mid_handler("actix_receiver", Shared::postgres()).await;
}
