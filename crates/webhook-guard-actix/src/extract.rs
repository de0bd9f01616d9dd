//! Extractors for guarded handlers.

use std::{
    fmt,
    future::{Ready, ready},
};

use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError, dev::Payload,
    http::StatusCode,
};
use webhook_guard::{Delivery, DeliveryMeta, Event};

/// Extracts the verified [`Delivery`] (typed event, metadata, raw body) that
/// [`WebhookGuard`](crate::WebhookGuard) put in the request.
///
/// `E` must be the event type of the middleware's provider, for instance
/// `webhook_guard::parallel::Event`. The delivery is moved out of the request, so extract it
/// once per handler; use [`WebhookMeta`] for the metadata alone.
///
/// Take `Result<Webhook<E>, MissingDelivery>` to handle a missing middleware yourself.
#[derive(Debug, Clone)]
pub struct Webhook<E>(pub Delivery<E>);

/// Extracts the [`DeliveryMeta`] of the verified delivery (provider, delivery id, event type,
/// how it was authenticated). Can be extracted any number of times.
#[derive(Debug, Clone)]
pub struct WebhookMeta(pub DeliveryMeta);

/// The error of [`Webhook`] and [`WebhookMeta`]: the resource has no
/// [`WebhookGuard`](crate::WebhookGuard) for this event type, or the delivery was already
/// extracted. A programming error: answered 500, logged at error level.
pub struct MissingDelivery {
    wanted: &'static str,
}

impl MissingDelivery {
    /// What the handler asked for.
    #[must_use]
    pub fn wanted(&self) -> &'static str {
        self.wanted
    }
}

impl fmt::Debug for MissingDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MissingDelivery")
            .field("wanted", &self.wanted)
            .finish()
    }
}

impl fmt::Display for MissingDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no {} in the request: wrap the resource in a WebhookGuard whose provider has this \
             event type, and extract the delivery only once",
            self.wanted
        )
    }
}

impl std::error::Error for MissingDelivery {}

impl ResponseError for MissingDelivery {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self, "webhook handler misconfigured");
        HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body("webhook receiver misconfigured")
    }
}

impl<E: Event + 'static> FromRequest for Webhook<E> {
    type Error = MissingDelivery;
    type Future = Ready<Result<Self, MissingDelivery>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions_mut()
                .remove::<Delivery<E>>()
                .map(Webhook)
                .ok_or(MissingDelivery {
                    wanted: std::any::type_name::<Delivery<E>>(),
                }),
        )
    }
}

impl FromRequest for WebhookMeta {
    type Error = MissingDelivery;
    type Future = Ready<Result<Self, MissingDelivery>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<DeliveryMeta>()
                .cloned()
                .map(WebhookMeta)
                .ok_or(MissingDelivery {
                    wanted: "DeliveryMeta",
                }),
        )
    }
}
