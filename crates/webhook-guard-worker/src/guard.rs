//! [`guard`]: one request of a Worker through the core, its handler run once.

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::Frame;
use http_body_util::{Either, Empty, StreamBody};
use tracing::Instrument as _;
use webhook_guard::{
    Delivery, Provider, Receiver, Rejection,
    adapter::{self, Accepted},
};
use worker::{Headers, Request, Response};

use crate::runtime::WORKERS;

/// Runs `request` through `receiver` and, for a delivery that is authentic, new and parses,
/// `handler` with the typed [`Delivery`]; answers every other request itself, with the same
/// statuses, headers and texts as the other adapters (401 for a bad or stale signature, 200
/// with `webhook-guard-duplicate: true` for a copy of a handled delivery, 409 while a copy is
/// being handled, 413 past the body limit, 400 for a body that does not parse, 503 when the
/// dedup store fails).
///
/// The handler's status settles the claim: 2xx marks the delivery done, anything else
/// releases it so the sender's retry runs the handler again. A handler's `Err` releases the
/// claim and is returned as it is (the Workers runtime answers it 500).
///
/// ```no_run
/// # #![allow(dead_code)]
/// use webhook_guard::{Receiver, parallel::Parallel};
/// use worker::{Request, Response, Result};
///
/// pub async fn webhook(receiver: &Receiver<Parallel>, request: Request) -> Result<Response> {
///     webhook_guard_worker::guard(receiver, request, async |delivery| {
///         // `delivery.event` is the typed event; the body is kept as it came.
///         worker::console_log!("{} {}", delivery.meta.event_type, delivery.meta.delivery_id);
///         Response::empty().map(|response| response.with_status(204))
///     })
///     .await
/// }
/// ```
///
/// # Errors
/// The handler's error, after its claim was released.
pub async fn guard<P: Provider>(
    receiver: &Receiver<P>,
    mut request: Request,
    handler: impl AsyncFnOnce(Delivery<P::Event>) -> worker::Result<Response>,
) -> worker::Result<Response> {
    let span = adapter::span(receiver);
    async move {
        let headers = header_map(request.headers());
        let body = match request.stream() {
            Ok(stream) => Either::Left(StreamBody::new(
                stream.map(|chunk| chunk.map(|bytes| Frame::data(Bytes::from(bytes)))),
            )),
            // A request without a body (a GET, say) is read as an empty one.
            Err(_) => Either::Right(Empty::<Bytes>::new()),
        };
        let sleep = worker::Delay::from;
        let accepted = match adapter::read_body(receiver, &headers, body, sleep).await {
            Ok(body) => adapter::accept(receiver, &headers, body, WORKERS).await,
            Err(rejection) => Err(rejection),
        };
        let Accepted {
            delivery, claim, ..
        } = match accepted {
            Ok(accepted) => accepted,
            Err(rejection) => return answer(&rejection),
        };
        match claim.renewing(handler(delivery)).await {
            Ok(response) => {
                let status = StatusCode::from_u16(response.status_code())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                match claim.finish(status).await {
                    Ok(()) => Ok(response),
                    // The store did not take the handler's answer: its 2xx is not sent.
                    Err(rejection) => answer(&rejection),
                }
            }
            Err(error) => {
                // A release never changes the answer.
                let _ = claim.release().await;
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}

/// The request's headers for the core. A Worker's headers are already valid HTTP (the
/// runtime refuses others), so nothing is dropped in practice; one that did not convert
/// would be left out, as if absent.
fn header_map(headers: &Headers) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers.entries() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// The core's rejection as the Worker's response.
fn answer(rejection: &Rejection) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &rejection.headers() {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    Ok(Response::ok(rejection.body().into_owned())?
        .with_status(rejection.status().as_u16())
        .with_headers(headers))
}
