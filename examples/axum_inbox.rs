//! Acknowledge fast, process later: an axum receiver that stores each verified delivery in a
//! durable inbox (Postgres or Redis) and answers `202` once it is stored, and workers that run
//! the handler from the inbox.
//!
//! Run (with a Postgres you can create tables in, or a Redis):
//! `DATABASE_URL=postgres://user:password@127.0.0.1/app cargo run -p webhook-guard-examples --example axum_inbox`
//! `REDIS_URL=redis://127.0.0.1:6379/ cargo run -p webhook-guard-examples --example axum_inbox`
//!
//! Environment, beyond the receivers' (`BIND`, the secrets, `SIXTYFOUR_ALLOW_UNSIGNED`,
//! `RUST_LOG`): `REDIS_URL` or `DATABASE_URL` (one is required, `REDIS_URL` is used when both
//! are set; at start-up the process waits for the server),
//! `ROLE` = `receiver`, `worker` or `both` (default), `WORKERS` (default 4 handlers per
//! worker process), `HANDLER_DELAY_MS` (a wait after the insert), `HANDLER_FAIL_EVERY=N`
//! (every N-th attempt of this process fails after its insert, rolled back), `MAX_ATTEMPTS`,
//! `RETRY_BASE_MS=B` (the delay before attempt k+1 is B·2^(k−1), at most 64·B, plus a jitter
//! of at most B), `INBOX_LEASE_MS` (the entries' lease, default the library's 30 s: how long
//! a killed worker's entries wait). A worker process serves only `GET /healthz`, on `BIND` if set, else on a
//! free port.
//!
//! On Postgres each handled entry is one row of `received_events (provider, delivery_id,
//! event_type, received_at)`, inserted in the entry's transaction (no unique constraint:
//! once-only comes from the inbox), and one JSON line on stdout printed after the commit. On
//! Redis there is no table: the handler prints the JSON line each time it processes an entry
//! (a worker killed between the line and the done mark leaves the entry to run again).

mod common;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use webhook_guard::{
    Delivery, WebhookEvent,
    inbox::{Attempt, Inbox, RetryPolicy, Verdict},
};
use webhook_guard_postgres::{PgInbox, PgTx};
use webhook_guard_redis::RedisInbox;

/// `name` from the environment as a number, or `default`.
fn env_number(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name}: not a number: {value:?}")),
        Err(_) => Ok(default),
    }
}

/// Attempts this process has made, for `HANDLER_FAIL_EVERY`.
static ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// Where the entries are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Postgres,
    Redis,
}

/// The handler of every provider. On Postgres: one row in the entry's transaction, the JSON
/// line after the commit. On Redis: the JSON line, then done.
async fn handle<E: WebhookEvent>(
    delivery: Delivery<E>,
    attempt: Attempt,
    fail_every: u64,
    backend: Backend,
) -> Verdict {
    let meta = delivery.meta;
    let mut tx = None;
    if backend == Backend::Postgres {
        let mut opened = match PgTx::from_attempt(&attempt) {
            Ok(tx) => tx,
            Err(error) => return Verdict::retry(error),
        };
        let inserted = common::record_event(&mut opened, &meta).await;
        if let Err(error) = inserted {
            return Verdict::retry(error);
        }
        tx = Some(opened);
    }
    let delay = common::handler_delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let n = ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    if fail_every > 0 && n.is_multiple_of(fail_every) {
        // Rolled back with the insert.
        return Verdict::retry(format!(
            "HANDLER_FAIL_EVERY: attempt {n} of this process fails"
        ));
    }
    match tx {
        // Printed once the done mark is committed with the row.
        Some(_) => attempt.on_done(move || println!("{}", common::delivery_line(&meta))),
        None => println!("{}", common::delivery_line(&meta)),
    }
    Verdict::Done
}

/// Connects to `REDIS_URL`, retrying until Redis answers.
async fn connect_redis(url: &str) -> RedisInbox {
    let mut pause = Duration::from_millis(200);
    loop {
        match RedisInbox::connect(url).await {
            Ok(inbox) => return inbox,
            // The URL is not repeated: it may carry a password.
            Err(error) => eprintln!("waiting for Redis (REDIS_URL): {error}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Connects to `DATABASE_URL`, retrying until the database answers, and creates the tables.
async fn connect(url: &str) -> PgInbox {
    let mut pause = Duration::from_millis(200);
    loop {
        let attempt = async {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(common::RECEIVED_EVENTS)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
            let inbox = PgInbox::new(pool);
            inbox.migrate().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(inbox)
        };
        match attempt.await {
            Ok(inbox) => return inbox,
            // The URL is not repeated: it may carry a password.
            Err(error) => eprintln!("waiting for the database (DATABASE_URL): {error}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_tracing();
    let redis_url = std::env::var("REDIS_URL").ok();
    let database_url = std::env::var("DATABASE_URL").ok();
    let role = std::env::var("ROLE").unwrap_or_else(|_| "both".to_owned());
    let (receive, work) = match role.as_str() {
        "receiver" => (true, false),
        "worker" => (false, true),
        "both" => (true, true),
        other => return Err(format!("ROLE: {other:?} is not receiver, worker or both").into()),
    };
    let workers = usize::try_from(env_number("WORKERS", 4)?)?;
    let fail_every = env_number("HANDLER_FAIL_EVERY", 0)?;
    let mut policy = RetryPolicy::default();
    if std::env::var_os("MAX_ATTEMPTS").is_some() || std::env::var_os("RETRY_BASE_MS").is_some() {
        let base = env_number("RETRY_BASE_MS", u64::try_from(policy.base().as_millis())?)?;
        let max = env_number("MAX_ATTEMPTS", u64::from(policy.max_attempts()))?;
        policy = RetryPolicy::new(Duration::from_millis(base), u32::try_from(max)?);
    }
    let lease = match env_number("INBOX_LEASE_MS", 0)? {
        0 => None,
        ms => Some(Duration::from_millis(ms)),
    };
    let (inbox, backend) = match (redis_url, database_url) {
        (Some(url), _) => (Inbox::new(connect_redis(&url).await), Backend::Redis),
        (None, Some(url)) => (Inbox::new(connect(&url).await), Backend::Postgres),
        (None, None) => {
            return Err("REDIS_URL (redis://host:port/) or DATABASE_URL \
                 (postgres://user:password@host/database) is required"
                .into());
        }
    };
    let receivers = common::receivers(&common::Store::Inbox(inbox.clone()))?;
    let worker = work.then(|| {
        macro_rules! routes {
            ($worker:expr; $($provider:ident),+) => {
                $worker$(.route(&receivers.$provider, move |delivery, attempt| {
                    handle::<webhook_guard::$provider::Event>(delivery, attempt, fail_every, backend)
                }))+
            };
        }
        let mut worker = inbox.worker().concurrency(workers).retry(policy);
        if let Some(lease) = lease {
            worker = worker.lease(lease);
        }
        common::with_routes!(routes!(worker))
    });
    let worker = async move {
        if let Some(worker) = worker {
            worker.run_until(common::shutdown_signal()).await;
        }
    };
    if receive {
        let bind = receivers.bind;
        let parseflow_secret = receivers.parseflow_secret.clone();
        // The routes' handler is never called: the inbox answers each delivery.
        async fn stored() -> axum::http::StatusCode {
            axum::http::StatusCode::ACCEPTED
        }
        macro_rules! inbox_routes {
            ($receivers:expr; $($provider:ident),+) => {{
                let receivers = $receivers;
                axum::Router::new()
                    $(.route(
                        concat!("/webhooks/", stringify!($provider)),
                        axum::routing::post(stored)
                            .layer(webhook_guard_tower::WebhookGuardLayer::new(receivers.$provider)),
                    ))+
                    .route("/healthz", axum::routing::get(|| async { axum::http::StatusCode::OK }))
            }};
        }
        let app = common::with_routes!(inbox_routes!(receivers.clone()));
        let serve = common::serve_axum_app(bind, &parseflow_secret, app);
        let (served, ()) = tokio::join!(serve, worker);
        return served;
    }
    // A worker process: `GET /healthz` only, on `BIND` if set, else on a free port.
    let bind = if std::env::var_os("BIND").is_some() {
        receivers.bind
    } else {
        "127.0.0.1:0".parse()?
    };
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(|| async { axum::http::StatusCode::OK }),
    );
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    let serve = async move {
        webhook_guard_tower::serve(listener, app, common::shutdown_signal()).await;
    };
    tokio::join!(serve, worker);
    Ok(())
}
