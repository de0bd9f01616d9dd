//! A signed 4 MiB body sent as chunked transfer in 1-byte and in 7-byte chunks is read and
//! processed (200) by every adapter, and the server's heap grows by less than the body plus
//! 1 MiB while it does (plus actix-http's own payload queue on actix): the core copies each
//! chunk into one buffer and drops it, whatever the chunking. Before the core owned the body,
//! the 1-byte case held ~157 MiB on both adapters.
//!
//! The heap is counted by `cap`, which sees a `realloc` as the change of one block's size (as
//! the allocator holds it). Its maximum cannot be reset, so each case runs alone in a child
//! process of this test binary: `each_adapter_and_chunking` starts one child per case and
//! reads its result line.

use std::{net::SocketAddr, process::Command, time::Duration};

use cap::Cap;
use tokio::{io::AsyncWriteExt, net::TcpStream};
use webhook_guard_conformance::{Adapter, Options, now, sign, start, status_line};

#[global_allocator]
static ALLOCATOR: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

const BODY: usize = 4 * 1024 * 1024;

/// What webhook-guard may hold beyond the body: its buffer's last growth step (64 KiB), the
/// server's read buffer (hyper's grows to ~400 KiB) and the client's own buffers in this
/// process.
const SLACK: usize = 1024 * 1024;

/// What actix-http itself may queue before the middleware is polled: it stops reading a
/// request's payload once 32,768 *bytes* are queued (`MAX_BUFFER_SIZE`), which in 1-byte
/// chunks is 32,768 `Bytes` handles of 32 bytes in a `VecDeque` that grows by doubling: up to
/// 2 MiB, and the read buffers those handles keep alive. Not the guard's to change.
const ACTIX_QUEUE: usize = 2 * 1024 * 1024;
const CASE: &str = "BODY_CHUNKS_CASE";

/// A known Parallel event padded with JSON white space to exactly `BODY` bytes: parsing it
/// allocates nothing in proportion to its size, so the heap measured is the body's.
fn body() -> Vec<u8> {
    let head = br#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z","data":{"monitor_id":"monitor_1","event":{"event_group_id":"mevtgrp_1"}}"#;
    let mut body = Vec::with_capacity(BODY);
    body.extend_from_slice(head);
    body.resize(BODY - 1, b' ');
    body.push(b'}');
    body
}

/// Sends `body` as chunks of `chunk` bytes, writing many chunk frames at a time from one
/// reused buffer, and returns the status line.
async fn send_chunked(addr: SocketAddr, body: &[u8], chunk: usize) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let headers = sign("parallel", "chunked-1", now(), body);
    let mut head = String::from("POST /webhooks/parallel HTTP/1.1\r\nhost: localhost\r\n");
    for (name, value) in headers.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("transfer-encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut frames = Vec::with_capacity(64 * 1024 + 32);
    for part in body.chunks(chunk) {
        frames.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        frames.extend_from_slice(part);
        frames.extend_from_slice(b"\r\n");
        if frames.len() >= 64 * 1024 {
            stream.write_all(&frames).await.expect("frames");
            frames.clear();
        }
    }
    frames.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&frames).await.expect("last frames");
    status_line(&mut stream, Duration::from_secs(600)).await
}

/// One case, in a child process: prints `peak <bytes>` after the 200.
#[test]
#[ignore = "run by each_adapter_and_chunking, one child process per case"]
fn one_case() {
    let Ok(case) = std::env::var(CASE) else {
        panic!("{CASE} is not set: this test runs as a child of each_adapter_and_chunking");
    };
    let (adapter, chunk) = case.split_once(':').expect("adapter:chunk");
    let adapter = if adapter == "axum" {
        Adapter::Axum
    } else {
        Adapter::Actix
    };
    let chunk: usize = chunk.parse().expect("chunk size");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Four million chunks take tens of seconds in a debug build: this test is about
        // memory, not the read timeout (the conformance suite tests that).
        let options = Options {
            body_timeout: Some(Duration::from_secs(600)),
            ..Options::default()
        };
        let server = start(adapter, options).await;
        let body = body();
        // Let the server settle (actix starts its workers on threads of their own).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let baseline = ALLOCATOR.allocated();
        let status = send_chunked(server.addr, &body, chunk).await;
        let peak = ALLOCATOR.max_allocated().saturating_sub(baseline);
        assert_eq!(status, "HTTP/1.1 200 OK", "{case}");
        assert_eq!(server.runs_of("chunked-1"), 1, "{case}");
        println!("\npeak {peak}");
    });
}

#[test]
fn each_adapter_and_chunking() {
    let exe = std::env::current_exe().expect("the test binary");
    let mut peaks = Vec::new();
    for case in ["axum:1", "axum:7", "actix:1", "actix:7"] {
        let output = Command::new(&exe)
            .args([
                "one_case",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CASE, case)
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{case}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let peak: usize = stdout
            .lines()
            .find_map(|line| Some(line.split_once("peak ")?.1))
            .and_then(|n| n.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{case}: no peak line in {stdout}"));
        eprintln!(
            "{case}-byte chunks: peak heap growth {:.2} MiB for a {:.0} MiB body",
            peak as f64 / 1048576.0,
            BODY as f64 / 1048576.0
        );
        peaks.push((case, peak));
    }
    for (case, peak) in peaks {
        let framework = if case.starts_with("actix") {
            ACTIX_QUEUE
        } else {
            0
        };
        assert!(
            peak < BODY + SLACK + framework,
            "{case}: the heap grew by {peak} bytes for a body of {BODY}"
        );
    }
}
