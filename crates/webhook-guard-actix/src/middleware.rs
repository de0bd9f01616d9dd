//! [`WebhookGuard`] and [`WebhookGuardMiddleware`].

use std::{
    future::{Future, Ready, ready},
    pin::Pin,
    rc::Rc,
};

use actix_web::{
    Error, HttpMessage as _, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::StatusCode,
};
use tracing::Instrument as _;
use webhook_guard::{
    Provider, Receiver, Rejection,
    adapter::{self, Accepted, ClaimGuard, Runtime},
};

use crate::{ActixHeaders, body};

/// Middleware that hands each request to a [`Receiver`](https://docs.rs/webhook-guard/latest/webhook_guard/struct.Receiver.html) (which reads, verifies, deduplicates
/// and parses it) before the wrapped service sees it; see the [crate docs](crate).
///
/// Wrap a resource (or a scope) whose requests all come from one provider:
/// `web::resource("/webhooks/parallel").wrap(WebhookGuard::new(receiver))`. Rejections are
/// responses (`EitherBody::Right`), so middleware wrapped around this one sees them.
#[derive(Debug)]
pub struct WebhookGuard<P> {
    receiver: Receiver<P>,
}

impl<P: Provider> WebhookGuard<P> {
    /// Middleware for `receiver`, which holds the body limit and read timeout.
    #[must_use]
    pub fn new(receiver: Receiver<P>) -> Self {
        Self { receiver }
    }
}

impl<P> Clone for WebhookGuard<P> {
    fn clone(&self) -> Self {
        Self {
            receiver: self.receiver.clone(),
        }
    }
}

impl<S, B, P> Transform<S, ServiceRequest> for WebhookGuard<P>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    P: Provider + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = WebhookGuardMiddleware<S, P>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WebhookGuardMiddleware {
            service: Rc::new(service),
            receiver: self.receiver.clone(),
        }))
    }
}

/// The service [`WebhookGuard`] wraps around the resource's service.
#[derive(Debug)]
pub struct WebhookGuardMiddleware<S, P> {
    service: Rc<S>,
    receiver: Receiver<P>,
}

/// actix-web 4 speaks `http` 0.2, the core `http` 1: both take every code from 100 to 999, so
/// neither conversion can fail.
fn to_core(status: StatusCode) -> http::StatusCode {
    http::StatusCode::from_u16(status.as_u16()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}

fn answer(rejection: &Rejection) -> HttpResponse {
    let status = StatusCode::from_u16(rejection.status().as_u16());
    let mut response = HttpResponse::build(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &rejection.headers() {
        response.insert_header((name.as_str(), value.as_bytes()));
    }
    response.body(rejection.body())
}

/// Puts the delivery in the request; a function of its own, so the accepted delivery does not
/// stay in the response future.
fn into_request<E: 'static>(request: &mut ServiceRequest, accepted: Accepted<E>) -> ClaimGuard {
    let Accepted {
        delivery, claim, ..
    } = accepted;
    request.set_payload(body::replay(delivery.body.clone()));
    request.extensions_mut().insert(delivery.meta.clone());
    request.extensions_mut().insert(delivery);
    if let Some(transaction) = claim.transaction() {
        request.extensions_mut().insert(transaction);
    }
    claim
}

/// The worker's runtime (actix-web's workers run on Tokio), for the store calls that outlive
/// a request; renewals on the core's background thread, which a blocked worker cannot hold up.
const WORKER: Runtime = Runtime::TOKIO;

impl<S, B, P> Service<ServiceRequest> for WebhookGuardMiddleware<S, P>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    P: Provider + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Error>>>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let receiver = self.receiver.clone();
        let span = adapter::span(&receiver);
        let future = async move {
            let payload = body::Chunks(request.take_payload());
            let sleep = actix_web::rt::time::sleep;
            let headers = ActixHeaders(request.headers());
            let accepted = match adapter::read_body(&receiver, &headers, payload, sleep).await {
                Ok(body) => adapter::accept(&receiver, &headers, body, WORKER).await,
                Err(rejection) => Err(rejection),
            };
            let claim = match accepted.map(|accepted| into_request(&mut request, accepted)) {
                Ok(claim) => claim,
                Err(rejection) => {
                    let response = request.into_response(answer(&rejection));
                    return Ok(response.map_into_right_body());
                }
            };
            match claim.renewing(service.call(request)).await {
                Ok(response) => match claim.finish(to_core(response.status())).await {
                    Ok(()) => Ok(response.map_into_left_body()),
                    // The transaction did not commit: the handler's 2xx is not sent.
                    Err(rejection) => Ok(response
                        .into_response(answer(&rejection))
                        .map_into_right_body()),
                },
                // An error that reaches this middleware is answered with its own status.
                Err(error) => {
                    let status = to_core(error.as_response_error().status_code());
                    match claim.finish(status).await {
                        Ok(()) => Err(error),
                        Err(rejection) => Err(actix_web::error::InternalError::from_response(
                            rejection.body(),
                            answer(&rejection),
                        )
                        .into()),
                    }
                }
            }
        };
        Box::pin(future.instrument(span))
    }
}
