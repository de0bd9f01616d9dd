//! [`WebhookGuard`] and [`WebhookGuardMiddleware`].

use std::{
    future::{Future, Ready, ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    Error, HttpMessage as _,
    body::MessageBody,
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
};
use tracing::Instrument as _;
use webhook_guard::{
    Delivery, Provider, Receiver, Rejection,
    receiver::{Outcome, SettleFuture},
};

use crate::{ActixHeaders, DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, WebhookRejection, body};

/// Middleware that verifies, deduplicates and parses each request with a [`Receiver`] before
/// the wrapped service sees it; see the [crate docs](crate).
///
/// Wrap a resource (or a scope) whose requests all come from one provider:
/// `web::resource("/webhooks/parallel").wrap(WebhookGuard::new(receiver))`.
#[derive(Debug)]
pub struct WebhookGuard<P> {
    config: Rc<Config<P>>,
}

/// What a middleware and the services it builds share.
#[derive(Debug)]
struct Config<P> {
    receiver: Receiver<P>,
    body_limit: usize,
    body_timeout: std::time::Duration,
}

impl<P: Provider> WebhookGuard<P> {
    /// Middleware for `receiver`, with a body limit of 5 MiB and a body timeout of 30 s.
    #[must_use]
    pub fn new(receiver: Receiver<P>) -> Self {
        Self {
            config: Rc::new(Config {
                receiver,
                body_limit: DEFAULT_BODY_LIMIT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
            }),
        }
    }

    /// The largest accepted body, in bytes (default 5 MiB). Larger ones get 413.
    #[must_use]
    pub fn body_limit(self, bytes: usize) -> Self {
        Self {
            config: Rc::new(Config {
                receiver: self.config.receiver.clone(),
                body_limit: bytes,
                body_timeout: self.config.body_timeout,
            }),
        }
    }

    /// How long the whole body may take to arrive once the headers are in (default 30 s).
    /// A slower sender gets 408, so a client trickling its body cannot hold a connection
    /// and a buffer for long.
    #[must_use]
    pub fn body_timeout(self, timeout: std::time::Duration) -> Self {
        Self {
            config: Rc::new(Config {
                receiver: self.config.receiver.clone(),
                body_limit: self.config.body_limit,
                body_timeout: timeout,
            }),
        }
    }
}

impl<P> Clone for WebhookGuard<P> {
    fn clone(&self) -> Self {
        Self {
            config: Rc::clone(&self.config),
        }
    }
}

impl<S, B, P> Transform<S, ServiceRequest> for WebhookGuard<P>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    P: Provider + 'static,
    P::Event: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = WebhookGuardMiddleware<S, P>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WebhookGuardMiddleware {
            service: Rc::new(service),
            config: Rc::clone(&self.config),
        }))
    }
}

/// The service [`WebhookGuard`] wraps around the resource's service.
#[derive(Debug)]
pub struct WebhookGuardMiddleware<S, P> {
    service: Rc<S>,
    config: Rc<Config<P>>,
}

/// The response future of [`WebhookGuardMiddleware`].
type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B, P> Service<ServiceRequest> for WebhookGuardMiddleware<S, P>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    P: Provider + 'static,
    P::Event: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalFuture<Result<ServiceResponse<B>, Error>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let config = Rc::clone(&self.config);
        let span = config.receiver.span();
        let future = async move {
            let receiver = &config.receiver;
            let provider = Arc::clone(receiver.provider_name());
            let mut payload = request.take_payload();
            let read = body::read(request.headers(), &mut payload, config.body_limit);
            let bytes = match tokio::time::timeout(config.body_timeout, read).await {
                Ok(Ok(bytes)) => bytes,
                result => {
                    let rejection = match result {
                        Err(_) => Rejection::body_timeout(config.body_timeout),
                        Ok(Err(body::ReadError::TooLarge)) => {
                            Rejection::payload_too_large(config.body_limit as u64)
                        }
                        Ok(_) => Rejection::unreadable_body(),
                    };
                    tracing::debug!(reason = %rejection, "webhook rejected");
                    return Err(reject(rejection, &provider));
                }
            };
            drop(payload);
            let accepted = match receiver
                .receive(&ActixHeaders(request.headers()), bytes.clone())
                .await
            {
                Ok(accepted) => accepted,
                Err(rejection) => return Err(reject(rejection, &provider)),
            };
            let guard = accepted
                .ticket
                .release_on_drop(spawn_release)
                .recording_outcome_for(Arc::clone(&provider));
            let delivery: Delivery<P::Event> = accepted.delivery;
            request.extensions_mut().insert(delivery.meta.clone());
            request.extensions_mut().insert(delivery);
            request.set_payload(body::replay(bytes));

            let result = service.call(request).await;
            // A handler's error is usually already a response here; an error that reaches
            // this middleware is answered with its own status, so it is settled by that.
            let code = match &result {
                Ok(response) => response.status(),
                Err(error) => error.as_response_error().status_code(),
            };
            if let Err(error) = guard.settle(code.as_u16()).await {
                tracing::warn!(%error, "could not settle the claim");
            }
            let outcome = if code.is_success() {
                Outcome::Processed
            } else {
                Outcome::HandlerFailed
            };
            outcome.record(&provider);
            result
        };
        Box::pin(future.instrument(span))
    }
}

/// Records the rejection's outcome and turns it into the actix error that answers it.
fn reject(rejection: Rejection, provider: &str) -> Error {
    rejection.outcome().record(provider);
    WebhookRejection(rejection).into()
}

/// Runs a release that could not finish at once on the current Tokio runtime (actix-web's
/// workers run on Tokio).
fn spawn_release(release: SettleFuture) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                if let Err(error) = release.await {
                    tracing::warn!(%error, "could not release a claim; it expires with its lease");
                }
            });
        }
        Err(_) => tracing::warn!("no Tokio runtime to release a claim; it expires with its lease"),
    }
}
