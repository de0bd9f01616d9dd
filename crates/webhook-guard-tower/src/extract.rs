//! axum extractors for guarded handlers (feature `axum`).

use std::fmt;

use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    response::{IntoResponse, Response},
};
use webhook_guard::{Delivery, DeliveryMeta, Event};

/// Extracts the verified [`Delivery`] (typed event, metadata, raw body) that
/// [`WebhookGuardLayer`](crate::WebhookGuardLayer) put in the request.
///
/// `E` must be the event type of the layer's provider, for instance
/// `webhook_guard::parallel::Event`. The delivery is moved out of the request, so extract it
/// once per handler; use [`WebhookMeta`] for the metadata alone.
///
/// Wrap it in `Result<Webhook<E>, MissingDelivery>` to handle a missing layer yourself.
#[derive(Debug, Clone)]
pub struct Webhook<E>(pub Delivery<E>);

/// Extracts the [`DeliveryMeta`] of the verified delivery (provider, delivery id, event type,
/// how it was authenticated). Can be extracted any number of times.
#[derive(Debug, Clone)]
pub struct WebhookMeta(pub DeliveryMeta);

/// The rejection of [`Webhook`] and [`WebhookMeta`]: the route has no
/// [`WebhookGuardLayer`](crate::WebhookGuardLayer) for this event type, or the delivery was
/// already extracted. A programming error: answered 500, logged at error level.
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
            "no {} in the request: add a WebhookGuardLayer whose provider has this event type \
             to the route, and extract the delivery only once",
            self.wanted
        )
    }
}

impl std::error::Error for MissingDelivery {}

impl IntoResponse for MissingDelivery {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "webhook handler misconfigured");
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "webhook receiver misconfigured",
        )
            .into_response()
    }
}

impl<E, S> FromRequestParts<S> for Webhook<E>
where
    E: Event + Clone,
    S: Send + Sync,
{
    type Rejection = MissingDelivery;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .remove::<Delivery<E>>()
            .map(Webhook)
            .ok_or(MissingDelivery {
                wanted: std::any::type_name::<Delivery<E>>(),
            })
    }
}

impl<S> FromRequestParts<S> for WebhookMeta
where
    S: Send + Sync,
{
    type Rejection = MissingDelivery;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<DeliveryMeta>()
            .cloned()
            .map(WebhookMeta)
            .ok_or(MissingDelivery {
                wanted: "DeliveryMeta",
            })
    }
}
