//! What the example receivers share: configuration from the environment, the providers, and
//! the line printed per processed delivery. See "Example receiver contract" in the README.

#![allow(dead_code)]

use std::{net::SocketAddr, sync::Arc};

use webhook_guard::{
    ConfigError, DeliveryMeta, Provider, Receiver,
    dedup::{DedupStore, MemoryStore, TransactionalStore},
    fullenrich::FullEnrich,
    github::GitHub,
    parallel::Parallel,
    parseflow::ParseFlow,
    receiver::ReceiverBuilder,
    sixtyfour::Sixtyfour,
    stripe::Stripe,
};

/// Demo secrets, used when the environment does not set one (documented in the README).
use webhook_guard::fixtures::demo::{
    FULLENRICH_API_KEY as DEMO_FULLENRICH_API_KEY, GITHUB_SECRET as DEMO_GITHUB_SECRET,
    PARALLEL_SECRET as DEMO_PARALLEL_SECRET, PARSEFLOW_SECRET as DEMO_PARSEFLOW_SECRET,
    SIXTYFOUR_SECRET as DEMO_SIXTYFOUR_SECRET, STRIPE_SECRET as DEMO_STRIPE_SECRET,
};

/// The receivers of the routes, one per built-in provider, sharing one store.
#[derive(Clone)]
pub(crate) struct Receivers {
    pub(crate) bind: SocketAddr,
    pub(crate) parallel: Receiver<Parallel>,
    pub(crate) sixtyfour: Receiver<Sixtyfour>,
    pub(crate) fullenrich: Receiver<FullEnrich>,
    pub(crate) parseflow: Receiver<ParseFlow>,
    pub(crate) github: Receiver<GitHub>,
    pub(crate) stripe: Receiver<Stripe>,
    pub(crate) parseflow_secret: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A `PgStore` on `DATABASE_URL`, its table created if missing; `None` when unset.
pub(crate) async fn postgres_from_env()
-> Result<Option<webhook_guard_postgres::PgStore>, Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return Ok(None);
    };
    // The URL is not repeated in errors: it may carry a password.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(32)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .map_err(|e| format!("DATABASE_URL: {e}"))?;
    let store = webhook_guard_postgres::PgStore::new(pool);
    store
        .migrate()
        .await
        .map_err(|e| format!("DATABASE_URL: {e}"))?;
    Ok(Some(store))
}

/// The dedup store: Redis on `REDIS_URL`, Postgres on `DATABASE_URL` (not both), else in
/// memory. Connected now, so a wrong URL shows at startup.
async fn store_from_env() -> Result<Arc<dyn DedupStore>, Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        if std::env::var_os("DATABASE_URL").is_some() {
            return Err("set REDIS_URL or DATABASE_URL, not both".into());
        }
        let store = webhook_guard_redis::RedisStore::connect(url)
            .await
            .map_err(|e| format!("REDIS_URL: {e}"))?;
        return Ok(Arc::new(store));
    }
    Ok(match postgres_from_env().await? {
        Some(store) => Arc::new(store),
        None => Arc::new(MemoryStore::new()),
    })
}

/// Where the receivers record deliveries.
#[derive(Clone)]
pub(crate) enum Store {
    /// A dedup store (leases).
    Leased(Arc<dyn DedupStore>),
    /// A transactional store: the handler writes in the delivery's transaction.
    Transactional(Arc<dyn TransactionalStore>),
    /// A durable inbox: stored, answered 202, handled by workers.
    Inbox(webhook_guard::inbox::Inbox),
}

impl Store {
    fn configure<P: Provider>(&self, builder: ReceiverBuilder<P>) -> ReceiverBuilder<P> {
        match self {
            Self::Leased(store) => builder.store(Arc::clone(store)),
            Self::Transactional(store) => builder.transactional_store(Arc::clone(store)),
            Self::Inbox(inbox) => builder.inbox(inbox),
        }
    }
}

/// Reads `BIND`, the secrets, `SIXTYFOUR_ALLOW_UNSIGNED`, and `REDIS_URL` or `DATABASE_URL`.
pub(crate) async fn from_env() -> Result<Receivers, Box<dyn std::error::Error>> {
    let store = Store::Leased(store_from_env().await?);
    receivers(&store)
}

/// The receivers on `store`, with `BIND`, the secrets and `SIXTYFOUR_ALLOW_UNSIGNED`
/// from the environment.
pub(crate) fn receivers(store: &Store) -> Result<Receivers, Box<dyn std::error::Error>> {
    let bind = env_or("BIND", "127.0.0.1:3000").parse()?;
    let parseflow_secret = env_or("PARSEFLOW_WEBHOOK_SECRET", DEMO_PARSEFLOW_SECRET);
    let allow_unsigned = std::env::var("SIXTYFOUR_ALLOW_UNSIGNED").is_ok_and(|v| v == "1");
    let sixtyfour = Sixtyfour::builder()
        .secret(env_or("SIXTYFOUR_WEBHOOK_SECRET", DEMO_SIXTYFOUR_SECRET))
        .allow_unsigned(allow_unsigned)
        .build()?;
    Ok(Receivers {
        bind,
        parallel: store
            .configure(Receiver::builder(Parallel::new(env_or(
                "PARALLEL_WEBHOOK_SECRET",
                DEMO_PARALLEL_SECRET,
            ))?))
            .build()?,
        sixtyfour: store.configure(Receiver::builder(sixtyfour)).build()?,
        fullenrich: store
            .configure(Receiver::builder(FullEnrich::new(env_or(
                "FULLENRICH_API_KEY",
                DEMO_FULLENRICH_API_KEY,
            ))?))
            .build()?,
        parseflow: store
            .configure(Receiver::builder(ParseFlow::new(parseflow_secret.clone())?))
            .build()?,
        github: store
            .configure(Receiver::builder(GitHub::new(env_or(
                "GITHUB_WEBHOOK_SECRET",
                DEMO_GITHUB_SECRET,
            ))?))
            .build()?,
        stripe: store
            .configure(Receiver::builder(Stripe::new(env_or(
                "STRIPE_WEBHOOK_SECRET",
                DEMO_STRIPE_SECRET,
            ))?))
            .build()?,
        parseflow_secret,
    })
}

/// The app's table of handled events in the Postgres examples, created at start-up if missing.
/// No unique constraint on the delivery id: once-only must come from the guard (the crash
/// tests count the rows).
pub(crate) const RECEIVED_EVENTS: &str = "CREATE TABLE IF NOT EXISTS received_events (
    provider    text        NOT NULL,
    delivery_id text        NOT NULL,
    event_type  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
)";

/// Inserts the delivery's row into `received_events` on `connection` (the delivery's or the
/// entry's transaction).
pub(crate) async fn record_event(
    connection: &mut sqlx::PgConnection,
    meta: &DeliveryMeta,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO received_events (provider, delivery_id, event_type) VALUES ($1, $2, $3)",
    )
    .bind(&*meta.provider)
    .bind(meta.delivery_id.as_str())
    .bind(&meta.event_type)
    .execute(connection)
    .await
    .map(drop)
}

/// `HANDLER_DELAY_MS` (default 0): how long the handler waits before it processes a delivery,
/// so that a test can kill the process mid-handler.
pub(crate) fn handler_delay() -> std::time::Duration {
    static DELAY: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();
    *DELAY.get_or_init(|| {
        let ms = std::env::var("HANDLER_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok());
        std::time::Duration::from_millis(ms.unwrap_or(0))
    })
}

/// The one stdout line per processed delivery.
pub(crate) fn delivery_line(meta: &DeliveryMeta) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        provider: &'a str,
        delivery_id: &'a str,
        event_type: &'a str,
        known: bool,
    }
    serde_json::to_string(&Line {
        provider: &meta.provider,
        delivery_id: meta.delivery_id.as_str(),
        event_type: &meta.event_type,
        known: meta.known,
    })
    .unwrap_or_default()
}

/// What every example handler does with a delivery: waits `HANDLER_DELAY_MS`, then prints
/// the delivery's line.
pub(crate) async fn handled(meta: &DeliveryMeta) {
    let delay = handler_delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    println!("{}", delivery_line(meta));
}

/// Starts an example receiver: logs to stderr, and the receivers [`from_env`].
pub(crate) async fn start() -> Result<Receivers, Box<dyn std::error::Error>> {
    init_tracing();
    from_env().await
}

/// Logs to stderr (stdout carries one line per delivery), at the level of `RUST_LOG`
/// (default `warn`).
pub(crate) fn init_tracing() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
}

/// Says the receiver is ready: the `listening on` line of the contract, then a command to try.
pub(crate) fn announce(addr: SocketAddr, parseflow_secret: &str) -> Result<(), ConfigError> {
    eprintln!("listening on {addr}");
    eprintln!("send a signed sample: {}", try_it(addr, parseflow_secret)?);
    Ok(())
}

/// The providers the example receivers serve, one route each: `/webhooks/<provider>`.
macro_rules! with_routes {
    ($($then:ident)::+!($($args:tt)*)) => {
        $($then)::+!($($args)*; parallel, sixtyfour, fullenrich, parseflow, github, stripe)
    };
}
pub(crate) use with_routes;

/// The axum router of the example receivers: each provider's route behind its receiver,
/// handled by `$handle::<Event>`, and `GET /healthz`.
#[allow(unused_macros)] // The actix example does not use it.
macro_rules! axum_routes {
    ($receivers:expr, $handle:ident; $($provider:ident),+) => {{
        let receivers = $receivers;
        axum::Router::new()
            $(.route(
                concat!("/webhooks/", stringify!($provider)),
                axum::routing::post($handle::<webhook_guard::$provider::Event>)
                    .layer(webhook_guard_tower::WebhookGuardLayer::new(receivers.$provider)),
            ))+
            .route("/healthz", axum::routing::get(|| async { axum::http::StatusCode::OK }))
    }};
}
#[allow(unused_imports)]
pub(crate) use axum_routes;

/// The actix-web app of the example receivers, as [`axum_routes`] builds the axum one.
#[allow(unused_macros)] // The axum examples do not use it.
macro_rules! actix_routes {
    ($receivers:ident, $handle:ident; $($provider:ident),+) => {{
        actix_web::App::new()
            $(.service(
                actix_web::web::resource(concat!("/webhooks/", stringify!($provider)))
                    .wrap(webhook_guard_actix::WebhookGuard::new($receivers.$provider.clone()))
                    .route(actix_web::web::post().to($handle::<webhook_guard::$provider::Event>)),
            ))+
            .route("/healthz", actix_web::web::get().to(actix_web::HttpResponse::Ok))
    }};
}
#[allow(unused_imports)]
pub(crate) use actix_routes;

/// Binds `bind`, announces the receiver, and serves `app` with `webhook_guard_tower::serve`
/// (request heads within 5 s, idle connections closed after 5 s, at most 1,024 connections,
/// accept errors such as running out of file descriptors survived) until Ctrl-C or SIGTERM,
/// then lets the deliveries in flight finish.
pub(crate) async fn serve_axum_app(
    bind: SocketAddr,
    parseflow_secret: &str,
    app: axum::Router,
) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    announce(listener.local_addr()?, parseflow_secret)?;
    webhook_guard_tower::serve(listener, app, shutdown_signal()).await;
    Ok(())
}

/// Ctrl-C or SIGTERM (what a process manager sends).
pub(crate) async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|error| tracing::warn!(%error, "no SIGTERM handler"))
        .ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => drop(signal.recv().await),
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}

/// A curl command that sends a signed ParseFlow sample to the receiver, for the startup
/// message. ParseFlow signs no timestamp, so the command stays valid; run it twice to see the
/// duplicate answer.
pub(crate) fn try_it(addr: SocketAddr, parseflow_secret: &str) -> Result<String, ConfigError> {
    let body = webhook_guard::fixtures::get("parseflow", "quota.warning")
        .map(|f| f.body)
        .unwrap_or_default();
    let headers =
        webhook_guard::fixtures::sign("parseflow", parseflow_secret, "dlv_try_it_1", 0, body)?;
    let mut command = format!("curl -i -X POST http://{addr}/webhooks/parseflow");
    for (name, value) in headers.iter() {
        command.push_str(&format!(" -H '{name}: {value}'"));
    }
    command.push_str(&format!(
        " --data-binary '{}'",
        String::from_utf8_lossy(body)
    ));
    Ok(command)
}
