//! The conformance harness: the same guarded receiver — one route per provider of the
//! catalogue, a test handler, a route without the guard — served by each adapter on a loopback port, and the client
//! helpers the cases use. The cases are in `tests/cases/`; each runs once per
//! [`Adapter`].
//!
//! The test handler records each run and obeys the `x-test` request header: `status:N`
//! answers N, `sleep:MS` waits first, `block:MS` blocks its thread first, `panic` panics,
//! `hang` never answers.

#![forbid(unsafe_code)]

mod actix;
mod axum;
pub mod overload;
pub mod stores;
pub mod workerd;

use std::{
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use webhook_guard::{
    Provider, Receiver, WebhookEvent, catalog,
    clock::{Clock, ManualClock, SystemClock},
    dedup::{DedupStore, MemoryStore},
    fixtures,
    provider::AnyProvider,
    receiver::FailMode,
    scheme::SignedHeaders,
};

pub use fixtures::demo::PARALLEL_SECRET;

/// Every provider of the catalogue, as route names.
pub fn providers() -> impl Iterator<Item = &'static str> {
    catalog::names()
}

/// An adapter under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// `webhook-guard-tower` in axum.
    Axum,
    /// `webhook-guard-actix` in actix-web.
    Actix,
}

impl fmt::Display for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Axum => "axum",
            Self::Actix => "actix",
        })
    }
}

/// One run of the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The provider's name.
    pub provider: String,
    /// The delivery id.
    pub delivery_id: String,
    /// The event type.
    pub event_type: String,
    /// `false` for an unknown event type.
    pub known: bool,
}

/// The handler runs, shared with the server.
pub type Calls = Arc<Mutex<Vec<Call>>>;

/// How to build a server.
#[derive(Default)]
#[allow(missing_debug_implementations)]
pub struct Options {
    /// The store of every route (default: one `MemoryStore` per route).
    pub store: Option<Arc<dyn DedupStore>>,
    /// The clock of every route (default: the system clock).
    pub clock: Option<ManualClock>,
    /// Fail-closed (default) or fail-open.
    pub fail_mode: Option<FailMode>,
    /// The body limit (default 5 MiB).
    pub body_limit: Option<usize>,
    /// The claims' lease (default 60 s).
    pub lease: Option<Duration>,
    /// The body read timeout (default 30 s).
    pub body_timeout: Option<Duration>,
    /// Development mode: rejection bodies explain themselves (default off).
    pub explain_rejections: bool,
    /// Statuses configured for kinds of rejection.
    pub rejection_statuses: Vec<(webhook_guard::receiver::Outcome, http::StatusCode)>,
    /// Inbox mode, on this inbox: the routes' handler is never called.
    pub inbox: Option<webhook_guard::inbox::Inbox>,
}

/// A running server; an actix server stops when this is dropped.
#[allow(missing_debug_implementations)]
pub struct Server {
    /// Its loopback address.
    pub addr: SocketAddr,
    calls: Calls,
    clock: Arc<dyn Clock>,
    _stop: Option<Box<dyn Send + Sync>>,
    /// What keeps the default store's server running (see [`use_default_store`]).
    _store: Option<Box<dyn Send + Sync>>,
}

/// A store for a server, and what must live as long as the server (the store's own server).
pub type DefaultStore = (Arc<dyn DedupStore>, Box<dyn Send + Sync>);

/// Makes a store, or `None` when it cannot (the case then runs on the in-memory store).
pub type StoreFactory =
    fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<DefaultStore>> + Send>>;

static DEFAULT_STORE: std::sync::OnceLock<StoreFactory> = std::sync::OnceLock::new();

/// Runs every case of this test binary on the stores `factory` makes: each server whose
/// [`Options`] name neither a store nor a clock (a manual clock drives an in-memory store)
/// gets a fresh one. For running the whole suite on another store (`tests/postgres.rs`).
pub fn use_default_store(factory: StoreFactory) {
    let _ = DEFAULT_STORE.set(factory);
}

impl Server {
    /// The route of `provider`.
    #[must_use]
    pub fn url(&self, provider: &str) -> String {
        format!("http://{}/webhooks/{provider}", self.addr)
    }

    /// Every handler run so far.
    #[must_use]
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    /// How many times the handler ran for `delivery_id`.
    #[must_use]
    pub fn runs_of(&self, delivery_id: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.delivery_id == delivery_id)
            .count()
    }

    /// The server's time, in Unix seconds.
    #[must_use]
    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }
}

/// The receivers of the routes: one per provider of the catalogue, by name.
pub(crate) type Receivers = Vec<(&'static str, Receiver<Arc<dyn AnyProvider>>)>;

fn receiver<P: Provider>(provider: P, options: &Options) -> Receiver<P> {
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
    if let Some(lease) = options.lease {
        builder = builder.lease(lease);
    }
    if let Some(limit) = options.body_limit {
        builder = builder.body_limit(limit);
    }
    if let Some(timeout) = options.body_timeout {
        builder = builder.body_timeout(timeout);
    }
    for (outcome, status) in &options.rejection_statuses {
        builder = builder.rejection_status(*outcome, *status);
    }
    if let Some(inbox) = &options.inbox {
        builder = builder.inbox(inbox);
    }
    builder
        .explain_rejections(options.explain_rejections)
        .build()
        .expect("receiver")
}

/// A receiver for every provider of the catalogue, on its demo secret. Unsigned deliveries
/// are allowed where a provider has that option (Sixtyfour); a present signature is checked.
fn receivers(options: &Options) -> Receivers {
    catalog::all()
        .iter()
        .map(|entry| {
            let config = catalog::Config::new(entry.secret.demo);
            let provider = (entry.build)(&config.clone().allow_unsigned(true))
                .or_else(|_| (entry.build)(&config))
                .expect("config");
            (entry.name, receiver(provider, options))
        })
        .collect()
}

/// The receiver of `provider` as the servers build it with `options` (its demo secret),
/// for a worker's route beside a server in inbox mode.
///
/// # Panics
/// For a provider not in the catalogue.
#[must_use]
pub fn receiver_for(provider: &str, options: &Options) -> Receiver<Arc<dyn AnyProvider>> {
    receivers(options)
        .into_iter()
        .find(|(name, _)| *name == provider)
        .map(|(_, receiver)| receiver)
        .expect("a provider of the catalogue")
}

/// What the test handler was asked to do.
pub(crate) enum Behaviour {
    Answer(u16),
    Panic,
    Hang,
}

/// Records the run, then reads the `x-test` header (after its `sleep:`).
pub(crate) async fn run_handler<E: WebhookEvent>(
    calls: &Calls,
    meta: &webhook_guard::DeliveryMeta,
    event: &E,
    x_test: Option<&str>,
) -> Behaviour {
    calls.lock().expect("lock").push(Call {
        provider: meta.provider.to_string(),
        delivery_id: meta.delivery_id.to_string(),
        event_type: event.event_type().to_owned(),
        known: event.is_known(),
    });
    let x_test = x_test.unwrap_or("");
    if let Some(status) = x_test.strip_prefix("status:") {
        return Behaviour::Answer(status.parse().expect("status"));
    }
    if let Some(ms) = x_test.strip_prefix("sleep:") {
        tokio::time::sleep(Duration::from_millis(ms.parse().expect("ms"))).await;
    }
    if let Some(ms) = x_test.strip_prefix("block:") {
        // A synchronous handler: its thread is blocked, the future never yields.
        std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
    }
    match x_test {
        "panic" => Behaviour::Panic,
        "hang" => Behaviour::Hang,
        _ => Behaviour::Answer(200),
    }
}

/// Starts `adapter`'s server on a free loopback port. Call it inside a Tokio runtime.
pub async fn start(adapter: Adapter, mut options: Options) -> Server {
    let mut store_guard = None;
    if options.store.is_none()
        && options.clock.is_none()
        && let Some(factory) = DEFAULT_STORE.get()
        && let Some((store, guard)) = factory().await
    {
        options.store = Some(store);
        store_guard = Some(guard);
    }
    let receivers = receivers(&options);
    let calls = Calls::default();
    let (addr, stop) = match adapter {
        Adapter::Axum => (axum::serve(receivers, Arc::clone(&calls)).await, None),
        Adapter::Actix => {
            let (addr, stop) = actix::serve(receivers, Arc::clone(&calls));
            (addr, Some(stop))
        }
    };
    let clock: Arc<dyn Clock> = match options.clock {
        Some(clock) => Arc::new(clock),
        None => Arc::new(SystemClock),
    };
    Server {
        addr,
        calls,
        clock,
        _stop: stop,
        _store: store_guard,
    }
}

/// The system time, in Unix seconds.
#[must_use]
pub fn now() -> i64 {
    SystemClock.unix_seconds()
}

/// A `MemoryStore` on `clock`.
#[must_use]
pub fn memory_store(clock: &ManualClock) -> Arc<dyn DedupStore> {
    Arc::new(MemoryStore::builder().clock(clock.clone()).build())
}

/// Headers that sign `body` for `provider` with its demo secret, delivery id `id`, time `now`.
#[must_use]
pub fn sign(provider: &str, id: &str, now: i64, body: &[u8]) -> SignedHeaders {
    sign_with(provider, id, now, body, false)
}

/// As [`sign`], with a wrong secret when `wrong_key`.
#[must_use]
pub fn sign_with(
    provider: &str,
    id: &str,
    now: i64,
    body: &[u8],
    wrong_key: bool,
) -> SignedHeaders {
    let demo = fixtures::demo::secret(provider).expect("a known provider");
    let secret = if wrong_key {
        wrong_secret(demo)
    } else {
        demo.to_owned()
    };
    fixtures::sign(provider, &secret, id, now, body).expect("signed")
}

/// A secret of the same form as `secret` (same prefix, same alphabet, same length) that is
/// not it: its last character changed.
#[must_use]
pub fn wrong_secret(secret: &str) -> String {
    let mut wrong = secret.to_owned();
    let last = wrong.pop().expect("a secret");
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    wrong
}

/// The delivery id the server sees for a body signed with delivery id `id`, by the provider's
/// delivery-id rule (FullEnrich's is the body's digest, Stripe's the body's `id`).
#[must_use]
pub fn expected_id(provider: &str, id: &str, body: &[u8]) -> String {
    let entry = catalog::get(provider).expect("a known provider");
    entry
        .delivery_id
        .read(&sign(provider, id, now(), body), body)
        .expect("an id")
        .to_string()
}

/// The sample body of a provider's first event type.
#[must_use]
pub fn sample(provider: &str) -> &'static [u8] {
    fixtures::of(provider).next().expect("fixture").body
}

/// `body` with its middle byte changed.
#[must_use]
pub fn flip_middle_byte(body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    let middle = body.len() / 2;
    body[middle] ^= 0x01;
    body
}

/// Posts `body` with `headers`; `extra` adds headers such as `x-test`.
///
/// # Errors
/// The client's.
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

/// Checks a rejection's status, header and text, which every adapter (the Worker too) answers
/// alike; `what` names the case in a failure.
///
/// # Panics
/// When the response differs.
pub async fn assert_rejection(response: reqwest::Response, status: u16, text: &str, what: &str) {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"text/plain; charset=utf-8"[..]),
        "{what}"
    );
    assert_eq!(response.text().await.expect("body"), text, "{what}");
}

// The workspace README's examples run as doctests here, where the core and both adapters are
// dependencies.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

/// Reads from `reader` until the end of the status line, within `within`, and returns it
/// (`HTTP/1.1 200 OK`). For cases that write a request by hand.
///
/// # Panics
/// If no whole line arrives in time or the connection closes first.
pub async fn status_line<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut R,
    within: Duration,
) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 512];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(within, reader.read(&mut buffer))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "connection closed without an answer");
        answer.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&answer);
    line.lines().next().unwrap_or_default().to_owned()
}

/// A handler that runs three times its claim's lease keeps the claim: every retry while it runs
/// is answered 409, the handler runs once, and the retry after it is a duplicate. `options`
/// gives the store; the lease is set to 1 s here.
///
/// # Panics
/// When an answer is not as above.
pub async fn a_slow_handler_keeps_its_claim(adapter: Adapter, options: Options) {
    let lease = Duration::from_secs(1);
    let server = start(
        adapter,
        Options {
            lease: Some(lease),
            ..options
        },
    )
    .await;
    let client = client();
    let body = sample("parallel");
    let headers = sign("parallel", "slow-1", server.now(), body);
    let url = server.url("parallel");
    let slow = {
        let (client, url, headers) = (client.clone(), url.clone(), headers.clone());
        tokio::spawn(async move {
            post_signed(&client, &url, &headers, body, &[("x-test", "sleep:3000")]).await
        })
    };
    while server.runs_of("slow-1") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut retries = 0;
    while !slow.is_finished() {
        let retry = post_signed(&client, &url, &headers, body, &[])
            .await
            .expect("sent");
        if slow.is_finished() {
            break; // the answer may have come after the slow handler finished
        }
        assert_eq!(
            retry.status(),
            409,
            "{adapter}: a retry while the handler runs"
        );
        retries += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        retries >= 4,
        "{adapter}: only {retries} retries during the slow handler"
    );
    let slow = slow.await.expect("task").expect("sent");
    assert_eq!(slow.status(), 200);
    let after = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(after.status(), 200);
    assert!(
        after
            .headers()
            .contains_key(webhook_guard::receiver::DUPLICATE_HEADER)
    );
    assert_eq!(
        server.runs_of("slow-1"),
        1,
        "{adapter}: the handler ran once"
    );
}

/// Replays of a captured ParseFlow delivery under fresh ids are duplicates (its dedup key is
/// its signed body), and one under the id of a real delivery to come does not pre-claim it;
/// an unsigned Sixtyfour delivery (allowed on this server) does not pre-claim the signed one
/// with the same ids. `options` gives the store.
///
/// # Panics
/// When an answer is not as above.
pub async fn replays_and_pre_claims_change_nothing(adapter: Adapter, options: Options) {
    let server = start(adapter, options).await;
    let client = client();
    let url = server.url("parseflow");
    let mut bodies = fixtures::of("parseflow").map(|f| f.body);
    let (captured, real) = (
        bodies.next().expect("fixture"),
        bodies.next().expect("fixture"),
    );
    let first = post_signed(
        &client,
        &url,
        &sign("parseflow", "pre-0", server.now(), captured),
        captured,
        &[],
    )
    .await
    .expect("sent");
    assert_eq!(first.status(), 200);
    for i in 1..=200 {
        let headers = sign("parseflow", &format!("pre-{i}"), server.now(), captured);
        let replay = post_signed(&client, &url, &headers, captured, &[])
            .await
            .expect("sent");
        assert_eq!(replay.status(), 200, "{adapter}: replay {i}");
        assert!(
            replay
                .headers()
                .contains_key(webhook_guard::receiver::DUPLICATE_HEADER),
            "{adapter}: replay {i} was processed"
        );
    }
    // "pre-201" was used by a replay above; the real delivery with that id is processed.
    let _ = post_signed(
        &client,
        &url,
        &sign("parseflow", "pre-201", server.now(), captured),
        captured,
        &[],
    )
    .await;
    let genuine = post_signed(
        &client,
        &url,
        &sign("parseflow", "pre-201", server.now(), real),
        real,
        &[],
    )
    .await
    .expect("sent");
    assert_eq!(genuine.status(), 200);
    assert!(
        !genuine
            .headers()
            .contains_key(webhook_guard::receiver::DUPLICATE_HEADER)
    );
    assert_eq!(server.runs_of("pre-0"), 1);
    assert_eq!(
        server.runs_of("pre-201"),
        1,
        "{adapter}: the real delivery ran"
    );
    assert_eq!(
        server
            .calls()
            .iter()
            .filter(|c| c.provider == "parseflow")
            .count(),
        2
    );

    let url = server.url("sixtyfour");
    let body = sample("sixtyfour");
    let signed = sign("sixtyfour", "pre-sixtyfour", server.now(), body);
    let mut unsigned = client.post(&url).body(body.to_vec());
    for (name, value) in signed.iter() {
        if !name.eq_ignore_ascii_case("sixtyfour-signature") {
            unsigned = unsigned.header(name, value);
        }
    }
    assert_eq!(
        unsigned.send().await.expect("sent").status(),
        200,
        "{adapter}: unsigned, allowed"
    );
    let genuine = post_signed(&client, &url, &signed, body, &[])
        .await
        .expect("sent");
    assert_eq!(genuine.status(), 200);
    assert!(
        !genuine
            .headers()
            .contains_key(webhook_guard::receiver::DUPLICATE_HEADER),
        "{adapter}: the signed delivery was taken for the unsigned one's duplicate"
    );
    assert_eq!(
        server.runs_of("pre-sixtyfour"),
        2,
        "{adapter}: unsigned and signed, once each"
    );
}

/// A client with a pool large enough for the concurrent cases.
#[must_use]
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}

/// Deliveries sent while `store`'s server goes down and comes back (`outage`, run once a
/// quarter of them are done): eight "provider" workers each retry a delivery until it gets a
/// 2xx, as senders do. Every answer during the outage is 503 with `retry-after`
/// (fail-closed) or 409, and in the end each of the 200 deliveries ran the handler exactly
/// once. `lease` is short: a claim whose answer was lost in the crash blocks its retries for
/// that long.
pub async fn every_delivery_runs_once_across_an_outage(
    adapter: Adapter,
    store: Arc<dyn DedupStore>,
    lease: Duration,
    outage: impl AsyncFnOnce(),
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const DELIVERIES: usize = 200;
    let options = Options {
        store: Some(store),
        lease: Some(lease),
        ..Options::default()
    };
    let server = Arc::new(start(adapter, options).await);
    let client = client();
    let body = sample("parallel");
    let done = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let (server, client) = (Arc::clone(&server), client.clone());
            let (done, unavailable) = (Arc::clone(&done), Arc::clone(&unavailable));
            tokio::spawn(async move {
                for i in (worker..DELIVERIES).step_by(8) {
                    let id = format!("crash-{i}");
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        assert!(tries < 400, "{id}: never accepted");
                        let headers = sign("parallel", &id, server.now(), body);
                        let response =
                            post_signed(&client, &server.url("parallel"), &headers, body, &[])
                                .await
                                .expect("the server answers");
                        match response.status().as_u16() {
                            200 => break,
                            503 => {
                                assert!(response.headers().get("retry-after").is_some());
                                unavailable.fetch_add(1, Ordering::SeqCst);
                            }
                            409 => {}
                            other => panic!("{id}: unexpected status {other}"),
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < DELIVERIES / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    outage().await;
    for worker in workers {
        worker.await.expect("worker");
    }
    assert!(
        unavailable.load(Ordering::SeqCst) > 0,
        "no delivery met the outage"
    );
    for i in 0..DELIVERIES {
        assert_eq!(server.runs_of(&format!("crash-{i}")), 1, "crash-{i}");
    }
    assert_eq!(server.calls().len(), DELIVERIES);
    eprintln!(
        "{adapter}: {DELIVERIES} deliveries, {} answers 503 during the outage, every one run once",
        unavailable.load(Ordering::SeqCst)
    );
}

/// The store's server paused (`pause`) past the store's time limit during a claim: 503. The
/// server applies the claim once it goes on (`resume`), and the receiver releases it with
/// its token in the background, so a retry 2 s later is processed, not refused as in
/// flight for the whole lease (10 s). `store` must have a time limit well under 500 ms.
pub async fn a_store_pause_leaves_no_orphan(
    adapter: Adapter,
    store: Arc<dyn DedupStore>,
    pause: impl FnOnce(),
    resume: impl FnOnce(),
) {
    let options = Options {
        store: Some(store),
        ..Options::default()
    };
    let server = start(adapter, options).await;
    let client = client();
    let body = sample("parallel");
    let url = server.url("parallel");
    let headers = sign("parallel", "paused-1", server.now(), body);
    pause();
    let during = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(during.status(), 503, "{adapter}: the claim timed out");
    tokio::time::sleep(Duration::from_millis(500)).await;
    resume();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let headers = sign("parallel", "paused-1", server.now(), body);
    let retry = post_signed(&client, &url, &headers, body, &[])
        .await
        .expect("sent");
    assert_eq!(
        retry.status(),
        200,
        "{adapter}: the retry is processed, not 409"
    );
    assert!(
        !retry
            .headers()
            .contains_key(webhook_guard::receiver::DUPLICATE_HEADER)
    );
    assert_eq!(server.runs_of("paused-1"), 1);
}
