//! Any provider behind one type: what tools, the CLI and the catalogue hold.

use std::sync::Arc;

use crate::{
    VerifyError,
    event::{ParseError, WebhookEvent},
    headers::Headers,
    provider::{Authenticator, Authenticity, DeliveryId, DeliveryIdRule, Provider},
};

/// An event of any provider, shared: what an [`AnyProvider`] parses into.
pub type AnyEvent = Arc<dyn WebhookEvent>;

/// A [`Provider`] whose event type is erased: object safe, so one `Arc<dyn AnyProvider>` can
/// hold any provider. Every [`Provider`] is one.
///
/// `Arc<dyn AnyProvider>` is itself a [`Provider`] (its events are [`AnyEvent`]s), so a
/// [`Receiver`](crate::Receiver) can be built for a provider chosen at run time, as the CLI's
/// demo does for every provider of the catalogue (`webhook_guard::catalog`, feature
/// `fixtures`).
///
/// ```
/// use std::sync::Arc;
/// use webhook_guard::{parseflow::ParseFlow, provider::{AnyProvider, Provider}};
///
/// let provider: Arc<dyn AnyProvider> = Arc::new(ParseFlow::new("whsec_AbCdEfGhIjKl")?);
/// let body = br#"{"event":"quota.warning","timestamp":"2025-01-15T10:30:00Z","data":{}}"#;
/// let event = provider.parse(&[("x", "")], body)?;
/// assert_eq!(event.event_type(), "quota.warning");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait AnyProvider: Authenticator {
    /// [`Provider::parse`], the event boxed.
    ///
    /// # Errors
    /// As [`Provider::parse`].
    fn parse_any(&self, headers: &dyn Headers, body: &[u8]) -> Result<AnyEvent, ParseError>;
}

impl<P: Provider> AnyProvider for P {
    fn parse_any(&self, headers: &dyn Headers, body: &[u8]) -> Result<AnyEvent, ParseError> {
        Ok(Arc::new(self.parse(headers, body)?))
    }
}

impl WebhookEvent for AnyEvent {
    fn event_type(&self) -> &str {
        (**self).event_type()
    }

    fn is_known(&self) -> bool {
        (**self).is_known()
    }
}

impl Authenticator for Arc<dyn AnyProvider> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError> {
        (**self).authenticate(headers, body, now)
    }

    fn delivery_id_rule(&self) -> &DeliveryIdRule {
        (**self).delivery_id_rule()
    }

    fn dedup_id_rule(&self) -> Option<&DeliveryIdRule> {
        (**self).dedup_id_rule()
    }

    fn delivery_id(&self, headers: &dyn Headers, body: &[u8]) -> Result<DeliveryId, ParseError> {
        (**self).delivery_id(headers, body)
    }

    fn dedup_id(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        delivery_id: &DeliveryId,
    ) -> Result<DeliveryId, ParseError> {
        (**self).dedup_id(headers, body, delivery_id)
    }
}

impl Provider for Arc<dyn AnyProvider> {
    type Event = AnyEvent;

    fn parse(&self, headers: &dyn Headers, body: &[u8]) -> Result<AnyEvent, ParseError> {
        (**self).parse_any(headers, body)
    }
}
