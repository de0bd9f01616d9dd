//! A guarded axum server on a loopback port, with a handler that records its calls and can be
//! told to fail, panic, sleep or hang through the `x-test` header.

#![allow(dead_code, unreachable_pub)]

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use webhook_guard::{
    Event, Provider, Receiver,
    clock::{Clock, ManualClock, SystemClock},
    dedup::{DedupStore, MemoryStore},
    fixtures,
    fullenrich::FullEnrich,
    parallel::Parallel,
    parseflow::ParseFlow,
    receiver::FailMode,
    scheme::SignedHeaders,
    sixtyfour::Sixtyfour,
};
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

pub use fixtures::demo::{
    FULLENRICH_API_KEY as FULLENRICH_KEY, PARALLEL_SECRET, PARSEFLOW_SECRET, SIXTYFOUR_SECRET,
};

/// One run of the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub provider: String,
    pub delivery_id: String,
    pub event_type: String,
    pub known: bool,
}

#[derive(Clone, Default)]
struct AppState {
    calls: Arc<Mutex<Vec<Call>>>,
}

/// How to build the server.
#[derive(Default)]
pub struct Options {
    pub store: Option<Arc<dyn DedupStore>>,
    pub clock: Option<ManualClock>,
    pub fail_mode: Option<FailMode>,
    pub body_limit: Option<usize>,
}

pub struct Server {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    pub clock: Arc<dyn Clock>,
}

impl Server {
    pub fn url(&self, provider: &str) -> String {
        format!("http://{}/webhooks/{provider}", self.addr)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    pub fn runs_of(&self, delivery_id: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.delivery_id == delivery_id)
            .count()
    }

    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }
}

async fn handle<E: Event + Clone>(
    State(state): State<AppState>,
    headers: HeaderMap,
    Webhook(delivery): Webhook<E>,
) -> Response {
    state.calls.lock().expect("lock").push(Call {
        provider: delivery.meta.provider.to_string(),
        delivery_id: delivery.meta.delivery_id.to_string(),
        event_type: delivery.event.event_type().to_owned(),
        known: delivery.event.is_known(),
    });
    let behaviour = headers
        .get("x-test")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if let Some(status) = behaviour.strip_prefix("status:") {
        let status = status.parse().expect("status");
        return StatusCode::from_u16(status)
            .expect("status")
            .into_response();
    }
    if let Some(ms) = behaviour.strip_prefix("sleep:") {
        tokio::time::sleep(Duration::from_millis(ms.parse().expect("ms"))).await;
    }
    match behaviour.as_str() {
        "panic" => panic!("the handler panicked (on purpose)"),
        "hang" => std::future::pending::<()>().await,
        _ => {}
    }
    StatusCode::OK.into_response()
}

fn guarded<P>(provider: P, options: &Options) -> WebhookGuardLayer<P>
where
    P: Provider,
{
    let mut builder = Receiver::builder(provider);
    if let Some(store) = &options.store {
        builder = builder.store(Arc::clone(store));
    }
    if let Some(clock) = &options.clock {
        builder = builder.clock(clock.clone());
    }
    if let Some(mode) = options.fail_mode {
        builder = builder.fail_mode(mode);
    }
    let layer = WebhookGuardLayer::new(builder.build().expect("receiver"));
    match options.body_limit {
        Some(limit) => layer.body_limit(limit),
        None => layer,
    }
}

/// Starts the server on a free loopback port.
pub async fn start(options: Options) -> Server {
    let state = AppState::default();
    let calls = Arc::clone(&state.calls);
    let sixtyfour = Sixtyfour::builder()
        .secret(SIXTYFOUR_SECRET)
        .allow_unsigned(true)
        .build()
        .expect("config");
    let app = Router::new()
        .route(
            "/webhooks/parallel",
            post(handle::<webhook_guard::parallel::Event>).layer(guarded(
                Parallel::new(PARALLEL_SECRET).expect("config"),
                &options,
            )),
        )
        .route(
            "/webhooks/sixtyfour",
            post(handle::<webhook_guard::sixtyfour::Event>).layer(guarded(sixtyfour, &options)),
        )
        .route(
            "/webhooks/fullenrich",
            post(handle::<webhook_guard::fullenrich::Event>).layer(guarded(
                FullEnrich::new(FULLENRICH_KEY).expect("config"),
                &options,
            )),
        )
        .route(
            "/webhooks/parseflow",
            post(handle::<webhook_guard::parseflow::Event>).layer(guarded(
                ParseFlow::new(PARSEFLOW_SECRET).expect("config"),
                &options,
            )),
        )
        .route("/unguarded", post(handle::<webhook_guard::parallel::Event>))
        .route("/healthz", get(|| async { StatusCode::OK }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let clock: Arc<dyn Clock> = match options.clock {
        Some(clock) => Arc::new(clock),
        None => Arc::new(SystemClock),
    };
    Server { addr, calls, clock }
}

/// The system time, in Unix seconds.
pub fn now() -> i64 {
    SystemClock.unix_seconds()
}

/// A shared store on a given clock, for tests that need both.
pub fn memory_store(clock: &ManualClock) -> Arc<dyn DedupStore> {
    Arc::new(MemoryStore::builder().clock(clock.clone()).build())
}

/// Headers that sign `body` for `provider`, with delivery id `id` at time `now`.
pub fn sign(provider: &str, id: &str, now: i64, body: &[u8]) -> SignedHeaders {
    sign_with(provider, id, now, body, false)
}

/// As [`sign`], with the wrong secret when `wrong_key`.
pub fn sign_with(
    provider: &str,
    id: &str,
    now: i64,
    body: &[u8],
    wrong_key: bool,
) -> SignedHeaders {
    let secret = if wrong_key {
        match provider {
            "parallel" => "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "sixtyfour" => "sk_whsec_wrong",
            "fullenrich" => "another_key",
            _ => "whsec_other",
        }
    } else {
        fixtures::demo::secret(provider).expect("a known provider")
    };
    fixtures::sign(provider, secret, id, now, body).expect("signed")
}

/// The delivery id the server will see for a signed body.
pub fn expected_id(provider: &str, id: &str, body: &[u8]) -> String {
    if provider == "fullenrich" {
        webhook_guard::fullenrich::body_digest(body)
    } else {
        id.to_owned()
    }
}

/// The sample body of a provider's first event type.
pub fn sample(provider: &str) -> &'static [u8] {
    fixtures::of(provider).next().expect("fixture").body
}

/// Posts a body with headers; `extra` adds headers such as `x-test`.
pub async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    headers: &SignedHeaders,
    body: &[u8],
    extra: &[(&str, &str)],
) -> reqwest::Result<reqwest::Response> {
    let mut request = client.post(url).body(body.to_vec());
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}
