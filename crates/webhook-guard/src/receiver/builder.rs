//! [`ReceiverBuilder`]: a receiver's configuration, checked once.

use std::{fmt, sync::Arc, time::Duration};

use super::{
    breaker::{Breaker, DEFAULT_BREAKER_PROBE_INTERVAL, DEFAULT_BREAKER_THRESHOLD},
    budget::MemoryBudget,
    dispatch::Dispatch,
    flow::Receiver,
    metrics::Labels,
    outcome::Outcome,
    recent::RecentlyDone,
    settings::{
        DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_ENDPOINT, DEFAULT_LEASE,
        DEFAULT_REPLAY_HORIZON, DEFAULT_RETENTION, DEFAULT_RETRY_AFTER, FailMode, OrderingKey,
        Settings,
    },
    statuses::{self, Statuses},
};
use crate::{
    ConfigError, Provider,
    clock::{Clock, SystemClock},
    dedup::{DedupStore, MemoryStore, TransactionalStore},
    inbox::Inbox,
};

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
            replay_horizon: DEFAULT_REPLAY_HORIZON,
            retry_after: DEFAULT_RETRY_AFTER,
            fail_mode: FailMode::Closed,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            breaker: (DEFAULT_BREAKER_THRESHOLD, DEFAULT_BREAKER_PROBE_INTERVAL),
            memory_budget: None,
            explain_rejections: false,
            statuses: Vec::new(),
            ordering_key: None,
        }
    }
}

/// Configuration of a [`Receiver`].
#[must_use]
pub struct ReceiverBuilder<P> {
    provider: P,
    endpoint: String,
    store: Option<Dispatch>,
    clock: Arc<dyn Clock>,
    lease: Duration,
    retention: Duration,
    replay_horizon: Duration,
    retry_after: Duration,
    fail_mode: FailMode,
    body_limit: usize,
    body_timeout: Duration,
    breaker: (u32, Duration),
    memory_budget: Option<MemoryBudget>,
    explain_rejections: bool,
    statuses: Vec<(Outcome, http::StatusCode)>,
    /// An `OrderingKey<P::Event>`, erased so that the builder needs no bound on `P`.
    ordering_key: Option<Box<dyn std::any::Any + Send + Sync>>,
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
        self.store = Some(Dispatch::Inline(store));
        self
    }

    /// A transactional store instead of a dedup store: each delivery's claim is written in a
    /// transaction that the handler writes in too, committed only when it answers 2xx, so
    /// its effects happen once (see [`transaction`](crate::dedup::transaction)). The adapter
    /// hands the handler the transaction; the lease does not apply (an open transaction
    /// holds the claim for as long as the handler runs, and ends with its connection).
    /// Replaces a [`store`](Self::store).
    pub fn transactional_store(mut self, store: Arc<dyn TransactionalStore>) -> Self {
        self.store = Some(Dispatch::Transactional(store));
        self
    }

    /// The durable inbox mode: each verified delivery is written to `inbox` with its dedup
    /// record in one atomic step and answered `202 Accepted` after the commit; a
    /// worker (`inbox::Worker`, feature `inbox`) runs the handler later. A copy of a stored delivery is
    /// answered 200 with the duplicate header; a failing store 503 (never a 2xx before the
    /// commit). The routes behind the guard are not called. Replaces a
    /// [`store`](Self::store). See [the inbox](crate::inbox).
    pub fn inbox(mut self, inbox: &Inbox) -> Self {
        self.store = Some(Dispatch::Inbox(Arc::clone(inbox.store())));
        self
    }

    /// In inbox mode, the key whose entries run one at a time, in the order they were
    /// received (a GitHub repository, a Stripe object): `None` for an event that may run
    /// beside any other. Entries of different keys still run in parallel.
    pub fn ordering_key(
        mut self,
        key: impl Fn(&P::Event) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let key: OrderingKey<P::Event> = Arc::new(key);
        self.ordering_key = Some(Box::new(key));
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

    /// How long a processed delivery is remembered (default 72 h): a retry or replay within
    /// it is answered as a duplicate.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long a processed delivery is remembered when the provider signs no timestamp
    /// ([`Authenticator::signs_timestamp`](crate::provider::Authenticator::signs_timestamp)
    /// is `false`: GitHub, ParseFlow, FullEnrich), if longer than the
    /// [`retention`](Self::retention) (default [`DEFAULT_REPLAY_HORIZON`], 7 days). A captured
    /// delivery of such a provider stays authentic forever; the record is what refuses its
    /// replay, so it is kept longer. A provider that signs a timestamp refuses a replay past
    /// its tolerance by itself and keeps the retention. `Duration::ZERO` keeps the retention
    /// for every provider. Size the store with `docs/overload.md`.
    pub fn replay_horizon(mut self, horizon: Duration) -> Self {
        self.replay_horizon = horizon;
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

    /// The circuit breaker in front of the store: after `threshold` failed claims in a row
    /// (default 5; 0 never opens it) deliveries are answered at once, with no store call and
    /// no background task (503 fail-closed, or processed without deduplication fail-open),
    /// and one claim per `probe_interval` (default 500 ms) goes to the store to see whether it
    /// is back. See [`Receiver::health`].
    pub fn circuit_breaker(mut self, threshold: u32, probe_interval: Duration) -> Self {
        self.breaker = (threshold, probe_interval);
        self
    }

    /// The memory the bodies of deliveries not yet verified may hold, together with every
    /// other receiver given the same budget (default: the process-wide
    /// [`MemoryBudget::shared`], 64 MiB). Past it, a body waits up to 500 ms for memory, then
    /// is answered 503 with `retry-after`. See [`MemoryBudget`].
    pub fn memory_budget(mut self, budget: MemoryBudget) -> Self {
        self.memory_budget = Some(budget);
        self
    }

    /// Development mode (default off): a rejected delivery's answer body says which check
    /// failed and the likely fix (`Rejection::body`), instead of a short generic text. It
    /// never contains a secret, a key or the expected signature, but it does tell a caller
    /// why a forgery failed: leave it off in production. The receiver logs a warning when it
    /// is built with it on.
    pub fn explain_rejections(mut self, explain: bool) -> Self {
        self.explain_rejections = explain;
        self
    }

    /// The status answered for a kind of rejection, named by its [`Outcome`]
    /// (`Unauthorized`, `Malformed`, `TooLarge`, `TimedOut`, `Duplicate`, `InFlight`,
    /// `StoreUnavailable`, `Overloaded`), instead of the default of the table in
    /// [`Rejection`](super::Rejection). Some senders disable an endpoint after many 4xx answers: a receiver
    /// that expects forgeries may answer them 202, say. Checked by [`build`](Self::build):
    /// a duplicate stays 2xx, no kind may be 410.
    ///
    /// ```
    /// use http::StatusCode;
    /// use webhook_guard::{Receiver, parseflow::ParseFlow, receiver::Outcome};
    ///
    /// let builder = || Receiver::builder(ParseFlow::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456").unwrap());
    /// let forgeries_accepted = builder().rejection_status(Outcome::Unauthorized, StatusCode::ACCEPTED);
    /// assert!(forgeries_accepted.build().is_ok());
    /// assert!(builder().rejection_status(Outcome::Duplicate, StatusCode::CONFLICT).build().is_err());
    /// assert!(builder().rejection_status(Outcome::InFlight, StatusCode::GONE).build().is_err());
    /// assert!(builder().rejection_status(Outcome::Processed, StatusCode::OK).build().is_err());
    /// ```
    pub fn rejection_status(mut self, outcome: Outcome, status: http::StatusCode) -> Self {
        self.statuses.push((outcome, status));
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
        if self.fail_mode == FailMode::Open {
            let reason = match self.store {
                Some(Dispatch::Transactional(_)) => {
                    "a transactional store cannot fail open: the handler needs its transaction"
                }
                Some(Dispatch::Inbox(_)) => {
                    "an inbox cannot fail open: a delivery it did not store would be answered 2xx and lost"
                }
                _ => "",
            };
            if !reason.is_empty() {
                return Err(ConfigError::IncompatibleOptions { reason });
            }
        }
        let mut statuses = Statuses::default();
        for (outcome, status) in self.statuses {
            statuses::check_status(outcome, status)
                .map_err(|reason| ConfigError::IncompatibleOptions { reason })?;
            if let Some(slot) = statuses::slot(outcome) {
                statuses[slot] = Some(status);
            }
        }
        if self.explain_rejections {
            tracing::warn!(
                provider = %provider_name,
                "explain_rejections is on: rejection bodies say which check failed (development only)"
            );
        }
        let signed_namespace = format!("{provider_name}:{}", self.endpoint).into_boxed_str();
        let unsigned_namespace = format!("{signed_namespace}/unsigned").into_boxed_str();
        #[cfg(feature = "metrics")]
        super::metrics::describe();
        let endpoint: Arc<str> = Arc::from(self.endpoint);
        let labels = Arc::new(Labels {
            provider: provider_name,
            endpoint: Arc::clone(&endpoint),
        });
        let dispatch = self.store.unwrap_or_else(|| {
            let memory = MemoryStore::builder()
                .clock(Arc::clone(&self.clock))
                .build();
            Dispatch::Inline(Arc::new(memory))
        });
        let settings = Settings {
            labels,
            signed_namespace,
            unsigned_namespace,
            clock: self.clock,
            lease: self.lease,
            retention: if self.provider.signs_timestamp() {
                self.retention
            } else {
                self.retention.max(self.replay_horizon)
            },
            retry_after: self.retry_after,
            fail_mode: self.fail_mode,
            body_limit: self.body_limit,
            body_timeout: self.body_timeout,
            breaker: Breaker::new(self.breaker.0, self.breaker.1),
            memory_budget: self.memory_budget.unwrap_or_else(MemoryBudget::shared),
            renewals: Arc::default(),
            recently_done: RecentlyDone::default(),
            explain_rejections: self.explain_rejections,
            statuses,
        };
        let ordering_key = self.ordering_key;
        Ok(Receiver::from_parts(
            self.provider,
            endpoint,
            dispatch,
            settings,
            ordering_key,
        ))
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
