//! [`serve`]: an HTTP/1 server loop for a guarded service that keeps its limits under a
//! connection flood (feature `serve`).
//!
//! `axum::serve` and a bare `loop { listener.accept().await? }` have three weaknesses a
//! webhook endpoint on the internet meets: no time limit on a request's headers (a client that
//! connects and sends nothing holds a socket and a task forever), no bound on connections,
//! and an accept loop that ends on the first error, so running out of file descriptors
//! (`EMFILE`) stops the server for good. [`serve`] reads each request's head within
//! [`ServeOptions::header_timeout`] (idle keep-alive connections included), caps the head's
//! size and the number of open connections, logs accept errors and tries again after a pause,
//! and on shutdown stops accepting and lets the requests in flight finish (their claims
//! completed or released) within [`ServeOptions::shutdown_grace`].

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower_service::Service;

/// What [`serve`] runs: a tower service of hyper requests answering `Response<B>`, that never
/// fails (an axum `Router` is one). Implemented for every such service.
pub trait HttpService<B>:
    Service<Request<Incoming>, Response = Response<B>, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + 'static
{
}

impl<S, B> HttpService<B> for S where
    S: Service<
            Request<Incoming>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// The body of an [`HttpService`]'s responses (axum's `Body` is one). Implemented for every
/// such body.
pub trait ResponseBody:
    http_body::Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}

impl<B> ResponseBody for B where
    B: http_body::Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static
{
}

/// The limits of [`serve`]. The defaults suit a webhook endpoint: small requests from a few
/// senders, and whatever else the internet sends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long a request's head may take to arrive, and how long a kept-alive connection may
    /// wait for its next request (default 5 s, as actix-web's `client_request_timeout`).
    pub header_timeout: Duration,
    /// The largest request head, in bytes (default 64 KiB; at least 8 KiB). A larger one is
    /// refused (431) before it is all buffered.
    pub max_head_bytes: usize,
    /// The most connections open at once (default 1,024). Past it, new connections wait in
    /// the kernel's backlog until one closes. Keep it under the process's file-descriptor
    /// limit, with room for the store's connections.
    pub max_connections: usize,
    /// How long to pause accepting after an accept error (default 100 ms): with no file
    /// descriptor left, the next accept would fail at once.
    pub accept_error_pause: Duration,
    /// How long in-flight requests may take to finish after the shutdown signal (default
    /// 30 s); connections still open then are dropped, which releases their claims.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(5),
            max_head_bytes: 64 * 1024,
            max_connections: 1024,
            accept_error_pause: Duration::from_millis(100),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl ServeOptions {
    /// Sets [`header_timeout`](Self::header_timeout).
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Sets [`max_head_bytes`](Self::max_head_bytes) (at least 8 KiB).
    #[must_use]
    pub fn max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes.max(8 * 1024);
        self
    }

    /// Sets [`shutdown_grace`](Self::shutdown_grace).
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// Serves `service` (an axum `Router`, or any tower service of hyper requests) on `listener`
/// with the default [`ServeOptions`] until `shutdown` completes, then lets the requests in
/// flight finish. Never returns an error: accept errors are logged and retried.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use webhook_guard::{Receiver, parallel::Parallel};
/// use webhook_guard_tower::{WebhookGuardLayer, serve};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::new(Parallel::new(std::env::var("PARALLEL_WEBHOOK_SECRET")?)?)?;
/// let app = Router::new().route(
///     "/webhooks/parallel",
///     post(|| async { "ok" }).layer(WebhookGuardLayer::new(receiver)),
/// );
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// let shutdown = async { tokio::signal::ctrl_c().await.unwrap_or_default() };
/// serve(listener, app, shutdown).await;
/// # Ok(()) }
/// ```
pub async fn serve<S, B>(listener: TcpListener, service: S, shutdown: impl Future<Output = ()>)
where
    S: HttpService<B>,
    B: ResponseBody,
{
    serve_with(listener, service, shutdown, ServeOptions::default()).await;
}

/// [`serve`] with other limits.
pub async fn serve_with<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
    options: ServeOptions,
) where
    S: HttpService<B>,
    B: ResponseBody,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_buf_size(options.max_head_bytes.max(8 * 1024));
    let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A place first: past the cap, connections wait in the kernel's backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // EMFILE, ENFILE, ECONNABORTED...: the server goes on; a pause lets
                    // connections close before the next try.
                    tracing::warn!(%error, "accept failed; trying again shortly");
                    drop(permit);
                    tokio::select! {
                        () = tokio::time::sleep(options.accept_error_pause) => {}
                        () = &mut shutdown => break,
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!("requests still running after the shutdown grace; dropping them (their claims are released)");
        }
    }
}
