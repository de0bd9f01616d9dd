//! Exactly-once effects: an axum server whose handlers write each event into a Postgres table
//! *in the delivery's own transaction*, through `webhook-guard-postgres`. The claim on the
//! delivery id and the handler's row are committed together when the handler answers 2xx, and
//! rolled back together otherwise (an error, a panic, a dropped request, a crashed process),
//! so each delivery leaves exactly one row, however often it is sent or retried.
//!
//! Run (with a Postgres you can create tables in):
//! `DATABASE_URL=postgres://user:password@127.0.0.1/app cargo run -p webhook-guard-examples --example axum_exactly_once`
//!
//! Environment: `DATABASE_URL` (required), `BIND` (default `127.0.0.1:3000`),
//! `PARALLEL_WEBHOOK_SECRET`, `SIXTYFOUR_WEBHOOK_SECRET`, `FULLENRICH_API_KEY`,
//! `PARSEFLOW_WEBHOOK_SECRET` (demo secrets when unset), `SIXTYFOUR_ALLOW_UNSIGNED=1`,
//! `HANDLER_DELAY_MS` (a wait after the insert, before the answer: for crash tests),
//! `RUST_LOG`. Routes as the example receivers: `POST /webhooks/{parallel,sixtyfour,
//! fullenrich,parseflow}`, `GET /healthz`. The table `received_events` is the record of what
//! was processed (nothing is printed on stdout: a line printed by the handler would not know
//! whether its transaction commits).

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use webhook_guard::WebhookEvent;
use webhook_guard_postgres::PgTx;
use webhook_guard_tower::Webhook;

async fn handle<E: WebhookEvent + Clone>(
    Webhook(delivery): Webhook<E>,
    mut tx: PgTx,
) -> StatusCode {
    let meta = &delivery.meta;
    let inserted = common::record_event(&mut tx, meta).await;
    if let Err(error) = inserted {
        // Rolled back with the claim: the provider's retry is processed.
        tracing::error!(%error, "could not record the event");
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if !common::handler_delay().is_zero() {
        tokio::time::sleep(common::handler_delay()).await;
    }
    // Committed with the claim once this answer is in.
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_tracing();
    let Some(store) = common::postgres_from_env().await? else {
        return Err("DATABASE_URL is required (postgres://user:password@host/database)".into());
    };
    sqlx::query(common::RECEIVED_EVENTS)
        .execute(store.pool())
        .await?;
    let receivers = common::receivers(&common::Store::Transactional(Arc::new(store)))?;
    let bind = receivers.bind;
    let parseflow_secret = receivers.parseflow_secret.clone();
    let app = common::with_routes!(common::axum_routes!(receivers, handle));
    common::serve_axum_app(bind, &parseflow_secret, app).await
}
