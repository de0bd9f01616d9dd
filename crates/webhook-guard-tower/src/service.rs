//! [`WebhookGuard`].

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use tower_service::Service;
use tracing::Instrument;
use webhook_guard::{
    Provider, Receiver, Rejection,
    receiver::{Outcome, SettleFuture},
};

use crate::{Config, ResponseFuture, body};

/// The body of a guarded service's responses: the inner service's, or a rejection's text.
pub type GuardBody<B> = Either<B, Full<Bytes>>;

/// Verifies, deduplicates and parses each request with a [`Receiver`], then calls the inner
/// service with the raw body and the [`Delivery`](webhook_guard::Delivery) in the request
/// extensions. See the [crate docs](crate).
#[derive(Debug)]
pub struct WebhookGuard<S, P> {
    inner: S,
    receiver: Receiver<P>,
    config: Arc<Config>,
}

impl<S, P: Provider> WebhookGuard<S, P> {
    /// Wraps `inner`, with a body limit of 5 MiB.
    pub fn new(inner: S, receiver: Receiver<P>) -> Self {
        Self::from_parts(inner, receiver, Arc::new(Config::default()))
    }

    /// A [`WebhookGuardLayer`](crate::WebhookGuardLayer) for `receiver`.
    pub fn layer(receiver: Receiver<P>) -> crate::WebhookGuardLayer<P> {
        crate::WebhookGuardLayer::new(receiver)
    }
}

impl<S, P> WebhookGuard<S, P> {
    pub(crate) fn from_parts(inner: S, receiver: Receiver<P>, config: Arc<Config>) -> Self {
        Self {
            inner,
            receiver,
            config,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, P> Clone for WebhookGuard<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            receiver: self.receiver.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

/// The answer to a rejected delivery: the same status, headers and text on every adapter.
pub(crate) fn rejection_response<B>(rejection: &Rejection) -> Response<GuardBody<B>> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from_static(
        rejection.public_message().as_bytes(),
    ))));
    *response.status_mut() =
        StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    for (name, value) in rejection.headers() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// The request for the inner service, with the delivery in its extensions, and the guard of
/// the delivery's claim. A function of its own so the accepted delivery does not stay in the
/// response future's state.
fn into_request<E: Clone + Send + Sync + 'static>(
    parts: http::request::Parts,
    bytes: Bytes,
    accepted: webhook_guard::receiver::Accepted<E>,
    provider: &Arc<str>,
) -> (Request<Full<Bytes>>, webhook_guard::receiver::ReleaseOnDrop) {
    let guard = accepted
        .ticket
        .release_on_drop(spawn_release)
        .recording_outcome_for(Arc::clone(provider));
    let mut request = Request::from_parts(parts, Full::new(bytes));
    request
        .extensions_mut()
        .insert(accepted.delivery.meta.clone());
    request.extensions_mut().insert(accepted.delivery);
    (request, guard)
}

/// Runs a release that could not finish at once on the current Tokio runtime.
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

impl<S, P, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookGuard<S, P>
where
    P: Provider,
    P::Event: Clone,
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Send + 'static,
{
    type Response = Response<GuardBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready handles this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let receiver = self.receiver.clone();
        let limit = self.config.body_limit;
        let timeout = self.config.body_timeout;
        let span = receiver.span();
        let future = async move {
            let provider = Arc::clone(receiver.provider_name());
            let (parts, body) = request.into_parts();
            // The sub-futures are boxed so that this future stays under 1 KiB (it was 3 KB),
            // within the allocator's small-object caches.
            let read = Box::pin(body::read(&parts.headers, body, limit));
            let bytes = match tokio::time::timeout(timeout, read).await {
                Ok(Ok(bytes)) => bytes,
                result => {
                    let rejection = match result {
                        Err(_) => Rejection::body_timeout(timeout),
                        Ok(Err(body::ReadError::TooLarge)) => {
                            Rejection::payload_too_large(limit as u64)
                        }
                        Ok(_) => Rejection::unreadable_body(),
                    };
                    tracing::debug!(reason = %rejection, "webhook rejected");
                    rejection.outcome().record(&provider);
                    return Ok(rejection_response(&rejection));
                }
            };
            let accepted = match Box::pin(receiver.receive(&parts.headers, bytes.clone())).await {
                Ok(accepted) => accepted,
                Err(rejection) => {
                    rejection.outcome().record(&provider);
                    return Ok(rejection_response(&rejection));
                }
            };
            let (request, guard) = into_request(parts, bytes, accepted, &provider);
            let response = match Box::pin(inner.call(request)).await {
                Ok(response) => response,
                Err(error) => {
                    // Any non-2xx status releases the claim.
                    if let Err(store_error) = Box::pin(guard.settle(500)).await {
                        tracing::warn!(%store_error, "could not release the claim");
                    }
                    Outcome::HandlerFailed.record(&provider);
                    return Err(error);
                }
            };
            let status = response.status().as_u16();
            if let Err(error) = Box::pin(guard.settle(status)).await {
                tracing::warn!(%error, "could not settle the claim");
            }
            let outcome = if response.status().is_success() {
                Outcome::Processed
            } else {
                Outcome::HandlerFailed
            };
            outcome.record(&provider);
            Ok(response.map(Either::Left))
        };
        ResponseFuture {
            inner: Box::pin(future.instrument(span)),
        }
    }
}
