//! The tower/axum adapter over real loopback sockets with a real HTTP client.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{Options, client, expected_id, post_signed, sample, sign, sign_with, start};
use webhook_guard::{
    clock::ManualClock,
    dedup::{Claim, ClaimToken, DedupStore, StoreError, StoreErrorKind, StoreFuture},
    fixtures,
    receiver::FailMode,
};

const PROVIDERS: [&str; 4] = ["parallel", "sixtyfour", "fullenrich", "parseflow"];

fn flip_middle_byte(body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    let middle = body.len() / 2;
    body[middle] ^= 0x01;
    body
}

#[tokio::test]
async fn each_provider_runs_the_handler_once_and_rejects_bad_deliveries() {
    let server = start(Options::default()).await;
    let client = client();
    for provider in PROVIDERS {
        let url = server.url(provider);
        for (i, fixture) in fixtures::of(provider).enumerate() {
            let id = format!("{provider}-ok-{i}");
            let headers = sign(provider, &id, server.now(), fixture.body);
            let response = post_signed(&client, &url, &headers, fixture.body, &[])
                .await
                .expect("sent");
            assert_eq!(response.status(), 200, "{provider}/{}", fixture.name);
            let delivery_id = expected_id(provider, &id, fixture.body);
            let runs: Vec<_> = server
                .calls()
                .into_iter()
                .filter(|c| c.delivery_id == delivery_id)
                .collect();
            assert_eq!(runs.len(), 1, "{provider}/{}", fixture.name);
            assert_eq!(runs[0].event_type, fixture.event_type);
            assert_eq!(runs[0].provider, provider);
            assert!(runs[0].known);
        }

        let body = sample(provider);
        let before = server.calls().len();
        // Tampered body.
        let headers = sign(provider, "bad-1", server.now(), body);
        let response = post_signed(&client, &url, &headers, &flip_middle_byte(body), &[])
            .await
            .expect("sent");
        assert_eq!(response.status(), 401, "{provider}: tampered");
        // Wrong secret.
        let headers = sign_with(provider, "bad-2", server.now(), body, true);
        let response = post_signed(&client, &url, &headers, body, &[])
            .await
            .expect("sent");
        assert_eq!(response.status(), 401, "{provider}: wrong secret");
        // Stale, for the providers that sign a timestamp.
        if matches!(provider, "parallel" | "sixtyfour") {
            let headers = sign(provider, "bad-3", server.now() - 301, body);
            let response = post_signed(&client, &url, &headers, body, &[])
                .await
                .expect("sent");
            assert_eq!(response.status(), 401, "{provider}: stale");
            assert_eq!(
                response.text().await.expect("body"),
                "invalid webhook signature"
            );
        }
        assert_eq!(server.calls().len(), before, "{provider}: the handler ran");
    }
}

#[tokio::test]
async fn a_duplicate_of_a_completed_delivery_gets_200_and_the_header() {
    let server = start(Options::default()).await;
    let client = client();
    for provider in PROVIDERS {
        let body = sample(provider);
        let id = format!("dup-{provider}");
        let headers = sign(provider, &id, server.now(), body);
        let first = post_signed(&client, &server.url(provider), &headers, body, &[])
            .await
            .expect("sent");
        assert_eq!(first.status(), 200);
        assert!(first.headers().get("webhook-guard-duplicate").is_none());
        let second = post_signed(&client, &server.url(provider), &headers, body, &[])
            .await
            .expect("sent");
        assert_eq!(second.status(), 200);
        assert_eq!(
            second
                .headers()
                .get("webhook-guard-duplicate")
                .map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
        assert_eq!(
            server.runs_of(&expected_id(provider, &id, body)),
            1,
            "{provider}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_copies_run_the_handler_once() {
    let server = start(Options::default()).await;
    let client = client();
    let body = sample("parallel");
    let headers = sign("parallel", "burst-1", server.now(), body);
    let url = server.url("parallel");
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let client = client.clone();
        let url = url.clone();
        let headers = headers.clone();
        tasks.push(tokio::spawn(async move {
            let response = post_signed(&client, &url, &headers, body, &[("x-test", "sleep:300")])
                .await
                .expect("sent");
            let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
            let retry_after = response.headers().get("retry-after").is_some();
            (response.status().as_u16(), duplicate, retry_after)
        }));
    }
    let mut processed = 0;
    for task in tasks {
        match task.await.expect("task") {
            (200, false, _) => processed += 1,
            (200, true, _) | (409, false, true) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(processed, 1);
    assert_eq!(server.runs_of("burst-1"), 1);
}

#[tokio::test]
async fn a_failed_handler_releases_the_claim_and_the_retry_is_processed() {
    let server = start(Options::default()).await;
    let client = client();
    let body = sample("parseflow");
    let headers = sign("parseflow", "fail-1", server.now(), body);
    let url = server.url("parseflow");
    let first = post_signed(&client, &url, &headers, body, &[("x-test", "status:500")])
        .await
        .expect("sent");
    assert_eq!(first.status(), 500);
    let retry = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(retry.status(), 200);
    assert!(retry.headers().get("webhook-guard-duplicate").is_none());
    assert_eq!(server.runs_of("fail-1"), 2);
    // Now completed: a third copy is a duplicate.
    let third = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert!(third.headers().get("webhook-guard-duplicate").is_some());
    assert_eq!(server.runs_of("fail-1"), 2);
}

#[tokio::test]
async fn a_panicking_handler_releases_the_claim() {
    let server = start(Options::default()).await;
    let client = client();
    let body = sample("parallel");
    let headers = sign("parallel", "panic-1", server.now(), body);
    let url = server.url("parallel");
    let first = post_signed(&client, &url, &headers, body, &[("x-test", "panic")]).await;
    assert!(
        first.is_err() || first.as_ref().is_ok_and(|r| r.status() == 500),
        "the panic must not look like a success: {first:?}"
    );
    let retry = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(retry.status(), 200);
    assert!(retry.headers().get("webhook-guard-duplicate").is_none());
    assert_eq!(server.runs_of("panic-1"), 2);
}

#[tokio::test]
async fn a_client_that_goes_away_mid_handler_releases_the_claim() {
    let server = start(Options::default()).await;
    let body = sample("parallel");
    let headers = sign("parallel", "gone-1", server.now(), body);
    let url = server.url("parallel");
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let first = post_signed(&impatient, &url, &headers, body, &[("x-test", "hang")]).await;
    assert!(first.is_err(), "the client gave up");
    // The server notices the closed connection and drops the handler's future; its claim
    // is released. Retries may arrive before that: the provider would retry them too.
    let client = client();
    let mut answer = None;
    for _ in 0..50 {
        let retry = post_signed(&client, &url, &headers, body, &[])
            .await
            .expect("sent");
        if retry.status() == 409 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        answer = Some(retry.status().as_u16());
        break;
    }
    assert_eq!(answer, Some(200));
    assert_eq!(server.runs_of("gone-1"), 2);
}

#[tokio::test]
async fn a_crashed_claim_is_taken_over_after_its_lease() {
    let clock = ManualClock::at_unix_seconds(1_761_577_000);
    let server = start(Options {
        store: Some(common::memory_store(&clock)),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let client = client();
    let body = sample("sixtyfour");
    let url = server.url("sixtyfour");
    // The first delivery hangs in its handler (a stuck or crashed worker).
    let headers = sign("sixtyfour", "lease-1", server.now(), body);
    let stuck = {
        let client = client.clone();
        let url = url.clone();
        let headers = headers.clone();
        tokio::spawn(async move {
            post_signed(&client, &url, &headers, body, &[("x-test", "hang")]).await
        })
    };
    while server.runs_of("lease-1") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let retry = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(retry.status(), 409, "still within the lease");
    clock.advance(Duration::from_secs(60));
    // The provider's retry, signed at the new time.
    let headers = sign("sixtyfour", "lease-1", server.now(), body);
    let retry = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(retry.status(), 200);
    assert_eq!(server.runs_of("lease-1"), 2);
    stuck.abort();
}

/// A store whose every call fails.
#[derive(Debug, Default)]
struct BrokenStore {
    calls: AtomicUsize,
}

impl DedupStore for BrokenStore {
    fn claim<'a>(&'a self, _key: &'a str, _lease: Duration) -> StoreFuture<'a, Claim> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "connection refused",
            ))
        })
    }

    fn complete<'a>(
        &'a self,
        _key: &'a str,
        _token: &'a ClaimToken,
        _retention: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async {
            Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "connection refused",
            ))
        })
    }

    fn release<'a>(&'a self, _key: &'a str, _token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async {
            Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "connection refused",
            ))
        })
    }
}

#[tokio::test]
async fn a_failing_store_gets_503_fail_closed_and_runs_the_handler_fail_open() {
    let store = Arc::new(BrokenStore::default());
    let closed = start(Options {
        store: Some(store.clone()),
        ..Options::default()
    })
    .await;
    let open = start(Options {
        store: Some(store.clone()),
        fail_mode: Some(FailMode::Open),
        ..Options::default()
    })
    .await;
    let client = client();
    let body = sample("parallel");
    let headers = sign("parallel", "store-1", closed.now(), body);

    let response = post_signed(&client, &closed.url("parallel"), &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"10"[..])
    );
    assert_eq!(closed.runs_of("store-1"), 0);

    let response = post_signed(&client, &open.url("parallel"), &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(open.runs_of("store-1"), 1);
    assert_eq!(store.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn three_contacts_of_one_fullenrich_batch_run_the_handler_three_times() {
    let server = start(Options::default()).await;
    let client = client();
    let template: serde_json::Value = serde_json::from_slice(
        fixtures::get("fullenrich", "contact_finished.one_record")
            .expect("fixture")
            .body,
    )
    .expect("json");
    for first_name in ["Ana", "Ben", "Chloé"] {
        let mut body = template.clone();
        body["data"][0]["input"]["first_name"] = first_name.into();
        let body = serde_json::to_vec(&body).expect("json");
        let headers = sign("fullenrich", "", server.now(), &body);
        let response = post_signed(&client, &server.url("fullenrich"), &headers, &body, &[])
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("webhook-guard-duplicate").is_none());
    }
    let contacts: Vec<_> = server
        .calls()
        .into_iter()
        .filter(|c| c.event_type == "contact_finished")
        .collect();
    assert_eq!(contacts.len(), 3);
}

#[tokio::test]
async fn unknown_event_types_reach_the_handler_and_bad_json_gets_400() {
    let server = start(Options::default()).await;
    let client = client();
    let body = br#"{"type":"findall.run.paused","timestamp":"2026-01-01T00:00:00Z","data":{}}"#;
    let headers = sign("parallel", "unknown-1", server.now(), body);
    let response = post_signed(&client, &server.url("parallel"), &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let call = server
        .calls()
        .into_iter()
        .find(|c| c.delivery_id == "unknown-1")
        .expect("handler ran");
    assert_eq!(call.event_type, "findall.run.paused");
    assert!(!call.known);

    let body = b"not json at all";
    let headers = sign("parallel", "badjson-1", server.now(), body);
    let response = post_signed(&client, &server.url("parallel"), &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    assert_eq!(server.runs_of("badjson-1"), 0);
    // The claim of a malformed delivery was released: the same id is not a duplicate.
    let body = sample("parallel");
    let headers = sign("parallel", "badjson-1", server.now(), body);
    let response = post_signed(&client, &server.url("parallel"), &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(server.runs_of("badjson-1"), 1);
}

#[tokio::test]
async fn a_handler_without_the_layer_gets_an_explaining_500() {
    let server = start(Options::default()).await;
    let response = client()
        .post(format!("http://{}/unguarded", server.addr))
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.text().await.expect("body"),
        "webhook receiver misconfigured"
    );
}

/// A memory store that counts claims.
#[derive(Debug, Default)]
struct CountingStore {
    inner: webhook_guard::dedup::MemoryStore,
    claims: AtomicUsize,
}

impl DedupStore for CountingStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        self.inner.claim(key, lease)
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        self.inner.complete(key, token, retention)
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.inner.release(key, token)
    }
}

#[tokio::test]
async fn nothing_unverified_reaches_the_store() {
    let store = Arc::new(CountingStore::default());
    let server = start(Options {
        store: Some(store.clone()),
        ..Options::default()
    })
    .await;
    let client = client();
    for provider in PROVIDERS {
        let body = sample(provider);
        let url = server.url(provider);
        let headers = sign(provider, "unverified-1", server.now(), body);
        let tampered = flip_middle_byte(body);
        assert_eq!(
            post_signed(&client, &url, &headers, &tampered, &[])
                .await
                .expect("sent")
                .status(),
            401
        );
        let forged = sign_with(provider, "unverified-2", server.now(), body, true);
        assert_eq!(
            post_signed(&client, &url, &forged, body, &[])
                .await
                .expect("sent")
                .status(),
            401
        );
        let unsigned = client
            .post(&url)
            .header("webhook-id", "unverified-3")
            .header("x-parseflow-delivery", "unverified-3")
            .body(body.to_vec())
            .send()
            .await
            .expect("sent");
        // Sixtyfour accepts unsigned deliveries on this test server (allow_unsigned).
        if provider != "sixtyfour" {
            assert_eq!(unsigned.status(), 401, "{provider}");
        }
    }
    // Only the unsigned Sixtyfour delivery, which this server allows, was claimed.
    assert_eq!(store.claims.load(Ordering::SeqCst), 1);
    // A verified delivery is claimed.
    let body = sample("parallel");
    let headers = sign("parallel", "verified-1", server.now(), body);
    post_signed(&client, &server.url("parallel"), &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(store.claims.load(Ordering::SeqCst), 2);
}
