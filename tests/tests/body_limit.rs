//! A 64 MiB body gets 413 from every adapter, with and without `Content-Length`, and the
//! server never buffers more than the limit. Alone in its test binary so the allocator's peak
//! is this test's; the adapters run one after the other.

use std::time::Duration;

use peak_alloc::PeakAlloc;
use tokio::{io::AsyncWriteExt, net::TcpStream};
use webhook_guard_conformance::{Adapter, Options, now, sign, start, status_line};

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const BODY: usize = 64 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// Sends a 64 MiB body from one reused 64 KiB buffer and returns the status line.
async fn send_huge(addr: std::net::SocketAddr, chunked: bool) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let headers = sign("parallel", "huge-1", now(), b"{}");
    let mut head = String::from("POST /webhooks/parallel HTTP/1.1\r\nhost: localhost\r\n");
    for (name, value) in headers.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
    } else {
        head.push_str(&format!("content-length: {BODY}\r\n\r\n"));
    }
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b' '; CHUNK];
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        for _ in 0..BODY / CHUNK {
            if chunked {
                let size = format!("{CHUNK:x}\r\n");
                if writer.write_all(size.as_bytes()).await.is_err() {
                    return;
                }
            }
            if writer.write_all(&chunk).await.is_err() {
                return; // the server answered and closed: expected
            }
            if chunked && writer.write_all(b"\r\n").await.is_err() {
                return;
            }
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n").await;
        }
    });
    let line = status_line(&mut reader, Duration::from_secs(30)).await;
    writing.abort();
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_body_gets_413_without_being_buffered() {
    for adapter in [Adapter::Axum, Adapter::Actix] {
        let server = start(adapter, Options::default()).await;
        let baseline = ALLOCATOR.current_usage();
        ALLOCATOR.reset_peak_usage();

        let with_length = send_huge(server.addr, false).await;
        assert_eq!(with_length, "HTTP/1.1 413 Payload Too Large", "{adapter}");
        let streamed = send_huge(server.addr, true).await;
        assert_eq!(streamed, "HTTP/1.1 413 Payload Too Large", "{adapter}");

        let peak = ALLOCATOR.peak_usage().saturating_sub(baseline);
        eprintln!(
            "{adapter}: peak heap growth while refusing two 64 MiB bodies: {:.1} MiB (limit 5 MiB)",
            peak as f64 / 1048576.0
        );
        // The streamed body is read up to the 5 MiB limit; nothing close to 64 MiB is held.
        assert!(
            peak < 16 * 1024 * 1024,
            "{adapter}: peak grew by {peak} bytes"
        );
        assert!(server.calls().is_empty());
    }
}
