//! The example Worker (`examples/worker`: `webhook-guard-worker` on workers-rs) on workerd,
//! the Workers runtime, over real sockets: the conformance cases that apply to a Worker, with
//! the dedup records in Durable Objects. Skipped (and listed) without workerd or the wasm
//! tools, unless `REQUIRE_WORKERD=1`.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use webhook_guard::fixtures;
use webhook_guard_conformance::{
    assert_rejection, client, expected_id, flip_middle_byte, now, post_signed, sample, sign,
    sign_with, workerd::Workerd,
};

/// The providers the example Worker serves.
const PROVIDERS: [&str; 2] = ["parallel", "github"];

/// What the example's handler answers: one JSON line per delivery it processes.
#[derive(Debug, serde::Deserialize, PartialEq, Eq)]
struct Line {
    provider: String,
    delivery_id: String,
    event_type: String,
    known: bool,
}

async fn handled(response: reqwest::Response, what: &str) -> Line {
    let status = response.status();
    let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "{what}: {text}");
    assert!(!duplicate, "{what}: a duplicate");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
}

/// One workerd for every case of this binary would share Durable Objects between cases: each
/// case starts its own, with fresh in-memory objects.
fn start() -> Option<Workerd> {
    Workerd::start()
}

#[tokio::test]
async fn every_fixture_is_handled_once_then_answered_as_a_duplicate() {
    let Some(worker) = start() else { return };
    let client = client();
    let health = client
        .get(format!("{}/healthz", worker.base()))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
    for provider in PROVIDERS {
        let url = format!("{}/webhooks/{provider}", worker.base());
        for (i, fixture) in fixtures::of(provider).enumerate() {
            let id = format!("{provider}-ok-{i}");
            let headers = sign(provider, &id, now(), fixture.body);
            let what = format!("{provider}/{}", fixture.name);
            let response = post_signed(&client, &url, &headers, fixture.body, &[])
                .await
                .expect("sent");
            let line = handled(response, &what).await;
            assert_eq!(
                line,
                Line {
                    provider: provider.to_owned(),
                    delivery_id: expected_id(provider, &id, fixture.body),
                    event_type: fixture.event_type.to_owned(),
                    known: true,
                },
                "{what}"
            );
            let copy = post_signed(&client, &url, &headers, fixture.body, &[])
                .await
                .expect("sent");
            assert_eq!(
                copy.headers()
                    .get("webhook-guard-duplicate")
                    .map(|v| v.as_bytes()),
                Some(&b"true"[..]),
                "{what}"
            );
            assert_rejection(copy, 200, "duplicate delivery, already processed", &what).await;
        }
    }
}

/// Copies sent at once, half to each of two Workers that share only the Durable Object
/// namespace (each has its own receivers, so only the objects can tell them apart): one runs
/// the handler, every other copy is answered 409 or as a duplicate, and a later copy at
/// either Worker is a duplicate.
#[tokio::test]
async fn copies_arriving_at_once_at_two_workers_run_the_handler_once() {
    let Some(worker) = start() else { return };
    let client = client();
    let urls = [
        format!("{}/webhooks/parallel", worker.base()),
        format!("{}/webhooks/parallel", worker.second_base()),
    ];
    let body = sample("parallel");
    for round in 0..5 {
        let headers = sign("parallel", &format!("burst-{round}"), now(), body);
        let copies = (0..24).map(|i| post_signed(&client, &urls[i % 2], &headers, body, &[]));
        let responses = futures_util::future::join_all(copies).await;
        let mut runs = 0;
        for response in responses {
            let response = response.expect("sent");
            let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
            match response.status().as_u16() {
                200 if !duplicate => runs += 1,
                200 => {}
                409 => assert!(response.headers().get("retry-after").is_some()),
                status => panic!("round {round}: a copy answered {status}"),
            }
        }
        assert_eq!(runs, 1, "round {round}: the handler ran {runs} times");
        for url in &urls {
            let copy = post_signed(&client, url, &headers, body, &[])
                .await
                .expect("sent");
            assert_eq!(copy.status(), 200, "round {round}: {url}");
            assert!(
                copy.headers().get("webhook-guard-duplicate").is_some(),
                "round {round}: {url} ran the handler again"
            );
        }
    }
}

#[tokio::test]
async fn forged_stale_and_unsigned_deliveries_get_401_and_store_nothing() {
    let Some(worker) = start() else { return };
    let client = client();
    for provider in PROVIDERS {
        let url = format!("{}/webhooks/{provider}", worker.base());
        let body = sample(provider);
        let headers = sign(provider, "bad-1", now(), body);
        let tampered = flip_middle_byte(body);
        let response = post_signed(&client, &url, &headers, &tampered, &[])
            .await
            .expect("sent");
        assert_rejection(response, 401, "invalid webhook signature", "tampered").await;
        let headers = sign_with(provider, "bad-2", now(), body, true);
        let response = post_signed(&client, &url, &headers, body, &[])
            .await
            .expect("sent");
        assert_rejection(response, 401, "invalid webhook signature", "wrong secret").await;
        if provider == "parallel" {
            let headers = sign(provider, "bad-3", now() - 301, body);
            let response = post_signed(&client, &url, &headers, body, &[])
                .await
                .expect("sent");
            assert_rejection(response, 401, "invalid webhook signature", "stale").await;
        }
        let response = client
            .post(&url)
            .header("webhook-id", "bad-4")
            .body(body.to_vec())
            .send()
            .await
            .expect("sent");
        assert_rejection(response, 401, "missing webhook signature", "unsigned").await;
        // Nothing was claimed: the genuine delivery runs now (GitHub's are deduplicated by the
        // body's digest, so for it this is the same key as every forgery above).
        let headers = sign(provider, "bad-1", now(), body);
        let response = post_signed(&client, &url, &headers, body, &[])
            .await
            .expect("sent");
        handled(response, &format!("{provider}: the genuine delivery")).await;
    }
}

#[tokio::test]
async fn an_unknown_type_is_handled_and_a_malformed_body_is_refused_and_released() {
    let Some(worker) = start() else { return };
    let client = client();
    let url = format!("{}/webhooks/parallel", worker.base());
    let body = br#"{"type":"something.new","timestamp":"2026-12-05T00:00:00Z","data":{"x":1}}"#;
    let headers = sign("parallel", "unknown-1", now(), body);
    let response = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    let line = handled(response, "unknown type").await;
    assert_eq!(
        (line.event_type.as_str(), line.known),
        ("something.new", false)
    );
    // Signed but not JSON: 400, and the claim is released, so the sender's fixed retry of the
    // same id is handled.
    let headers = sign("parallel", "malformed-1", now(), b"{not json");
    let response = post_signed(&client, &url, &headers, b"{not json", &[])
        .await
        .expect("sent");
    assert_rejection(response, 400, "malformed webhook body", "malformed").await;
    let body = sample("parallel");
    let headers = sign("parallel", "malformed-1", now(), body);
    let mut answer = None;
    for _ in 0..50 {
        let response = post_signed(&client, &url, &headers, body, &[])
            .await
            .expect("sent");
        if response.status() != 409 {
            answer = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handled(
        answer.expect("released within 1 s"),
        "the retry after a 400",
    )
    .await;
}

/// Writes a request by hand and reads the status line of the answer.
async fn raw_status(port: u16, head: &str, chunks: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connected");
    stream.write_all(head.as_bytes()).await.expect("head sent");
    // The Worker may answer (and close) before the body is all sent.
    let chunk = format!("100000\r\n{}\r\n", " ".repeat(0x10_0000));
    for _ in 0..chunks {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer));
        let n = read.await.expect("an answer in time").expect("read");
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_with_and_without_content_length() {
    let Some(worker) = start() else { return };
    // The default limit is 5 MiB.
    let declared = "POST /webhooks/parallel HTTP/1.1\r\nhost: x\r\nwebhook-id: big-1\r\n\
                    content-length: 6291456\r\n\r\n";
    let status = raw_status(worker.port(), declared, 0).await;
    assert!(
        status.starts_with("HTTP/1.1 413"),
        "content-length: {status}"
    );
    let streamed = "POST /webhooks/parallel HTTP/1.1\r\nhost: x\r\nwebhook-id: big-2\r\n\
                    transfer-encoding: chunked\r\n\r\n";
    let status = raw_status(worker.port(), streamed, 8).await;
    assert!(status.starts_with("HTTP/1.1 413"), "streamed: {status}");
}

/// A handler that runs past its claim's lease (12 s against the default 10 s) keeps the claim:
/// the core renews it from the Worker's event loop, so copies at the other Worker, before and
/// after the lease would have ended, are answered 409, the handler runs once, and a copy after
/// it is a duplicate.
#[tokio::test]
async fn a_handler_slower_than_its_lease_keeps_its_claim() {
    let Some(worker) = Workerd::start_with_handler_delay(Duration::from_secs(12)) else {
        return;
    };
    let client = client();
    let first_url = format!("{}/webhooks/parallel", worker.base());
    let second_url = format!("{}/webhooks/parallel", worker.second_base());
    let body = sample("parallel");
    let headers = sign("parallel", "slow-1", now(), body);
    let first = {
        let (client, url, headers) = (client.clone(), first_url.clone(), headers.clone());
        tokio::spawn(async move { post_signed(&client, &url, &headers, body, &[]).await })
    };
    let started = tokio::time::Instant::now();
    for at in [1, 11] {
        tokio::time::sleep_until(started + Duration::from_secs(at)).await;
        let copy = post_signed(&client, &second_url, &headers, body, &[]);
        let copy = tokio::time::timeout(Duration::from_secs(5), copy)
            .await
            .unwrap_or_else(|_| panic!("the copy at {at} s ran the handler again"))
            .expect("sent");
        assert_eq!(copy.status(), 409, "the copy at {at} s");
    }
    let first = first.await.expect("joined").expect("sent");
    handled(first, "the slow delivery").await;
    let copy = post_signed(&client, &second_url, &headers, body, &[])
        .await
        .expect("sent");
    assert!(
        copy.headers().get("webhook-guard-duplicate").is_some(),
        "the copy after the handler"
    );
}
