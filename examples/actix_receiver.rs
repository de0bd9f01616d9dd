//! An actix-web server receiving Parallel, Sixtyfour, FullEnrich and ParseFlow webhooks through
//! `webhook-guard-actix`, following the example receiver contract of the README: it behaves
//! exactly as `axum_receiver` does.
//!
//! Run: `cargo run -p webhook-guard-examples --example actix_receiver`
//!
//! Environment: `BIND` (default `127.0.0.1:3000`), `PARALLEL_WEBHOOK_SECRET`,
//! `SIXTYFOUR_WEBHOOK_SECRET`, `FULLENRICH_API_KEY`, `PARSEFLOW_WEBHOOK_SECRET` (demo secrets
//! when unset), `SIXTYFOUR_ALLOW_UNSIGNED=1`, `REDIS_URL` (a Redis store shared by every
//! replica; the in-memory store when unset), `RUST_LOG` (logs go to stderr). Prints one JSON
//! line per processed delivery on stdout, nothing else.

mod common;

use actix_web::{HttpResponse, HttpServer};
use webhook_guard::WebhookEvent;
use webhook_guard_actix::Webhook;

async fn handle<E: WebhookEvent + 'static>(Webhook(delivery): Webhook<E>) -> HttpResponse {
    common::handled(&delivery.meta).await;
    HttpResponse::Ok().finish()
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receivers = common::start().await?;
    let bind = receivers.bind;
    let parseflow_secret = receivers.parseflow_secret.clone();
    let server =
        HttpServer::new(move || common::with_routes!(common::actix_routes!(receivers, handle)))
            // A client that closes its connection cancels its handler, which releases the claim
            // (actix-web's default would keep running it).
            .h1_allow_half_closed(false)
            // The limits `webhook_guard_tower::serve` sets for axum, written out: a request's
            // head within 5 s, idle keep-alive connections closed after 5 s, at most 1,024
            // connections per worker (past it, new ones wait in the backlog instead of taking
            // file descriptors the store needs), and 30 s for deliveries in flight to finish
            // on shutdown (their claims completed or released). actix-web logs accept errors
            // and goes on by itself.
            .client_request_timeout(std::time::Duration::from_secs(5))
            .keep_alive(std::time::Duration::from_secs(5))
            .max_connections(1024)
            .shutdown_timeout(30)
            .bind(bind)?;
    let addr = server.addrs().first().copied().ok_or("no address bound")?;
    common::announce(addr, &parseflow_secret)?;
    server.run().await?;
    Ok(())
}
