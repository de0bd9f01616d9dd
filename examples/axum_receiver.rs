//! An axum server receiving Parallel, Sixtyfour, FullEnrich and ParseFlow webhooks through
//! `webhook-guard-tower`, following the example receiver contract of the README.
//!
//! Run: `cargo run -p webhook-guard-examples --example axum_receiver`
//!
//! Environment: `BIND` (default `127.0.0.1:3000`), `PARALLEL_WEBHOOK_SECRET`,
//! `SIXTYFOUR_WEBHOOK_SECRET`, `FULLENRICH_API_KEY`, `PARSEFLOW_WEBHOOK_SECRET` (demo secrets
//! when unset), `SIXTYFOUR_ALLOW_UNSIGNED=1`, `REDIS_URL` (a Redis store shared by every
//! replica; the in-memory store when unset), `RUST_LOG` (logs go to stderr). Prints one JSON
//! line per processed delivery on stdout, nothing else.

mod common;

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post},
};
use webhook_guard::WebhookEvent;
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

async fn handle<E: WebhookEvent + Clone>(Webhook(delivery): Webhook<E>) -> StatusCode {
    if !common::handler_delay().is_zero() {
        tokio::time::sleep(common::handler_delay()).await;
    }
    println!("{}", common::delivery_line(&delivery.meta));
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let receivers = common::from_env().await?;
    let app = Router::new()
        .route(
            "/webhooks/parallel",
            post(handle::<webhook_guard::parallel::Event>)
                .layer(WebhookGuardLayer::new(receivers.parallel)),
        )
        .route(
            "/webhooks/sixtyfour",
            post(handle::<webhook_guard::sixtyfour::Event>)
                .layer(WebhookGuardLayer::new(receivers.sixtyfour)),
        )
        .route(
            "/webhooks/fullenrich",
            post(handle::<webhook_guard::fullenrich::Event>)
                .layer(WebhookGuardLayer::new(receivers.fullenrich)),
        )
        .route(
            "/webhooks/parseflow",
            post(handle::<webhook_guard::parseflow::Event>)
                .layer(WebhookGuardLayer::new(receivers.parseflow)),
        )
        .route("/healthz", get(|| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind(receivers.bind).await?;
    let addr = listener.local_addr()?;
    eprintln!("listening on {addr}");
    eprintln!(
        "send a signed sample: {}",
        common::try_it(addr, &receivers.parseflow_secret)?
    );
    serve(listener, app).await
}

/// Serves `app` with a time limit on every request's headers: a client that opens a connection
/// and sends nothing, or leaves a keep-alive connection idle, is cut off after 5 s (actix-web's
/// defaults: `client_request_timeout` and `keep_alive` of 5 s). `axum::serve` sets no such
/// limit; hyper's connection builder does. The body's own time limit is the receiver's
/// `body_timeout`.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
) -> Result<(), Box<dyn std::error::Error>> {
    use hyper_util::{
        rt::{TokioExecutor, TokioIo, TokioTimer},
        server::conn::auto::Builder,
        service::TowerToHyperService,
    };
    // HTTP/1 only: the automatic builder first waits, without any time limit, for the bytes
    // that tell HTTP/1 from HTTP/2.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(5));
    loop {
        let (stream, _) = listener.accept().await?;
        let (builder, service) = (builder.clone(), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            if let Err(error) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}
