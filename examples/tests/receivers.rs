//! Runs the example receivers (`axum_receiver`, `actix_receiver`) as processes: each follows
//! the example contract, and both answer one scripted sequence identically.

mod support;

use std::time::Duration;

use support::{Running, post, sign, start};
use webhook_guard::fixtures;

async fn follows_the_contract(name: &str) {
    let running = start(name, false, None);
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{}/healthz", running.addr))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);

    for provider in support::ROUTES {
        let url = format!("http://{}/webhooks/{provider}", running.addr);
        for (i, fixture) in fixtures::of(provider).enumerate() {
            let id = format!("{provider}-{i}");
            let headers = sign(provider, &id, fixture.body);
            let response = post(&client, &url, &headers, fixture.body).await;
            assert_eq!(response.status(), 200, "{provider}/{}", fixture.name);
            let line = running
                .lines
                .recv_timeout(Duration::from_secs(5))
                .expect("one stdout line per processed delivery");
            let line: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            // By the provider's rule: the id signed, or the body's digest (FullEnrich), or
            // the body's `id` (Stripe).
            let expected_id = webhook_guard::catalog::get(provider)
                .expect("a provider of the catalogue")
                .delivery_id
                .read(&headers, fixture.body)
                .expect("an id")
                .to_string();
            assert_eq!(
                line,
                serde_json::json!({
                    "provider": provider,
                    "delivery_id": expected_id,
                    "event_type": fixture.event_type,
                    "known": true,
                })
            );
            // A retry is a duplicate: 200, the header, no line.
            let again = post(&client, &url, &headers, fixture.body).await;
            assert_eq!(again.status(), 200);
            assert!(again.headers().get("webhook-guard-duplicate").is_some());
        }
        // A tampered body: 401, no line.
        let body = fixtures::of(provider).next().expect("fixture").body;
        let headers = sign(provider, "tampered", body);
        let mut tampered = body.to_vec();
        tampered[1] ^= 1;
        assert_eq!(post(&client, &url, &headers, &tampered).await.status(), 401);
    }
    assert!(
        running
            .lines
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "nothing else on stdout"
    );
}

#[tokio::test]
async fn the_axum_example_follows_the_contract() {
    follows_the_contract("axum_receiver").await;
}

#[tokio::test]
async fn the_actix_example_follows_the_contract() {
    follows_the_contract("actix_receiver").await;
}

/// Announces a signed 6 MiB Parallel body and returns the answer's status code, without
/// sending the body.
async fn announce_oversized(addr: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let headers = sign("parallel", "script-big", b"{}");
    let mut head = format!("POST /webhooks/parallel HTTP/1.1\r\nhost: {addr}\r\n");
    for (name, value) in headers.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", 6 * 1024 * 1024));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 512];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "connection closed without an answer");
        answer.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&answer).into_owned();
    line.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// Sends the scripted sequence; returns one line per step (the answer) followed by the
/// example's stdout lines.
async fn script(running: &Running) -> Vec<String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .expect("client");
    let base = format!("http://{}/webhooks", running.addr);
    let mut answers = Vec::new();
    let answer = |step: &str, response: &reqwest::Response| {
        let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
        let retry_after = response.headers().get("retry-after").is_some();
        format!(
            "{step}: {}{}{}",
            response.status().as_u16(),
            if duplicate { " duplicate" } else { "" },
            if retry_after { " retry-after" } else { "" }
        )
    };
    for provider in support::ROUTES {
        let url = format!("{base}/{provider}");
        let body = fixtures::of(provider).next().expect("fixture").body;
        let headers = sign(provider, &format!("script-{provider}"), body);
        let response = post(&client, &url, &headers, body).await;
        answers.push(answer(&format!("{provider} valid"), &response));
        let mut tampered = body.to_vec();
        tampered[body.len() / 2] ^= 1;
        let response = post(&client, &url, &headers, &tampered).await;
        answers.push(answer(&format!("{provider} tampered"), &response));
        let response = post(&client, &url, &headers, body).await;
        answers.push(answer(&format!("{provider} duplicate"), &response));
    }
    // 20 concurrent copies of one new delivery: one is processed; whether each other copy
    // finds it in flight (409) or completed (200 duplicate) depends on timing, so the step
    // records how many were processed and that every other answer is one of those two.
    // A body not sent before: ParseFlow deliveries are deduplicated by their signed body.
    let body = fixtures::of("parseflow")
        .nth(1)
        .expect("a second fixture")
        .body;
    let headers = sign("parseflow", "script-burst", body);
    let url = format!("{base}/parseflow");
    let copies: Vec<_> = (0..20)
        .map(|_| {
            let (client, url, headers) = (client.clone(), url.clone(), headers.clone());
            tokio::spawn(async move { post(&client, &url, &headers, body).await })
        })
        .collect();
    let (mut processed, mut others) = (0, 0);
    for copy in copies {
        let response = copy.await.expect("task");
        let duplicate = response.headers().get("webhook-guard-duplicate").is_some();
        match (response.status().as_u16(), duplicate) {
            (200, false) => processed += 1,
            (200, true) | (409, false) => others += 1,
            other => panic!("unexpected answer to a concurrent copy: {other:?}"),
        }
    }
    answers.push(format!(
        "burst: {processed} processed, {others} duplicate or in flight"
    ));
    // Oversized: 6 MiB announced against the default 5 MiB limit. The answer comes before
    // the body is sent (a client still writing would see its connection closed).
    answers.push(format!(
        "oversized: {}",
        announce_oversized(&running.addr).await
    ));
    // An event type this version does not know.
    let unknown = br#"{"type":"findall.run.paused","timestamp":"2026-01-01T00:00:00Z","data":{}}"#;
    let headers = sign("parallel", "script-unknown", unknown);
    let response = post(&client, &format!("{base}/parallel"), &headers, unknown).await;
    answers.push(answer("unknown type", &response));
    // An unsigned Sixtyfour delivery (its id is the body's task_id).
    let body = fixtures::of("sixtyfour").nth(1).expect("fixture").body;
    let response = client
        .post(format!("{base}/sixtyfour"))
        .header("sixtyfour-event-id", "script-unsigned")
        .body(body.to_vec())
        .send()
        .await
        .expect("sent");
    answers.push(answer("unsigned sixtyfour", &response));

    // The stdout lines of the processed deliveries, in order.
    while let Ok(line) = running.lines.recv_timeout(Duration::from_millis(500)) {
        answers.push(format!("stdout: {line}"));
    }
    answers
}

#[tokio::test]
async fn both_examples_answer_the_same_script_identically() {
    for allow_unsigned in [false, true] {
        let axum = start("axum_receiver", allow_unsigned, None);
        let axum_answers = script(&axum).await;
        let actix = start("actix_receiver", allow_unsigned, None);
        let actix_answers = script(&actix).await;
        assert_eq!(
            axum_answers, actix_answers,
            "SIXTYFOUR_ALLOW_UNSIGNED={allow_unsigned}"
        );
        // The script's expectations, once for both.
        let unsigned = if allow_unsigned { 200 } else { 401 };
        for expected in [
            "parallel valid: 200".to_owned(),
            "parallel tampered: 401".to_owned(),
            "parallel duplicate: 200 duplicate".to_owned(),
            "burst: 1 processed, 19 duplicate or in flight".to_owned(),
            "oversized: 413".to_owned(),
            "unknown type: 200".to_owned(),
            format!("unsigned sixtyfour: {unsigned}"),
            r#"stdout: {"provider":"parallel","delivery_id":"script-unknown","event_type":"findall.run.paused","known":false}"#.to_owned(),
        ] {
            assert!(
                axum_answers.contains(&expected),
                "missing {expected:?} in {axum_answers:#?}"
            );
        }
        let lines = axum_answers
            .iter()
            .filter(|a| a.starts_with("stdout: "))
            .count();
        // A valid delivery per route, the burst, the unknown type, and the unsigned one if
        // allowed.
        let expected = support::ROUTES.len() + 2 + usize::from(allow_unsigned);
        assert_eq!(lines, expected, "{axum_answers:#?}");
    }
}

/// A client that opens a connection and sends nothing is cut off within seconds by both
/// receivers (the axum one sets hyper's header read timeout, 5 s like actix-web's default),
/// so idle connections cannot pile up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_within_seconds() {
    use tokio::io::AsyncReadExt as _;
    for name in ["axum_receiver", "actix_receiver"] {
        let running = start(name, false, None);
        let started = std::time::Instant::now();
        let mut stream = tokio::net::TcpStream::connect(&running.addr)
            .await
            .expect("connect");
        let mut buffer = [0_u8; 256];
        // Closed (0 bytes) or answered (408) and then closed; either way, not left open.
        let read = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            read.is_ok(),
            "{name}: an idle connection was still open after 15 s"
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(4),
            "{name}: closed after {took:?}, before any timeout"
        );
        eprintln!("{name}: idle connection closed after {took:?}");
    }
}
