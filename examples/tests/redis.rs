//! Both example receivers, in separate processes, share one Redis (`REDIS_URL`): a delivery
//! sent to both at once runs the handler once in total. Needs `redis-server` (skipped with a
//! printed reason without it, unless `REQUIRE_REDIS=1`).

mod support;

use std::time::Duration;

use support::{post, sign, start};
use webhook_guard::fixtures;
use webhook_guard_redis::test_server::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_run_a_delivery_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let axum = start("axum_receiver", false, Some(&redis.url()));
    let actix = start("actix_receiver", false, Some(&redis.url()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    for &provider in fixtures::PROVIDERS {
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
    assert_eq!(lines.len(), 4, "{lines:#?}");
    for &provider in fixtures::PROVIDERS {
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
