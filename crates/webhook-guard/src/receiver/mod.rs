//! The flow of one delivery: verify, deduplicate, parse.
//!
//! ```text
//! verify(headers, raw body, now)    401 on failure; nothing stored
//! delivery id, scoped as provider:endpoint:id
//! store.claim(key)                  Claimed | Done -> 200 duplicate | InFlight -> 409
//! parse into the provider's event   unknown type -> Unknown variant; not JSON -> 400 (claim released)
//! -> the adapter runs the handler, then Ticket::settle(status): 2xx completes, anything else releases
//! ```
//!
//! Framework adapters (`webhook-guard-tower`, `webhook-guard-actix`) run [`Receiver::receive`]
//! and answer [`Rejection`]s the same way; the handler gets the [`Delivery`].
//!
//! ```
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # block_on(async {
//! use webhook_guard::{Receiver, clock::ManualClock, parallel::{Event, Parallel}, receiver::RejectionKind};
//!
//! let parallel = Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = br#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z",
//!   "data":{"monitor_id":"monitor_1","event":{"event_group_id":"mevtgrp_1"}}}"#;
//! let headers = parallel.sign_headers("whevent_1", 1_761_577_000, body).to_header_map();
//! let receiver = Receiver::builder(parallel).clock(ManualClock::at_unix_seconds(1_761_577_000)).build()?;
//!
//! let accepted = receiver.receive(&headers, body.to_vec().into()).await?;
//! assert!(matches!(accepted.delivery.event, Event::MonitorEventDetected(_)));
//! accepted.ticket.settle(200).await?; // the handler answered 200
//!
//! let again = receiver.receive(&headers, body.to_vec().into()).await.expect_err("duplicate");
//! assert_eq!(again.kind(), &RejectionKind::Duplicate);
//! assert_eq!(again.status(), 200);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod rejection;
mod ticket;

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;

pub use rejection::{DUPLICATE_HEADER, Rejection, RejectionKind};
pub use ticket::{ReleaseOnDrop, SettleFuture, Ticket};

use crate::{
    Authenticity, ConfigError, DeliveryId, Event, Provider,
    clock::{Clock, SystemClock},
    dedup::{Claim, DedupStore, MemoryStore},
    headers::Headers,
};

/// How long a claim protects a delivery in flight before a retry may take it over (60 s).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
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

    /// Records the outcome on the current span (field `outcome`) and, with the `metrics`
    /// feature, counts it in `webhook_guard_deliveries_total{provider, outcome}`.
    pub fn record(self, provider: &str) {
        tracing::Span::current().record("outcome", tracing::field::display(self.as_str()));
        #[cfg(feature = "metrics")]
        metrics::counter!(
            "webhook_guard_deliveries_total",
            "provider" => provider.to_owned(),
            "outcome" => self.as_str()
        )
        .increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = provider;
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
    /// The event type ([`Event::event_type`]).
    pub event_type: String,
    /// `false` for an event type this version does not know.
    pub known: bool,
    /// How the delivery was authenticated.
    pub authenticity: Authenticity,
    /// `false` when the store failed and the receiver is fail-open: this delivery was not
    /// deduplicated.
    pub deduplicated: bool,
}

/// A delivery accepted by [`Receiver::receive`]: hand `delivery` to the handler, then settle
/// `ticket` with the handler's status.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted<E> {
    /// The delivery for the handler.
    pub delivery: Delivery<E>,
    /// The claim to settle.
    pub ticket: AcceptedTicket,
}

/// The claim of an accepted delivery; empty when the store failed and the receiver is
/// fail-open.
#[derive(Debug)]
pub struct AcceptedTicket(Option<Ticket>);

impl AcceptedTicket {
    /// Completes after a 2xx status, releases otherwise.
    ///
    /// # Errors
    /// The store's error.
    pub async fn settle(self, status: u16) -> Result<(), crate::dedup::StoreError> {
        match self.0 {
            Some(ticket) => ticket.settle(status).await,
            None => Ok(()),
        }
    }

    /// Guards the claim so that dropping it unsettled releases it (see [`ReleaseOnDrop`]).
    #[must_use]
    pub fn release_on_drop(self, spawn: fn(SettleFuture)) -> ReleaseOnDrop {
        ReleaseOnDrop::new(self.0, spawn)
    }

    /// The claim, if there is one.
    #[must_use]
    pub fn into_inner(self) -> Option<Ticket> {
        self.0
    }
}

/// Runs the flow of one delivery for provider `P`. Cheap to clone (shared configuration).
pub struct Receiver<P> {
    inner: Arc<Inner<P>>,
}

struct Inner<P> {
    provider: P,
    provider_name: Arc<str>,
    endpoint: Arc<str>,
    key_prefix: String,
    store: Arc<dyn DedupStore>,
    clock: Arc<dyn Clock>,
    lease: Duration,
    retention: Duration,
    retry_after: Duration,
    fail_mode: FailMode,
}

/// Configuration of a [`Receiver`].
#[must_use]
pub struct ReceiverBuilder<P> {
    provider: P,
    endpoint: String,
    store: Option<Arc<dyn DedupStore>>,
    clock: Arc<dyn Clock>,
    lease: Duration,
    retention: Duration,
    retry_after: Duration,
    fail_mode: FailMode,
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

    /// A `tracing` span for one delivery of this receiver, with the fields `provider`,
    /// `endpoint`, `delivery_id`, `event_type` and `outcome` (the last three filled in as they
    /// become known). Adapters run each delivery in one.
    #[must_use]
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "webhook",
            provider = %self.inner.provider_name,
            endpoint = %self.inner.endpoint,
            delivery_id = tracing::field::Empty,
            event_type = tracing::field::Empty,
            outcome = tracing::field::Empty,
        )
    }

    /// Runs one delivery: verify, claim, parse.
    ///
    /// # Errors
    /// A [`Rejection`] with the HTTP answer to give. The precise reason is logged at debug
    /// level; secrets and signatures never are.
    pub async fn receive<H: Headers>(
        &self,
        headers: &H,
        body: Bytes,
    ) -> Result<Accepted<P::Event>, Rejection> {
        let result = self.run(headers, body).await;
        if let Err(rejection) = &result {
            tracing::debug!(reason = %rejection, "webhook rejected");
        }
        result
    }

    async fn run<H: Headers>(
        &self,
        headers: &H,
        body: Bytes,
    ) -> Result<Accepted<P::Event>, Rejection> {
        let inner = &*self.inner;
        let now = inner.clock.unix_seconds();
        let authenticity = inner
            .provider
            .authenticate(headers, &body, now)
            .map_err(|e| Rejection::new(RejectionKind::Unauthorized(e), None))?;
        let delivery_id = inner
            .provider
            .delivery_id(headers, &body)
            .map_err(|e| Rejection::new(RejectionKind::Malformed(e), None))?;
        let span = tracing::Span::current();
        span.record("delivery_id", tracing::field::display(delivery_id.as_str()));

        let key = format!("{}{}", inner.key_prefix, delivery_id.as_str());
        let ticket = match inner.store.claim(&key, inner.lease).await {
            Ok(Claim::Claimed(token)) => Some(Ticket::new(
                Arc::clone(&inner.store),
                key,
                token,
                inner.retention,
            )),
            Ok(Claim::Done) => return Err(Rejection::new(RejectionKind::Duplicate, None)),
            Ok(Claim::InFlight) => {
                return Err(Rejection::new(
                    RejectionKind::InFlight,
                    Some(inner.retry_after),
                ));
            }
            Err(error) if inner.fail_mode == FailMode::Open => {
                tracing::warn!(%error, "dedup store failed; processing without deduplication (fail-open)");
                None
            }
            Err(error) => {
                return Err(Rejection::new(
                    RejectionKind::StoreUnavailable(error),
                    Some(inner.retry_after),
                ));
            }
        };
        let deduplicated = ticket.is_some();

        let event = match inner.provider.parse(headers, &body) {
            Ok(event) => event,
            Err(error) => {
                if let Some(ticket) = ticket
                    && let Err(store_error) = ticket.release().await
                {
                    tracing::warn!(%store_error, "could not release the claim of a malformed delivery");
                }
                return Err(Rejection::new(RejectionKind::Malformed(error), None));
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
            ticket: AcceptedTicket(ticket),
        })
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
            .field("store", &inner.store)
            .field("lease", &inner.lease)
            .field("retention", &inner.retention)
            .field("fail_mode", &inner.fail_mode)
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
        self.store = Some(store);
        self
    }

    /// The clock for signature timestamps (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a claim protects a delivery in flight (default 60 s).
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

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError::InvalidName`] for a provider or endpoint name with other characters
    /// than letters, digits, `-`, `_` and `.` (they are parts of the store key); a zero lease.
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
        let key_prefix = format!("{provider_name}:{}:", self.endpoint);
        Ok(Receiver {
            inner: Arc::new(Inner {
                provider: self.provider,
                provider_name,
                endpoint: Arc::from(self.endpoint),
                key_prefix,
                store: self.store.unwrap_or_else(|| {
                    Arc::new(
                        MemoryStore::builder()
                            .clock(Arc::clone(&self.clock))
                            .build(),
                    )
                }),
                clock: self.clock,
                lease: self.lease,
                retention: self.retention,
                retry_after: self.retry_after,
                fail_mode: self.fail_mode,
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
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::Outcome;

    #[test]
    fn outcomes_are_counted_by_provider_and_outcome() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            Outcome::Processed.record("parallel");
            Outcome::Processed.record("parallel");
            Outcome::Duplicate.record("parseflow");
        });
        let counts: Vec<(String, u64)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let labels: Vec<String> = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                let DebugValue::Counter(count) = value else {
                    panic!("a counter")
                };
                (format!("{} {}", key.key().name(), labels.join(",")), count)
            })
            .collect();
        assert!(counts.contains(&(
            "webhook_guard_deliveries_total provider=parallel,outcome=processed".to_owned(),
            2
        )));
        assert!(counts.contains(&(
            "webhook_guard_deliveries_total provider=parseflow,outcome=duplicate".to_owned(),
            1
        )));
    }
}
