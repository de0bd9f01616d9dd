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

use axum::http::StatusCode;
use webhook_guard::WebhookEvent;
use webhook_guard_tower::Webhook;

async fn handle<E: WebhookEvent + Clone>(Webhook(delivery): Webhook<E>) -> StatusCode {
    common::handled(&delivery.meta).await;
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receivers = common::start().await?;
    let bind = receivers.bind;
    let parseflow_secret = receivers.parseflow_secret.clone();
    let app = common::with_routes!(common::axum_routes!(receivers, handle));
    common::serve_axum_app(bind, &parseflow_secret, app).await
}
