//! The example receivers under a memory flood, as processes: 100 connections each sending
//! most of a 5 MiB body and never finishing it, then 1,000 connections each sending a
//! 300 kB request head and never ending it. The receiver's peak resident memory stays under
//! 160 MiB, and an authentic delivery sent during each flood is processed.

mod support;

use std::time::{Duration, Instant};

use support::{Running, post, sign, start};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use webhook_guard::fixtures;

const MIB: u64 = 1 << 20;
const PEAK_LIMIT: u64 = 160 * MIB;

/// A connection that announces a 5 MiB body, sends all of it but one byte (as fast as the
/// server reads it), and then waits.
async fn unfinished_body(addr: String, i: usize) -> TcpStream {
    const BODY: usize = 5 << 20;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    let headers = sign("parallel", &format!("flood-{i}"), b"{}");
    let mut head = format!(
        "POST /webhooks/parallel HTTP/1.1\r\nhost: localhost\r\ncontent-length: {BODY}\r\n"
    );
    for (name, value) in headers.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0;
    // The server stops reading (or answers 503 and closes): stop then, or after 5 s.
    let until = Instant::now() + Duration::from_secs(5);
    while sent + chunk.len() < BODY && Instant::now() < until {
        match tokio::time::timeout(Duration::from_millis(500), stream.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            _ => break,
        }
    }
    stream
}

/// A connection that sends a 300 kB request head and never ends it.
async fn unfinished_head(addr: String) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(&addr).await.ok()?;
    let mut head = String::from("POST /webhooks/parallel HTTP/1.1\r\nhost: localhost\r\n");
    let line = format!("x-filler: {}\r\n", "f".repeat(1000));
    while head.len() < 300_000 {
        head.push_str(&line);
    }
    // Closed by the server once past its head limit: fine.
    let _ = tokio::time::timeout(Duration::from_secs(3), stream.write_all(head.as_bytes())).await;
    Some(stream)
}

/// An authentic delivery gets 200 (tried for up to 10 s: the flood may hold it briefly).
async fn an_authentic_delivery_is_processed(running: &Running, id: &str) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let fixture = fixtures::of("parallel").next().expect("fixture");
    let url = format!("http://{}/webhooks/parallel", running.addr);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let headers = sign("parallel", id, fixture.body);
        let mut request = client.post(&url).body(fixture.body.to_vec());
        for (name, value) in headers.iter() {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) if response.status() == 200 => return,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "{id}: never processed: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn floods(name: &str) {
    let running = start(name, false, None);
    let client = reqwest::Client::new();
    let fixture = fixtures::of("parallel").next().expect("fixture");
    let warm = sign("parallel", "warm-up", fixture.body);
    let url = format!("http://{}/webhooks/parallel", running.addr);
    assert_eq!(post(&client, &url, &warm, fixture.body).await.status(), 200);
    let (before, _) = running.rss();

    let bodies: Vec<_> = (0..100)
        .map(|i| tokio::spawn(unfinished_body(running.addr.clone(), i)))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    an_authentic_delivery_is_processed(&running, "during-bodies").await;
    let mut held = Vec::new();
    for body in bodies {
        held.push(body.await.expect("task"));
    }
    let (_, peak_bodies) = running.rss();
    drop(held);

    let heads: Vec<_> = (0..1000)
        .map(|_| tokio::spawn(unfinished_head(running.addr.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    an_authentic_delivery_is_processed(&running, "during-heads").await;
    let mut held = Vec::new();
    for head in heads {
        held.push(head.await.expect("task"));
    }
    let (_, peak) = running.rss();
    drop(held);
    eprintln!(
        "{name}: {} MiB before, peak {} MiB after 100 unfinished 5 MiB bodies, {} MiB after 1,000 unfinished 300 kB heads",
        before / MIB,
        peak_bodies / MIB,
        peak / MIB
    );
    assert!(peak < PEAK_LIMIT, "{name}: peak RSS {} MiB", peak / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_axum_example_bounds_its_memory_under_a_flood() {
    floods("axum_receiver").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_actix_example_bounds_its_memory_under_a_flood() {
    floods("actix_receiver").await;
}
