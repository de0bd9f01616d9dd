//! axum extractors for guarded handlers (feature `axum`).

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use webhook_guard::{Delivery, DeliveryMeta, WebhookEvent};

/// Extracts the verified [`Delivery`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.Delivery.html) (typed event, metadata, raw body) that
/// [`WebhookGuardLayer`](crate::WebhookGuardLayer) put in the request.
///
/// `E` must be the event type of the layer's provider, for instance
/// `webhook_guard::parallel::Event`. The delivery is moved out of the request, so extract it
/// once per handler; use [`WebhookMeta`] for the metadata alone. `Option<Webhook<E>>` is
/// `None` without a layer; `Result<Webhook<E>, MissingDelivery>` lets the handler answer.
#[derive(Debug, Clone)]
pub struct Webhook<E>(pub Delivery<E>);

/// Extracts the [`DeliveryMeta`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.DeliveryMeta.html) of the verified delivery (provider, delivery id, event type,
/// how it was authenticated). Can be extracted any number of times.
#[derive(Debug, Clone)]
pub struct WebhookMeta(pub DeliveryMeta);

/// The rejection of [`Webhook`] and [`WebhookMeta`]: the core's
/// [`MissingDelivery`](webhook_guard::MissingDelivery), answered 500 and logged at error level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct MissingDelivery(pub webhook_guard::MissingDelivery);

impl IntoResponse for MissingDelivery {
    fn into_response(self) -> Response {
        self.0.log();
        (self.0.status(), self.0.public_message()).into_response()
    }
}

impl<E: WebhookEvent + Clone, S: Send + Sync> FromRequestParts<S> for Webhook<E> {
    type Rejection = MissingDelivery;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let delivery = parts.extensions.remove::<Delivery<E>>();
        delivery
            .map(Self)
            .ok_or_else(|| MissingDelivery(webhook_guard::MissingDelivery::delivery::<E>()))
    }
}

impl<E: WebhookEvent + Clone, S: Send + Sync> OptionalFromRequestParts<S> for Webhook<E> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.remove::<Delivery<E>>().map(Self))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebhookMeta {
    type Rejection = MissingDelivery;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let meta = parts.extensions.get::<DeliveryMeta>().cloned();
        meta.map(Self)
            .ok_or_else(|| MissingDelivery(webhook_guard::MissingDelivery::meta()))
    }
}
