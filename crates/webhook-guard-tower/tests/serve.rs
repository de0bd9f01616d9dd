//! `serve`: header time limits, graceful shutdown, and a server that survives running out of
//! file descriptors. Real sockets on loopback; requests written by hand so that a test controls
//! every byte (and the lack of them).

mod common;

use std::{net::SocketAddr, time::Duration};

use axum::{Router, routing::post};
use tokio::{
    io::AsyncReadExt,
    net::{TcpListener, TcpStream},
    sync::oneshot,
};
use webhook_guard_tower::{ServeOptions, serve_with};

/// A router whose handler answers after `delay`.
fn app(delay: Duration) -> Router {
    Router::new().route(
        "/",
        post(move || async move {
            tokio::time::sleep(delay).await;
            "done"
        }),
    )
}

/// Serves `app` until the returned sender fires; the join handle ends when `serve` returns.
async fn start(
    app: Router,
    options: ServeOptions,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_with(
        listener,
        app,
        async move {
            let _ = stopped.await;
        },
        options,
    ));
    (addr, stop, server)
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let options = ServeOptions::default().header_timeout(Duration::from_millis(300));
    let (addr, _stop, _server) = start(app(Duration::ZERO), options).await;
    let mut idle = TcpStream::connect(addr).await.expect("connected");
    let mut buffer = [0_u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buffer))
        .await
        .expect("closed by the server well before 5 s");
    // Closed (0 bytes) or answered 408 and closed: either way not held open.
    let answered = read.map(|n| String::from_utf8_lossy(&buffer[..n]).into_owned());
    assert!(
        matches!(&answered, Ok(text) if text.is_empty() || text.starts_with("HTTP/1.1 408")),
        "{answered:?}"
    );
    assert!(
        common::post_once(addr)
            .await
            .expect("served")
            .contains("200")
    );
}

#[tokio::test]
async fn shutdown_lets_the_requests_in_flight_finish_and_refuses_new_ones() {
    let (addr, stop, server) =
        start(app(Duration::from_millis(400)), ServeOptions::default()).await;
    let in_flight = tokio::spawn(common::post_once(addr));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).expect("stopping");
    let status = in_flight.await.expect("joined").expect("answered");
    assert!(status.contains("200"), "{status}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns once the request is done")
        .expect("joined");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
