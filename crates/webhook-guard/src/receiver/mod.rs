//! The flow of one delivery, owned by the [`Receiver`] from the first body byte to the
//! handler's answer.
//!
//! ```text
//! body buffer         413 from Content-Length at once, 413 past the limit while streaming,
//!                     408 past the read timeout; one contiguous buffer
//! verify(headers, raw body, now)    401 on failure; nothing stored
//! delivery id, scoped as provider:endpoint:id
//! store.claim(key)                  Claimed | Done -> 200 duplicate | InFlight -> 409
//! parse into the provider's event   unknown type -> Unknown variant; not JSON -> 400 (claim released)
//! the handler runs; its status finishes the claim: 2xx completes, anything else, a panic or a
//! dropped request releases
//! ```
//!
//! With a [`TransactionalStore`]
//! ([`ReceiverBuilder::transactional_store`]) the claim is a database transaction instead of a
//! lease: the handler writes in it, a 2xx commits it, anything else rolls it back, and a
//! failed commit is answered 503 (see [`dedup::transaction`](crate::dedup::transaction)).
//!
//! Every rejection and every outcome is logged and counted here, once. A framework adapter
//! (`webhook-guard-tower`, `webhook-guard-actix`) only translates: it hands the core its
//! request's headers and body through [`adapter::read_body`](crate::adapter::read_body) and
//! [`adapter::accept`](crate::adapter::accept), turns
//! a [`Rejection`] into its framework's response, runs the handler with the [`Delivery`], and
//! finishes the claim with the handler's status.
//!
//! ```
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # block_on(async {
//! use webhook_guard::{Receiver, adapter, clock::ManualClock, parallel::{Event, Parallel}};
//! use webhook_guard::receiver::RejectionKind;
//!
//! let parallel = Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = String::from(r#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z",
//!   "data":{"monitor_id":"monitor_1","event":{"event_group_id":"mevtgrp_1"}}}"#);
//! let headers = parallel.sign_headers("whevent_1", 1_761_577_000, body.as_bytes())?.to_header_map();
//! let receiver = Receiver::builder(parallel).clock(ManualClock::at_unix_seconds(1_761_577_000)).build()?;
//! let no_runtime = adapter::Runtime { spawn: drop, sleep: |_| Box::pin(std::future::pending()) };
//!
//! let no_timer = |_| std::future::pending::<()>();
//! let read = adapter::read_body(&receiver, &headers, body, no_timer).await?;
//! let accepted = adapter::accept(&receiver, &headers, read.clone(), no_runtime).await?;
//! assert!(matches!(accepted.delivery.event, Event::MonitorEventDetected(_)));
//! accepted.claim.finish(http::StatusCode::OK).await?; // the handler answered 200
//!
//! let again = adapter::accept(&receiver, &headers, read, no_runtime).await;
//! let rejection = again.expect_err("a duplicate");
//! assert_eq!(rejection.kind(), &RejectionKind::Duplicate);
//! assert_eq!(rejection.status(), http::StatusCode::OK);
//! assert_eq!(rejection.headers()["webhook-guard-duplicate"], "true");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub(crate) mod body;
pub(crate) mod claim;
pub mod metrics;
mod missing;
mod rejection;

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use http::HeaderValue;

pub use missing::MissingDelivery;
pub use rejection::{DUPLICATE_HEADER, Rejection, RejectionKind};

use self::{
    body::BodyBuffer,
    claim::{ClaimGuard, Held, Runtime},
    metrics::{Labels, StoreCall},
};
use crate::{
    Authenticity, ConfigError, DeliveryId, Provider, WebhookEvent,
    clock::{Clock, SystemClock},
    dedup::{
        Begin, Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError, TransactionalStore,
    },
    headers::Headers,
};

/// The `content-type` of every rejection's answer.
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// The default body limit: 5 MiB. A larger body gets 413.
pub const DEFAULT_BODY_LIMIT: usize = 5 * 1024 * 1024;
/// The default time for a whole body to arrive once the headers are in: 30 s. A slower
/// sender gets 408.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claim protects a delivery in flight without being renewed: 10 s.
///
/// While the handler runs, the claim is renewed every third of the lease, so a slow handler
/// keeps it however long it takes. When the process dies, the renewals stop and the claim is
/// free again at most one lease after the last one. The lease must end well before each
/// provider's last retry, which comes (after the first attempt that failed by the crash):
///
/// | provider | retries after a failed attempt | last retry | a crashed claim is free after ≤ 10 s, so the first retry processed is |
/// |---|---|---|---|
/// | Parallel | 5 s, then doubling, for 48 h | ~48 h | the one at +15 s (5 + 10) |
/// | Sixtyfour | 1, 2, 4, 8, 16 s (5 retries) | +31 s | the one at +15 s (1 + 2 + 4 + 8) |
/// | FullEnrich | every minute, 5 times | +5 min | the one at +60 s |
/// | ParseFlow | 30 s, 2 min, 15 min, 1 h, 4 h | +5 h 17 min 30 s | the one at +30 s |
///
/// Sixtyfour's schedule is the tight one: with a lease over 31 s, every retry of a delivery
/// whose handler crashed would find its claim still held (409), and the delivery would be lost.
/// The renewal interval (3.3 s) leaves a store two missed renewals before a live claim could
/// lapse.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);
/// How long a processed delivery is remembered (72 h: Parallel retries for 48 h).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(72 * 3600);
/// The `retry-after` of 409 and 503 answers (10 s).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The endpoint name unless configured otherwise.
pub const DEFAULT_ENDPOINT: &str = "default";

/// What to do when the dedup store fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailMode {
    /// Answer 503 with `retry-after`; the provider retries later (the default: nothing is
    /// processed twice).
    #[default]
    Closed,
    /// Process the delivery without deduplication (nothing is delayed, but a retry may run
    /// the handler again).
    Open,
}

/// What became of a delivery, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler answered 2xx.
    Processed,
    /// The handler answered something else, failed, or panicked; the claim was released.
    HandlerFailed,
    /// The response was dropped before the handler answered (the client went away).
    Abandoned,
    /// A duplicate of a completed delivery.
    Duplicate,
    /// A duplicate of a delivery in flight.
    InFlight,
    /// Not authentic.
    Unauthorized,
    /// Body or delivery id unreadable.
    Malformed,
    /// Body over the limit.
    TooLarge,
    /// Body not received within the read timeout.
    TimedOut,
    /// The store failed, fail-closed.
    StoreUnavailable,
}

impl Outcome {
    /// A short lowercase name: `processed`, `duplicate`, ...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::HandlerFailed => "handler_failed",
            Self::Abandoned => "abandoned",
            Self::Duplicate => "duplicate",
            Self::InFlight => "in_flight",
            Self::Unauthorized => "unauthorized",
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::TimedOut => "timed_out",
            Self::StoreUnavailable => "store_unavailable",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified delivery, as the handler gets it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery<E> {
    /// The typed event.
    pub event: E,
    /// Who sent it, its id, how it was authenticated.
    pub meta: DeliveryMeta,
    /// The raw body, exactly as received.
    pub body: Bytes,
}

/// Everything about a delivery but its event and body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryMeta {
    /// The provider's name, `parallel`, ...
    pub provider: Arc<str>,
    /// The endpoint the receiver was configured for.
    pub endpoint: Arc<str>,
    /// The delivery id.
    pub delivery_id: DeliveryId,
    /// The event type ([`WebhookEvent::event_type`]).
    pub event_type: String,
    /// `false` for an event type this version does not know.
    pub known: bool,
    /// How the delivery was authenticated.
    pub authenticity: Authenticity,
    /// `false` when the store failed and the receiver is fail-open: this delivery was not
    /// deduplicated.
    pub deduplicated: bool,
}

impl<E: WebhookEvent> Delivery<E> {
    /// A delivery as a receiver of `provider` would hand it to a handler: for testing
    /// handlers without signing a request. The metadata says the event's type, that it was
    /// signed by the first key ([`Verified::new`](crate::scheme::Verified::new)) and
    /// deduplicated, on the endpoint `"default"`; change [`meta`](Self::meta)'s fields as a
    /// test needs.
    ///
    /// ```
    /// use webhook_guard::{Delivery, DeliveryId, parseflow::Event};
    ///
    /// // The handler under test: what it does with a quota warning.
    /// fn handle(delivery: &Delivery<Event>) -> &'static str {
    ///     match &delivery.event {
    ///         Event::QuotaWarning(_) => "warn the team",
    ///         _ => "ignore",
    ///     }
    /// }
    ///
    /// let body = br#"{"event":"quota.warning","timestamp":"2025-01-15T10:30:00Z","data":{"used":900,"limit":1000}}"#;
    /// let event = Event::from_json(body)?;
    /// let delivery = Delivery::new("parseflow", DeliveryId::new(b"dlv_1", "test")?, event, body.to_vec());
    /// assert_eq!(handle(&delivery), "warn the team");
    /// assert_eq!(delivery.meta.event_type, "quota.warning");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(provider: &str, delivery_id: DeliveryId, event: E, body: impl Into<Bytes>) -> Self {
        let meta = DeliveryMeta::new(provider, delivery_id, &event);
        Self {
            event,
            meta,
            body: body.into(),
        }
    }
}

impl DeliveryMeta {
    /// The metadata of a signed, deduplicated delivery of `event` from `provider`, on the
    /// endpoint `"default"`: for tests (see [`Delivery::new`]).
    pub fn new(provider: &str, delivery_id: DeliveryId, event: &impl WebhookEvent) -> Self {
        Self {
            provider: Arc::from(provider),
            endpoint: Arc::from("default"),
            delivery_id,
            event_type: event.event_type().to_owned(),
            known: event.is_known(),
            authenticity: Authenticity::Signed(crate::scheme::Verified::new(
                0,
                crate::scheme::KeyForm::Raw,
                None,
            )),
            deduplicated: true,
        }
    }
}

/// A delivery the receiver accepted, from [`adapter::accept`](crate::adapter::accept): hand
/// `delivery` to the handler, then finish `claim` with the handler's status.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted<E> {
    /// The delivery for the handler.
    pub delivery: Delivery<E>,
    /// The claim on it, to finish with the handler's status.
    pub claim: ClaimGuard,
}

/// Runs the flow of one delivery for provider `P`. Cheap to clone (shared configuration).
pub struct Receiver<P> {
    inner: Arc<Inner<P>>,
}

struct Inner<P> {
    provider: P,
    provider_name: Arc<str>,
    /// The metrics' labels (provider and endpoint).
    labels: Arc<Labels>,
    endpoint: Arc<str>,
    /// The store namespaces of signed and of unsigned deliveries.
    signed_namespace: Box<str>,
    unsigned_namespace: Box<str>,
    dedup: Dedup,
    clock: Arc<dyn Clock>,
    lease: Duration,
    retention: Duration,
    retry_after: Duration,
    fail_mode: FailMode,
    body_limit: usize,
    body_timeout: Duration,
}

/// Where a receiver records its deliveries.
#[derive(Debug, Clone)]
enum Dedup {
    /// Claims with leases, completed after the handler's 2xx.
    Leased(Arc<dyn DedupStore>),
    /// Claims in a transaction the handler writes in, committed after its 2xx.
    Transactional(Arc<dyn TransactionalStore>),
}

/// Configuration of a [`Receiver`].
#[must_use]
pub struct ReceiverBuilder<P> {
    provider: P,
    endpoint: String,
    store: Option<Dedup>,
    clock: Arc<dyn Clock>,
    lease: Duration,
    retention: Duration,
    retry_after: Duration,
    fail_mode: FailMode,
    body_limit: usize,
    body_timeout: Duration,
}

impl<P: Provider> Receiver<P> {
    /// A receiver with a fresh [`MemoryStore`] and the defaults.
    ///
    /// # Errors
    /// [`ConfigError::InvalidName`] if the provider's name is not usable in a store key.
    pub fn new(provider: P) -> Result<Self, ConfigError> {
        Self::builder(provider).build()
    }

    /// Starts a configuration.
    pub fn builder(provider: P) -> ReceiverBuilder<P> {
        ReceiverBuilder {
            provider,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            store: None,
            clock: Arc::new(SystemClock),
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
            retry_after: DEFAULT_RETRY_AFTER,
            fail_mode: FailMode::Closed,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }

    /// The provider.
    #[must_use]
    pub fn provider(&self) -> &P {
        &self.inner.provider
    }

    /// The provider's name.
    #[must_use]
    pub fn provider_name(&self) -> &Arc<str> {
        &self.inner.provider_name
    }

    /// The largest accepted body, in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// How long a whole body may take to arrive.
    #[must_use]
    pub fn body_timeout(&self) -> Duration {
        self.inner.body_timeout
    }

    /// A `tracing` span for one delivery, with the fields `provider`, `endpoint`,
    /// `delivery_id`, `event_type` and `outcome` (the last three filled in as they become
    /// known).
    pub(crate) fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "webhook",
            provider = %self.inner.provider_name,
            endpoint = %self.inner.endpoint,
            delivery_id = tracing::field::Empty,
            event_type = tracing::field::Empty,
            outcome = tracing::field::Empty,
        )
    }

    /// Verify, claim, parse, for [`adapter::accept`](crate::adapter::accept). Every
    /// rejection is recorded where it is made. (One `async fn` whose awaits hold little: its
    /// future stays well under 1 KiB.)
    pub(crate) async fn run(
        &self,
        headers: &impl Headers,
        body: Bytes,
        runtime: Runtime,
    ) -> Result<Accepted<P::Event>, Rejection> {
        let inner = &*self.inner;
        let rejected = |rejection: Rejection| {
            rejection.record(&inner.labels);
            rejection
        };
        let now = inner.clock.unix_seconds();
        let authenticity = inner
            .provider
            .authenticate(headers, &body, now)
            .map_err(|e| rejected(Rejection::new(RejectionKind::Unauthorized(e), None)))?;
        let delivery_id = inner
            .provider
            .delivery_id(headers, &body)
            .map_err(|e| rejected(Rejection::new(RejectionKind::Malformed(e), None)))?;
        let span = tracing::Span::current();
        span.record("delivery_id", tracing::field::display(delivery_id.as_str()));

        // Unsigned deliveries (allowed by a provider's configuration) never share keys with
        // signed ones: an unsigned sender cannot pre-claim a signed delivery.
        let namespace = match authenticity {
            Authenticity::Signed(_) => &inner.signed_namespace,
            Authenticity::UnsignedAllowed => &inner.unsigned_namespace,
        };
        let dedup_id = inner
            .provider
            .dedup_id(headers, &body, &delivery_id)
            .map_err(|e| rejected(Rejection::new(RejectionKind::Malformed(e), None)))?;
        // The claim: a lease in a `DedupStore`, or an open transaction in a
        // `TransactionalStore`; the answers are read by plain functions, so that this
        // function's future holds no more than the store's (see `tests/sizes.rs`).
        let claim = match &inner.dedup {
            Dedup::Leased(store) => {
                let held = Held {
                    store: Arc::clone(store),
                    key: DedupKey::new(namespace, dedup_id.as_str()),
                    token: ClaimToken::random(),
                    lease: inner.lease,
                    retention: inner.retention,
                    labels: Arc::clone(&inner.labels),
                };
                let claimed = held.store.claim(&held.key, &held.token, held.lease).await;
                self.leased(held, claimed, runtime)
            }
            Dedup::Transactional(store) => {
                let key = DedupKey::new(namespace, dedup_id.as_str());
                let begun = store.begin(&key, inner.retention).await;
                self.transactional(begun, runtime)
            }
        };
        // From here on the claim is released if the delivery goes no further.
        let claim = claim.map_err(rejected)?;
        let deduplicated = claim.holds_claim();
        let event = match inner.provider.parse(headers, &body) {
            Ok(event) => event,
            Err(error) => {
                // Released at once or in the background (awaiting it here would keep the
                // claim guard's room in every delivery's future: see `tests/sizes.rs`).
                claim.reject();
                return Err(rejected(Rejection::new(
                    RejectionKind::Malformed(error),
                    None,
                )));
            }
        };
        span.record("event_type", tracing::field::display(event.event_type()));
        let meta = DeliveryMeta {
            provider: Arc::clone(&inner.provider_name),
            endpoint: Arc::clone(&inner.endpoint),
            delivery_id,
            event_type: event.event_type().to_owned(),
            known: event.is_known(),
            authenticity,
            deduplicated,
        };
        Ok(Accepted {
            delivery: Delivery { event, meta, body },
            claim,
        })
    }

    /// The guard of a leased claim, from the store's answer.
    fn leased(
        &self,
        held: Held,
        claimed: Result<Claim, StoreError>,
        runtime: Runtime,
    ) -> Result<ClaimGuard, Rejection> {
        let inner = &*self.inner;
        match claimed {
            Ok(Claim::Claimed) => Ok(ClaimGuard::new(
                Some(held),
                Arc::clone(&inner.labels),
                runtime,
            )),
            Ok(Claim::Done) => Err(Rejection::new(RejectionKind::Duplicate, None)),
            Ok(Claim::InFlight) => Err(self.in_flight()),
            Err(error) => {
                // The claim may have been recorded all the same (a time-out after the store
                // applied it): released with its token once the store answers again.
                held.release_orphan(runtime);
                if inner.fail_mode == FailMode::Closed {
                    return Err(self.unavailable(error));
                }
                inner.labels.store_error(StoreCall::Claim);
                tracing::warn!(%error, "dedup store failed; processing without deduplication (fail-open)");
                Ok(ClaimGuard::new(None, Arc::clone(&inner.labels), runtime))
            }
        }
    }

    /// The guard of a claim in an open transaction, from the store's answer.
    fn transactional(
        &self,
        begun: Result<Begin, StoreError>,
        runtime: Runtime,
    ) -> Result<ClaimGuard, Rejection> {
        let inner = &*self.inner;
        match begun {
            Ok(Begin::Claimed(transaction)) => Ok(ClaimGuard::transactional(
                transaction,
                Arc::clone(&inner.labels),
                runtime,
                inner.retry_after,
            )),
            Ok(Begin::Done) => Err(Rejection::new(RejectionKind::Duplicate, None)),
            Ok(Begin::InFlight) => Err(self.in_flight()),
            // The store leaves nothing held after an error; fail-open is refused at build
            // time (the handler needs the transaction).
            Err(error) => Err(self.unavailable(error)),
        }
    }

    fn in_flight(&self) -> Rejection {
        Rejection::new(RejectionKind::InFlight, Some(self.inner.retry_after))
    }

    /// Fail-closed: 503, and the store error counted.
    fn unavailable(&self, error: StoreError) -> Rejection {
        self.inner.labels.store_error(StoreCall::Claim);
        let kind = RejectionKind::StoreUnavailable(error);
        Rejection::new(kind, Some(self.inner.retry_after))
    }

    /// The body reader of one request, with this receiver's limit and read timeout.
    pub(crate) fn read_body<B, S, D>(
        &self,
        headers: &impl Headers,
        body: B,
        sleep: S,
    ) -> body::ReadBody<B, S, D> {
        let inner = &*self.inner;
        let buffer = BodyBuffer::new(inner.body_limit, body::announced_length(headers));
        let labels = Arc::clone(&inner.labels);
        body::ReadBody::new(buffer, body, sleep, inner.body_timeout, labels)
    }
}

impl<P> Clone for Receiver<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P: fmt::Debug> fmt::Debug for Receiver<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Receiver")
            .field("provider", &inner.provider)
            .field("endpoint", &inner.endpoint)
            .field("store", &inner.dedup)
            .field("lease", &inner.lease)
            .field("retention", &inner.retention)
            .field("fail_mode", &inner.fail_mode)
            .field("body_limit", &inner.body_limit)
            .field("body_timeout", &inner.body_timeout)
            .finish_non_exhaustive()
    }
}

impl<P: Provider> ReceiverBuilder<P> {
    /// The endpoint's name, to keep the delivery ids of two endpoints of one provider apart
    /// in a shared store (default `default`). Letters, digits, `-`, `_` and `.` only.
    pub fn endpoint(mut self, name: impl Into<String>) -> Self {
        self.endpoint = name.into();
        self
    }

    /// The dedup store (default: a new [`MemoryStore`] for this receiver, on the receiver's
    /// clock).
    pub fn store(mut self, store: Arc<dyn DedupStore>) -> Self {
        self.store = Some(Dedup::Leased(store));
        self
    }

    /// A transactional store instead of a dedup store: each delivery's claim is written in a
    /// transaction that the handler writes in too, committed only when it answers 2xx, so
    /// its effects happen once (see [`transaction`](crate::dedup::transaction)). The adapter
    /// hands the handler the transaction; the lease does not apply (an open transaction
    /// holds the claim for as long as the handler runs, and ends with its connection).
    /// Replaces a [`store`](Self::store).
    pub fn transactional_store(mut self, store: Arc<dyn TransactionalStore>) -> Self {
        self.store = Some(Dedup::Transactional(store));
        self
    }

    /// The clock for signature timestamps (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a claim protects a delivery in flight without being renewed (default 10 s:
    /// see [`DEFAULT_LEASE`] for why). The claim is renewed every third of it while the
    /// handler runs.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long a processed delivery is remembered (default 72 h).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The `retry-after` of 409 and 503 answers (default 10 s).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }

    /// What to do when the store fails (default [`FailMode::Closed`]).
    pub fn fail_mode(mut self, mode: FailMode) -> Self {
        self.fail_mode = mode;
        self
    }

    /// The largest accepted body, in bytes (default 5 MiB). A `Content-Length` over it is
    /// answered 413 before the body is read; a body without one is answered 413 as soon as it
    /// passes the limit, without reading the rest.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long the whole body may take to arrive once the headers are in (default 30 s). A
    /// slower sender gets 408, so a client trickling its body cannot hold a connection and a
    /// buffer for long.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError::InvalidName`] for a provider or endpoint name with other characters
    /// than letters, digits, `-`, `_` and `.` (they are parts of the store key);
    /// [`ConfigError::InvalidDuration`] for a zero lease or body timeout;
    /// [`ConfigError::IncompatibleOptions`] for a transactional store with
    /// [`FailMode::Open`].
    pub fn build(self) -> Result<Receiver<P>, ConfigError> {
        let provider_name: Arc<str> = Arc::from(self.provider.name());
        for name in [&*provider_name, &self.endpoint] {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err(ConfigError::InvalidName {
                    name: name.to_owned(),
                });
            }
        }
        if self.lease.is_zero() {
            return Err(ConfigError::InvalidDuration { what: "lease" });
        }
        if self.body_timeout.is_zero() {
            return Err(ConfigError::InvalidDuration {
                what: "body timeout",
            });
        }
        if matches!(self.store, Some(Dedup::Transactional(_))) && self.fail_mode == FailMode::Open {
            return Err(ConfigError::IncompatibleOptions {
                reason: "a transactional store cannot fail open: the handler needs its transaction",
            });
        }
        let signed_namespace = format!("{provider_name}:{}", self.endpoint).into_boxed_str();
        let unsigned_namespace = format!("{signed_namespace}/unsigned").into_boxed_str();
        #[cfg(feature = "metrics")]
        metrics::describe();
        let endpoint: Arc<str> = Arc::from(self.endpoint);
        let labels = Arc::new(Labels {
            provider: Arc::clone(&provider_name),
            endpoint: Arc::clone(&endpoint),
        });
        Ok(Receiver {
            inner: Arc::new(Inner {
                provider: self.provider,
                provider_name,
                labels,
                endpoint,
                signed_namespace,
                unsigned_namespace,
                dedup: self.store.unwrap_or_else(|| {
                    Dedup::Leased(Arc::new(
                        MemoryStore::builder()
                            .clock(Arc::clone(&self.clock))
                            .build(),
                    ))
                }),
                clock: self.clock,
                lease: self.lease,
                retention: self.retention,
                retry_after: self.retry_after,
                fail_mode: self.fail_mode,
                body_limit: self.body_limit,
                body_timeout: self.body_timeout,
            }),
        })
    }
}

impl<P: fmt::Debug> fmt::Debug for ReceiverBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverBuilder")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, feature = "metrics"))]
mod metrics_tests {
    use std::{sync::Arc, task::Context, time::Duration};

    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::{Receiver, metrics};
    use crate::{
        adapter,
        clock::ManualClock,
        dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreError, StoreErrorKind, StoreFuture},
        parseflow::ParseFlow,
    };

    /// A store whose every call fails.
    #[derive(Debug)]
    struct Down;

    impl DedupStore for Down {
        fn claim<'a>(
            &'a self,
            _: &'a DedupKey,
            _: &'a ClaimToken,
            _: Duration,
        ) -> StoreFuture<'a, Claim> {
            Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
        }
        fn renew<'a>(
            &'a self,
            _: &'a DedupKey,
            _: &'a ClaimToken,
            _: Duration,
        ) -> StoreFuture<'a, bool> {
            Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
        }
        fn complete<'a>(
            &'a self,
            _: &'a DedupKey,
            _: &'a ClaimToken,
            _: Duration,
        ) -> StoreFuture<'a, ()> {
            Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
        }
        fn release<'a>(&'a self, _: &'a DedupKey, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
            Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }

    const NO_RUNTIME: adapter::Runtime = adapter::Runtime {
        spawn: drop,
        sleep: |_| Box::pin(std::future::pending()),
    };

    #[test]
    fn deliveries_handler_time_and_store_errors_are_measured_with_descriptions() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let secret = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";
        let body = br#"{"event":"quota.warning","timestamp":"2026-04-14T10:05:00Z","data":{}}"#;
        metrics::describe_test_scope(&recorder, || {
            let parseflow = ParseFlow::new(secret).expect("secret");
            let headers = parseflow.sign_headers("dlv_1", "quota.warning", body);
            let receiver = Receiver::builder(ParseFlow::new(secret).expect("secret"))
                .endpoint("billing")
                .clock(ManualClock::at_unix_seconds(0))
                .build()
                .expect("receiver");
            for _ in 0..2 {
                match block_on(adapter::accept(
                    &receiver,
                    &headers,
                    bytes::Bytes::from_static(body),
                    NO_RUNTIME,
                )) {
                    Ok(accepted) => {
                        block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled")
                    }
                    Err(rejection) => assert_eq!(rejection.status(), 200, "the duplicate"),
                }
            }
            let down = Receiver::builder(ParseFlow::new(secret).expect("secret"))
                .store(Arc::new(Down))
                .clock(ManualClock::at_unix_seconds(0))
                .build()
                .expect("receiver");
            let refused = block_on(adapter::accept(
                &down,
                &headers,
                bytes::Bytes::from_static(body),
                NO_RUNTIME,
            ));
            assert_eq!(
                refused.map(|_| ()).map_err(|r| r.status().as_u16()),
                Err(503)
            );
        });
        let snapshot = snapshotter.snapshot().into_vec();
        let line = |(key, unit, description, value): &(
            metrics_util::CompositeKey,
            Option<::metrics::Unit>,
            Option<::metrics::SharedString>,
            DebugValue,
        )| {
            let labels: Vec<String> = key
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let value = match value {
                DebugValue::Counter(count) => count.to_string(),
                DebugValue::Histogram(values) => format!("{} samples", values.len()),
                DebugValue::Gauge(_) => "gauge".to_owned(),
            };
            format!(
                "{} {} {value} unit={unit:?} described={}",
                key.key().name(),
                labels.join(","),
                description.is_some()
            )
        };
        let lines: Vec<String> = snapshot.iter().map(line).collect();
        for expected in [
            "webhook_guard_deliveries_total provider=parseflow,endpoint=billing,outcome=processed 1 unit=None described=true",
            "webhook_guard_deliveries_total provider=parseflow,endpoint=billing,outcome=duplicate 1 unit=None described=true",
            "webhook_guard_deliveries_total provider=parseflow,endpoint=default,outcome=store_unavailable 1 unit=None described=true",
            "webhook_guard_handler_duration_seconds provider=parseflow,endpoint=billing,outcome=processed 1 samples unit=Some(Seconds) described=true",
            "webhook_guard_store_errors_total provider=parseflow,endpoint=default,operation=claim 1 unit=None described=true",
        ] {
            assert!(
                lines.iter().any(|l| l == expected),
                "{expected}\nin\n{}",
                lines.join("\n")
            );
        }
    }
}
