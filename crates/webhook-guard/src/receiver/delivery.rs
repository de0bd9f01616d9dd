//! [`Delivery`] and [`DeliveryMeta`]: what the handler gets.

use std::sync::Arc;

use bytes::Bytes;

use crate::{
    event::WebhookEvent,
    provider::{Authenticity, DeliveryId},
    scheme::{KeyForm, Verified},
};

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
            authenticity: Authenticity::Signed(Verified::new(0, KeyForm::Raw, None)),
            deduplicated: true,
        }
    }
}
