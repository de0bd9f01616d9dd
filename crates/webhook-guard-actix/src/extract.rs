//! Extractors for guarded handlers.

use std::future::{Ready, ready};

use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError, dev::Payload,
    http::StatusCode,
};
use webhook_guard::{Delivery, DeliveryMeta, WebhookEvent};

/// Extracts the verified [`Delivery`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.Delivery.html) (typed event, metadata, raw body) that
/// [`WebhookGuard`](crate::WebhookGuard) put in the request.
///
/// `E` must be the event type of the middleware's provider, for instance
/// `webhook_guard::parallel::Event`. The delivery is moved out of the request, so extract it
/// once per handler; use [`WebhookMeta`] for the metadata alone. `Option<Webhook<E>>` is
/// `None` without the middleware; `Result<Webhook<E>, MissingDelivery>` lets the handler answer.
#[derive(Debug, Clone)]
pub struct Webhook<E>(pub Delivery<E>);

impl<E: WebhookEvent + 'static> FromRequest for Webhook<E> {
    type Error = MissingDelivery;
    type Future = Ready<Result<Self, MissingDelivery>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let delivery = request.extensions_mut().remove::<Delivery<E>>();
        let missing = || MissingDelivery(webhook_guard::MissingDelivery::delivery::<E>());
        ready(delivery.map(Self).ok_or_else(missing))
    }
}

/// Extracts the [`DeliveryMeta`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.DeliveryMeta.html) of the verified delivery (provider, delivery id, event type,
/// how it was authenticated). Can be extracted any number of times.
#[derive(Debug, Clone)]
pub struct WebhookMeta(pub DeliveryMeta);

impl FromRequest for WebhookMeta {
    type Error = MissingDelivery;
    type Future = Ready<Result<Self, MissingDelivery>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let meta = request.extensions().get::<DeliveryMeta>().cloned();
        let missing = || MissingDelivery(webhook_guard::MissingDelivery::meta());
        ready(meta.map(Self).ok_or_else(missing))
    }
}

/// The error of [`Webhook`] and [`WebhookMeta`]: the core's
/// [`MissingDelivery`](webhook_guard::MissingDelivery), answered 500 and logged at error level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct MissingDelivery(pub webhook_guard::MissingDelivery);

impl ResponseError for MissingDelivery {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body(self.0.public_message())
    }
}
