//! [`WebhookGuard`].

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Either, Full};
use tower_service::Service;
use tracing::Instrument as _;
use webhook_guard::{
    Receiver, Rejection,
    adapter::{self, Accepted, ClaimGuard, Runtime},
};

/// The body of a guarded service's responses: the inner service's, or a rejection's text.
pub type GuardBody<B> = Either<B, Full<Bytes>>;

/// Hands each request to a [`Receiver`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.Receiver.html), then calls the inner service with the raw body and
/// the [`Delivery`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.Delivery.html) in the request extensions. See the
/// [crate docs](crate).
#[derive(Debug)]
pub struct WebhookGuard<S, P> {
    inner: S,
    receiver: Receiver<P>,
}

impl<S, P> WebhookGuard<S, P> {
    /// Wraps `inner`.
    pub fn new(inner: S, receiver: Receiver<P>) -> Self {
        Self { inner, receiver }
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
        Self::new(self.inner.clone(), self.receiver.clone())
    }
}

/// The response future of [`WebhookGuard`]: boxed, as an `async` block cannot be named.
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

fn answer<B>(rejection: &Rejection) -> Response<GuardBody<B>> {
    let text = match rejection.body() {
        std::borrow::Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
        std::borrow::Cow::Owned(text) => Bytes::from(text),
    };
    let mut response = Response::new(Either::Right(Full::new(text)));
    *response.status_mut() = rejection.status();
    *response.headers_mut() = rejection.headers();
    response
}

/// A function of its own, so the accepted delivery does not stay in the response future.
fn into_request<E: Clone + Send + Sync + 'static>(
    parts: http::request::Parts,
    accepted: Accepted<E>,
) -> (Request<Full<Bytes>>, ClaimGuard) {
    let Accepted {
        delivery, claim, ..
    } = accepted;
    let mut request = Request::from_parts(parts, Full::new(delivery.body.clone()));
    request.extensions_mut().insert(delivery.meta.clone());
    request.extensions_mut().insert(delivery);
    if let Some(transaction) = claim.transaction() {
        request.extensions_mut().insert(transaction);
    }
    (request, claim)
}

/// The current Tokio runtime, for the store calls that outlive a request; renewals on the
/// core's background thread.
const TOKIO: Runtime = Runtime::TOKIO;

impl<S, P, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookGuard<S, P>
where
    P: webhook_guard::Provider,
    P::Event: Clone,
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
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
        let span = adapter::span(&receiver);
        // Split here, not in the block, which would keep both the request and its parts; and
        // the parts boxed, as a captured value stays in every state of the future (keeping it
        // under 1 KiB: see `tests/sizes.rs`).
        let (parts, body) = request.into_parts();
        let parts = Box::new(parts);
        let future = async move {
            let sleep = tokio::time::sleep;
            let accepted = match adapter::read_body(&receiver, &parts.headers, body, sleep).await {
                Ok(body) => adapter::accept(&receiver, &parts.headers, body, TOKIO).await,
                Err(rejection) => Err(rejection),
            };
            let (request, claim) = match accepted.map(|accepted| into_request(*parts, accepted)) {
                Ok(ready) => ready,
                Err(rejection) => return Ok(answer(&rejection)),
            };
            match claim.renewing(inner.call(request)).await {
                Ok(response) => match claim.finish(response.status()).await {
                    Ok(()) => Ok(response.map(Either::Left)),
                    // The transaction did not commit: the handler's 2xx is not sent.
                    Err(rejection) => Ok(answer(&rejection)),
                },
                Err(error) => {
                    // A release never fails the answer.
                    let _ = claim.release().await;
                    Err(error)
                }
            }
        };
        Box::pin(future.instrument(span))
    }
}
