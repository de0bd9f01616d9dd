//! A worker's route: how entries of one receiver's provider and endpoint become typed
//! deliveries for their handler.

use std::{future::Future, pin::Pin, sync::Arc};

use super::{attempt::Attempt, entry::ClaimedEntry, retry::Verdict};
use crate::{
    Delivery, DeliveryMeta, ParseError, Provider, Receiver, WebhookEvent,
    provider::Authenticity,
    scheme::{KeyForm, Verified},
};

/// The future of one handler run.
pub(super) type Run = Pin<Box<dyn Future<Output = Verdict> + Send>>;

/// Parses a claimed entry and starts its handler.
pub(super) trait Route: Send + Sync {
    /// The handler's future, or why the stored delivery cannot be parsed (it was parsed when
    /// it was stored: only a provider changed since can make it fail).
    fn start(&self, entry: &ClaimedEntry, attempt: Attempt) -> Result<Run, ParseError>;
}

/// A receiver's provider and a handler.
pub(super) struct Typed<P, H> {
    pub(super) receiver: Receiver<P>,
    pub(super) handler: Arc<H>,
}

impl<P, H, F, R> Route for Typed<P, H>
where
    P: Provider,
    H: Fn(Delivery<P::Event>, Attempt) -> F + Send + Sync + 'static,
    F: Future<Output = R> + Send + 'static,
    R: Into<Verdict>,
{
    fn start(&self, entry: &ClaimedEntry, attempt: Attempt) -> Result<Run, ParseError> {
        let provider = self.receiver.provider();
        let (headers, body) = (&entry.headers, &entry.body[..]);
        let delivery_id = provider.delivery_id(headers, body)?;
        let event = provider.parse(headers, body)?;
        let authenticity = match entry.signed_by {
            // The key's form is not stored: what matters to a handler is that a key verified it.
            Some(index) => {
                Authenticity::Signed(Verified::new(usize::from(index), KeyForm::Raw, None))
            }
            None => Authenticity::UnsignedAllowed,
        };
        let meta = DeliveryMeta {
            provider: Arc::clone(self.receiver.provider_name()),
            endpoint: Arc::clone(self.receiver.endpoint()),
            delivery_id,
            event_type: event.event_type().to_owned(),
            known: event.is_known(),
            authenticity,
            deduplicated: true,
        };
        let delivery = Delivery {
            event,
            meta,
            body: entry.body.clone(),
        };
        let run = (self.handler)(delivery, attempt);
        Ok(Box::pin(async move { run.await.into() }))
    }
}
