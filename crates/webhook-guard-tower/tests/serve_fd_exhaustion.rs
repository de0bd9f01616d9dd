//! `serve` when the process runs out of file descriptors. In a file of its own: it lowers its
//! process's limit with `prlimit`, which no other test may share.

mod common;

use std::time::Duration;

use axum::{Router, routing::post};
use tokio::net::{TcpListener, TcpStream};
use webhook_guard_tower::{ServeOptions, serve_with};

/// With no file descriptor left, `accept` fails (`EMFILE`): the loop logs, pauses and goes
/// on, and serves again once descriptors are free. (A `listener.accept().await?` loop ends
/// there for good.) The process's own limit is lowered with `prlimit`, so this test has its
/// own file.
#[tokio::test]
async fn the_server_survives_running_out_of_file_descriptors() {
    let pid = std::process::id().to_string();
    let lowered = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=256:256"])
        .status();
    if !lowered.is_ok_and(|status| status.success()) {
        webhook_guard::testkit::skipped("prlimit could not lower the file-descriptor limit");
        return;
    }
    let options = ServeOptions::default()
        .max_connections(10_000)
        .header_timeout(Duration::from_secs(60));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route("/", post(|| async { "done" }));
    let server = tokio::spawn(serve_with(listener, app, std::future::pending(), options));
    // Idle connections until the process runs out: the server's side fails first or the
    // clients' does; either way the server meets EMFILE.
    let mut idle = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect(addr).await {
            Ok(stream) => idle.push(stream),
            Err(_) => break,
        }
    }
    assert!(idle.len() < 400, "the limit was reached");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!server.is_finished(), "the accept loop ended");
    drop(idle);
    let mut status = String::new();
    for _ in 0..50 {
        if let Ok(line) = common::post_once(addr).await
            && line.contains("200")
        {
            status = line;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(status.contains("200"), "served again after the exhaustion");
    assert!(!server.is_finished());
}
