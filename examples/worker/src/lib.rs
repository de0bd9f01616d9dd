//! A Cloudflare Worker that receives Parallel and GitHub webhooks: each delivery verified,
//! deduplicated in a Durable Object and handed to the handler as a typed event, once.
//!
//! Routes: `POST /webhooks/parallel`, `POST /webhooks/github`, `GET /healthz`. Secrets from
//! the Worker's secrets (or variables) `PARALLEL_WEBHOOK_SECRET` and `GITHUB_WEBHOOK_SECRET`;
//! the Durable Object binding `WEBHOOK_DEDUP` of class `DedupObject`; see `wrangler.toml`
//! beside this crate. The handler answers 200 with one JSON line per delivery it processes:
//! `{"provider":"parallel","delivery_id":"...","event_type":"...","known":true}`. The
//! variable `HANDLER_DELAY_MS` (default 0) makes the handler wait that long first, as in the
//! other examples, so a test can hold a delivery in flight past its lease.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use webhook_guard::{Delivery, Receiver, WebhookEvent, github::GitHub, parallel::Parallel};
use webhook_guard_worker::{DurableObjectStore, guard};
use worker::{Context, Env, Method, Request, Response, Result, event};

/// The receivers, built on the first request (a Worker's secrets come with its requests) and
/// kept for the isolate's life, so the receivers' memory of handled deliveries outlives one
/// request.
struct Receivers {
    parallel: Receiver<Parallel>,
    github: Receiver<GitHub>,
    handler_delay: Duration,
}

static RECEIVERS: OnceLock<Receivers> = OnceLock::new();

fn receivers(env: &Env) -> Result<&'static Receivers> {
    if let Some(receivers) = RECEIVERS.get() {
        return Ok(receivers);
    }
    let secret = |name: &str| -> Result<String> {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
    };
    let store = Arc::new(DurableObjectStore::from_env(env, "WEBHOOK_DEDUP")?);
    let built = Receivers {
        parallel: Receiver::builder(
            Parallel::new(secret("PARALLEL_WEBHOOK_SECRET")?).map_err(text)?,
        )
        .store(store.clone())
        .build()
        .map_err(text)?,
        github: Receiver::builder(GitHub::new(secret("GITHUB_WEBHOOK_SECRET")?).map_err(text)?)
            .store(store)
            .build()
            .map_err(text)?,
        handler_delay: Duration::from_millis(
            env.var("HANDLER_DELAY_MS")
                .ok()
                .and_then(|v| v.to_string().parse().ok())
                .unwrap_or(0),
        ),
    };
    Ok(RECEIVERS.get_or_init(|| built))
}

fn text(error: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(error.to_string())
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/healthz") => Response::ok("ok"),
        (Method::Post, "/webhooks/parallel") => {
            let receivers = receivers(&env)?;
            let delay = receivers.handler_delay;
            guard(&receivers.parallel, request, async |d| {
                handle(d, delay).await
            })
            .await
        }
        (Method::Post, "/webhooks/github") => {
            let receivers = receivers(&env)?;
            let delay = receivers.handler_delay;
            guard(&receivers.github, request, async |d| handle(d, delay).await).await
        }
        _ => Response::error("not found", 404),
    }
}

/// The application's handler: here, one JSON line, logged and answered.
async fn handle<E: WebhookEvent>(delivery: Delivery<E>, delay: Duration) -> Result<Response> {
    if !delay.is_zero() {
        worker::Delay::from(delay).await;
    }
    let meta = &delivery.meta;
    let line = serde_json::json!({
        "provider": &*meta.provider,
        "delivery_id": meta.delivery_id.as_str(),
        "event_type": delivery.event.event_type(),
        "known": meta.known,
    });
    worker::console_log!("{line}");
    Response::ok(line.to_string())
}
