//! The flow of one delivery, stage by stage, in the order it runs.
//!
//! | stage | function | refuses with |
//! |---|---|---|
//! | 1. read the body | `Receiver::read_body` (the adapter polls it) | 413, 408, 400 |
//! | 2. verify | `Receiver::verify` | 401 |
//! | 3. identify | `Receiver::identify`: delivery id, dedup key | 400 |
//! | 4. claim | `Dispatch::claim`, by the receiver's mode | 200 duplicate, 409, 503 |
//! | 5. parse | `Receiver::parse`: the typed `Delivery` | 400 (claim released) |
//! | 6. dispatch | the adapter runs the handler under `ClaimGuard::renewing` | |
//! | 7. settle | `ClaimGuard::finish` with the handler's status | 503 on a failed commit |
//!
//! Stages 2 to 5 are `Receiver::run`. Every rejection is logged and counted where it is
//! made, once.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;

use super::{
    Rejection, RejectionKind,
    body::{self, BodyBuffer, ReadBody},
    breaker::Health,
    claim::ClaimGuard,
    delivery::{Delivery, DeliveryMeta},
    dispatch::{self, Dispatch},
    runtime::Runtime,
    settings::{OrderingKey, Settings},
};
use crate::{
    dedup::{DedupKey, StoreError},
    event::{ParseError, WebhookEvent},
    headers::Headers,
    inbox::{NewEntry, StoredHeaders},
    provider::{Authenticity, DeliveryId, Provider},
};

/// Runs the flow of one delivery for provider `P`. Cheap to clone (shared configuration).
pub struct Receiver<P> {
    inner: Arc<Inner<P>>,
}

struct Inner<P> {
    provider: P,
    provider_name: Arc<str>,
    endpoint: Arc<str>,
    dispatch: Dispatch,
    settings: Arc<Settings>,
    /// An `OrderingKey<P::Event>` (erased: the struct has no bound on `P`).
    ordering_key: Option<Box<dyn std::any::Any + Send + Sync>>,
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

/// Which delivery this is: its id, and the key it is deduplicated under.
struct Identity {
    delivery_id: DeliveryId,
    key: DedupKey,
}

impl<P: Provider> Receiver<P> {
    /// A receiver of checked parts (see [`ReceiverBuilder::build`](super::ReceiverBuilder::build)).
    pub(crate) fn from_parts(
        provider: P,
        endpoint: Arc<str>,
        dispatch: Dispatch,
        settings: Settings,
        ordering_key: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Self {
        let provider_name = Arc::clone(&settings.labels.provider);
        Self {
            inner: Arc::new(Inner {
                provider,
                provider_name,
                endpoint,
                dispatch,
                settings: Arc::new(settings),
                ordering_key,
            }),
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

    /// The endpoint's name.
    #[must_use]
    pub fn endpoint(&self) -> &Arc<str> {
        &self.inner.endpoint
    }

    /// The largest accepted body, in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.inner.settings.body_limit
    }

    /// Forgets the delivery whose dedup id is `id`, so that its next delivery (a sender's
    /// "redeliver" after a handler was fixed) is processed again: removes its record, completed
    /// or in flight, signed and unsigned, from the store. `true` if there was one.
    ///
    /// `id` is what the receiver deduplicates by: the delivery id for most providers
    /// (Parallel's `webhook-id`, Stripe's `evt_...`), and for those whose id is outside the
    /// signature (GitHub, ParseFlow, FullEnrich) the SHA-256 of the body in hex, which
    /// [`DeliveryId::body_digest`](crate::DeliveryId::body_digest) computes. The
    /// command line does the same on a shared store: `webhook-guard dedup forget`.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// use webhook_guard::{DeliveryId, Receiver, parseflow::ParseFlow};
    ///
    /// let receiver = Receiver::new(ParseFlow::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456")?)?;
    /// let body = br#"{"event":"extraction.completed"}"#;
    /// let forgotten = block_on(receiver.forget(DeliveryId::body_digest(body).as_str()))?;
    /// assert!(!forgotten, "nothing was recorded yet");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The store's, when it fails or does not support forgetting.
    pub async fn forget(&self, id: &str) -> Result<bool, StoreError> {
        let settings = &self.inner.settings;
        let mut forgotten = false;
        for namespace in [&settings.signed_namespace, &settings.unsigned_namespace] {
            let key = DedupKey::new(namespace, id);
            settings.recently_done.remove(&key);
            forgotten |= self.inner.dispatch.forget(&key).await?;
        }
        Ok(forgotten)
    }

    /// The store's health, for a readiness probe: `store_available` is `false` while the
    /// circuit breaker is open ([`ReceiverBuilder::circuit_breaker`](super::ReceiverBuilder::circuit_breaker)).
    #[must_use]
    pub fn health(&self) -> Health {
        self.inner.settings.breaker.health()
    }

    /// How long a whole body may take to arrive.
    #[must_use]
    pub fn body_timeout(&self) -> Duration {
        self.inner.settings.body_timeout
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

    /// Stage 1: the body reader of one request, with this receiver's limit and read timeout.
    pub(crate) fn read_body<B, S, D>(
        &self,
        headers: &impl Headers,
        body: B,
        sleep: S,
    ) -> ReadBody<B, S, D> {
        let settings = &self.inner.settings;
        let mut buffer = BodyBuffer::new(settings.body_limit, body::announced_length(headers));
        if !settings.memory_budget.is_unlimited() {
            buffer = buffer.map(|buffer| buffer.with_budget(settings.memory_budget.clone()));
        }
        ReadBody::new(buffer, body, sleep, Arc::clone(settings))
    }

    /// Stages 2 to 5, for [`adapter::accept`](crate::adapter::accept): verify, identify,
    /// claim, parse. (One `async fn` whose awaits hold little: its future stays well under
    /// 1 KiB.)
    pub(crate) async fn run(
        &self,
        headers: &impl Headers,
        body: Bytes,
        runtime: Runtime,
    ) -> Result<Accepted<P::Event>, Rejection> {
        let inner = &*self.inner;
        let rejected = |mut rejection: Rejection| {
            rejection.record(&inner.settings);
            rejection
        };
        let authenticity = self.verify(headers, &body).map_err(rejected)?;
        let Identity { delivery_id, key } = self
            .identify(headers, &body, &authenticity)
            .map_err(rejected)?;
        if let Dispatch::Inbox(_) = &inner.dispatch {
            // Boxed: the inbox's step keeps its entry across an await, which would otherwise
            // grow every delivery's future (see `tests/sizes.rs` in the adapters).
            let answer =
                Box::pin(self.store_in_inbox(headers, body, delivery_id, key, &authenticity));
            return Err(rejected(answer.await));
        }
        // From here on the claim is released if the delivery goes no further.
        let claim = inner
            .dispatch
            .claim(key, &inner.settings, runtime)
            .await
            .map_err(rejected)?;
        match self.parse(headers, body, delivery_id, authenticity, &claim) {
            Ok(delivery) => Ok(Accepted { delivery, claim }),
            Err(rejection) => {
                // Released at once or in the background (awaiting it here would keep the
                // claim guard's room in every delivery's future: see `tests/sizes.rs`).
                claim.reject();
                Err(rejected(rejection))
            }
        }
    }

    /// Stages 4 and 5 in inbox mode: parse (a malformed delivery is refused, not stored),
    /// then store the entry; the answer is 202, a duplicate's 200, or 503.
    async fn store_in_inbox(
        &self,
        headers: &impl Headers,
        body: Bytes,
        delivery_id: DeliveryId,
        key: DedupKey,
        authenticity: &Authenticity,
    ) -> Rejection {
        let inner = &*self.inner;
        let Dispatch::Inbox(store) = &inner.dispatch else {
            return Rejection::new(RejectionKind::Queued, None);
        };
        let event = match inner.provider.parse(headers, &body) {
            Ok(event) => event,
            Err(error) => return Rejection::new(RejectionKind::Malformed(error), None),
        };
        tracing::Span::current().record("event_type", tracing::field::display(event.event_type()));
        let started = web_time::Instant::now();
        let entry = NewEntry {
            provider: inner.provider_name.to_string(),
            endpoint: inner.endpoint.to_string(),
            delivery_id: delivery_id.as_str().to_owned(),
            dedup_key: key.as_str().to_owned(),
            event_type: event.event_type().to_owned(),
            ordering_key: (inner.ordering_key.as_ref())
                .and_then(|key| key.downcast_ref::<OrderingKey<P::Event>>())
                .and_then(|key| key(&event)),
            signed_by: match authenticity {
                Authenticity::Signed(verified) => {
                    Some(u16::try_from(verified.key_index).unwrap_or(u16::MAX))
                }
                Authenticity::UnsignedAllowed => None,
            },
            headers: StoredHeaders::from_request(headers),
            body,
        };
        let answer = dispatch::enqueue(&**store, &entry, &key, &inner.settings).await;
        if answer.kind() == &RejectionKind::Queued {
            crate::inbox::metrics::ack(&inner.provider_name, started.elapsed());
        }
        answer
    }

    /// Stage 2: is the delivery authentic? Nothing is stored for one that is not.
    fn verify(&self, headers: &impl Headers, body: &[u8]) -> Result<Authenticity, Rejection> {
        let now = self.inner.settings.clock.unix_seconds();
        self.inner
            .provider
            .authenticate(headers, body, now)
            .map_err(|e| Rejection::new(RejectionKind::Unauthorized(e), None))
    }

    /// Stage 3: the delivery id (for logs and the handler) and the key the delivery is
    /// deduplicated under: `provider:endpoint[/unsigned]:id`.
    fn identify(
        &self,
        headers: &impl Headers,
        body: &[u8],
        authenticity: &Authenticity,
    ) -> Result<Identity, Rejection> {
        let inner = &*self.inner;
        let malformed = |e: ParseError| Rejection::new(RejectionKind::Malformed(e), None);
        let delivery_id = inner
            .provider
            .delivery_id(headers, body)
            .map_err(malformed)?;
        tracing::Span::current().record("delivery_id", tracing::field::display(&delivery_id));
        // Unsigned deliveries (allowed by a provider's configuration) never share keys with
        // signed ones: an unsigned sender cannot pre-claim a signed delivery.
        let namespace = match authenticity {
            Authenticity::Signed(_) => &inner.settings.signed_namespace,
            Authenticity::UnsignedAllowed => &inner.settings.unsigned_namespace,
        };
        let dedup_id = inner
            .provider
            .dedup_id(headers, body, &delivery_id)
            .map_err(malformed)?;
        let key = DedupKey::new(namespace, dedup_id.as_str());
        Ok(Identity { delivery_id, key })
    }

    /// Stage 5: the typed delivery for the handler.
    fn parse(
        &self,
        headers: &impl Headers,
        body: Bytes,
        delivery_id: DeliveryId,
        authenticity: Authenticity,
        claim: &ClaimGuard,
    ) -> Result<Delivery<P::Event>, Rejection> {
        let inner = &*self.inner;
        let event = inner
            .provider
            .parse(headers, &body)
            .map_err(|e| Rejection::new(RejectionKind::Malformed(e), None))?;
        tracing::Span::current().record("event_type", tracing::field::display(event.event_type()));
        let meta = DeliveryMeta {
            provider: Arc::clone(&inner.provider_name),
            endpoint: Arc::clone(&inner.endpoint),
            delivery_id,
            event_type: event.event_type().to_owned(),
            known: event.is_known(),
            authenticity,
            deduplicated: claim.holds_claim(),
        };
        Ok(Delivery { event, meta, body })
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
        let settings = &inner.settings;
        f.debug_struct("Receiver")
            .field("provider", &inner.provider)
            .field("endpoint", &inner.endpoint)
            .field("store", &inner.dispatch)
            .field("lease", &settings.lease)
            .field("retention", &settings.retention)
            .field("fail_mode", &settings.fail_mode)
            .field("body_limit", &settings.body_limit)
            .field("body_timeout", &settings.body_timeout)
            .finish_non_exhaustive()
    }
}
