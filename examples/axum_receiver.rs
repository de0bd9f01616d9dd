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
    common::serve_axum(listener, app).await
}
