//! [`MissingDelivery`]: a handler asked for a delivery that is not in its request.

use std::fmt;

use http::StatusCode;

use super::{Delivery, DeliveryMeta};

/// The rejection of the adapters' `Webhook<E>` and `WebhookMeta` extractors: the request went
/// through no webhook guard whose provider has this event type, or the delivery was already
/// extracted. A programming error, not the sender's: answered 500 with a short text, logged at
/// error level with the explanation.
///
/// ```
/// use webhook_guard::{MissingDelivery, parallel};
///
/// let missing = MissingDelivery::delivery::<parallel::Event>();
/// assert_eq!(missing.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
/// assert!(missing.to_string().contains("webhook_guard::parallel::event::Event"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDelivery {
    wanted: &'static str,
}

impl MissingDelivery {
    /// No [`Delivery<E>`](Delivery) in the request.
    #[must_use]
    pub fn delivery<E>() -> Self {
        Self {
            wanted: std::any::type_name::<Delivery<E>>(),
        }
    }

    /// No [`DeliveryMeta`] in the request.
    #[must_use]
    pub fn meta() -> Self {
        Self {
            wanted: std::any::type_name::<DeliveryMeta>(),
        }
    }

    /// What the handler asked for (a type name).
    #[must_use]
    pub fn wanted(&self) -> &'static str {
        self.wanted
    }

    /// 500: the receiver is misconfigured.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The answer's body, which says nothing about the application.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        "webhook receiver misconfigured"
    }

    /// Logs the explanation at error level; adapters call it when they answer.
    pub fn log(&self) {
        tracing::error!(error = %self, "webhook handler misconfigured");
    }
}

impl fmt::Display for MissingDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no {} in the request: put the webhook guard (tower layer or actix middleware) of a \
             provider with this event type in front of the handler, and extract the delivery \
             only once",
            self.wanted
        )
    }
}

impl std::error::Error for MissingDelivery {}
