//! For authors of framework adapters: what `webhook-guard-tower` and `webhook-guard-actix` are
//! built from. Applications do not need this module; they use an adapter.
//!
//! The core owns the whole life of a delivery: the body limit and read timeout, the one body
//! buffer, verification, deduplication, parsing, every rejection's answer, logging and
//! metrics, and the claim that the handler's status finishes. An adapter translates, nothing
//! more:
//!
//! | the framework's | becomes, for the core |
//! |---|---|
//! | request headers | a [`Headers`] (implemented for `http::HeaderMap`) |
//! | request body | an [`http_body::Body`], read by [`read_body`] into the core's buffer |
//! | timer | the `sleep` function of [`read_body`] (`tokio::time::sleep`) |
//! | spawn and timer | a [`Runtime`]: the store calls that outlive a request, the claim's renewals |
//!
//! | the core's | becomes, for the framework |
//! |---|---|
//! | [`Rejection`] | a response: [`status`](Rejection::status), [`headers`](Rejection::headers), [`public_message`](Rejection::public_message) as the body |
//! | [`Accepted::delivery`] | the [`Delivery`](crate::Delivery) and its [`DeliveryMeta`](crate::DeliveryMeta) in the request's extensions |
//! | [`Accepted::claim`] | renewed while the handler runs ([`ClaimGuard::renewing`]), finished with the handler's status ([`ClaimGuard::finish`]: its `Err` is answered instead of the handler's response), released on an error without one; dropped with the response future otherwise |
//! | [`ClaimGuard::transaction`] | with a transactional store, a [`TransactionHandle`](crate::dedup::TransactionHandle) in the request's extensions, for the store's extractor |
//! | [`MissingDelivery`](crate::MissingDelivery) | the extractors' rejection, with its status and text |
//!
//! # Writing an adapter
//!
//! The whole middleware, here for a framework whose body is already whole (a serverless event,
//! say: a `String` is an `http_body::Body`), is this; hyper, axum and every tower service
//! already speak `http_body::Body`, and a framework with a body of its own wraps it in one.
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use webhook_guard::{Delivery, Provider, Receiver, adapter};
//!
//! /// Runs `handler` behind the guard: the handler gets the typed delivery and answers a status.
//! async fn guarded<P: Provider>(
//!     receiver: &Receiver<P>,
//!     request: Request<String>,
//!     handler: impl AsyncFnOnce(Delivery<P::Event>) -> StatusCode,
//! ) -> Response<String> {
//!     let (parts, body) = request.into_parts();
//!     // A real adapter passes its runtime's timer and spawn (see `Runtime`).
//!     let sleep = |_| std::future::pending();
//!     let runtime = adapter::Runtime {
//!         spawn: |task| drop(task),
//!         background: |task| drop(task),
//!         sleep: |_| Box::pin(std::future::pending()),
//!     };
//!     let accepted = match adapter::read_body(receiver, &parts.headers, body, sleep).await {
//!         Ok(body) => adapter::accept(receiver, &parts.headers, body, runtime).await,
//!         Err(rejection) => Err(rejection),
//!     };
//!     match accepted {
//!         Ok(accepted) => {
//!             // The claim is renewed while the handler runs.
//!             let status = accepted.claim.renewing(handler(accepted.delivery)).await;
//!             // A transaction that did not commit turns the answer into a 503.
//!             if let Err(rejection) = accepted.claim.finish(status).await {
//!                 return refuse(&rejection);
//!             }
//!             let mut response = Response::new(String::new());
//!             *response.status_mut() = status;
//!             response
//!         }
//!         Err(rejection) => refuse(&rejection),
//!     }
//! }
//!
//! /// A rejection as a response: its status, headers and public message.
//! fn refuse(rejection: &webhook_guard::Rejection) -> Response<String> {
//!     let mut response = Response::new(rejection.public_message().to_owned());
//!     *response.status_mut() = rejection.status();
//!     *response.headers_mut() = rejection.headers();
//!     response
//! }
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # let parallel = webhook_guard::parallel::Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! # let now = webhook_guard::scheme::unix_now();
//! # let body = br#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z","data":{"monitor_id":"m","event":{"event_group_id":"g"}}}"#;
//! # let mut request = Request::new(String::from_utf8(body.to_vec()).unwrap());
//! # *request.headers_mut() = parallel.sign_headers("whevent_1", now, body).expect("signs").to_header_map();
//! # let receiver = Receiver::new(parallel).unwrap();
//! # let response = block_on(guarded(&receiver, request, async |delivery| {
//! #     assert_eq!(delivery.meta.event_type, "monitor.event.detected");
//! #     StatusCode::NO_CONTENT
//! # }));
//! # assert_eq!(response.status(), StatusCode::NO_CONTENT);
//! ```
//!
//! A real adapter also runs the whole future in [`span`], and makes sure a dropped request
//! drops the [`ClaimGuard`] (which releases the claim through the [`Runtime`]).

use std::future::Future;

pub use crate::receiver::{
    Accepted,
    body::{BUDGET_WAIT, BodyBuffer, MAX_GROWTH_STEP, MAX_UPFRONT_RESERVATION, ReadBody},
    claim::{ClaimGuard, Renewing},
    runtime::{Runtime, Spawn, Task, Timer},
    settle::{MAX_BACKGROUND_RETRIES, Settle},
};
use crate::{Provider, Receiver, headers::Headers, receiver::Rejection};

/// Reads a request's `body` into one buffer, within the receiver's
/// [`body_limit`](Receiver::body_limit) and [`body_timeout`](Receiver::body_timeout).
///
/// `sleep` is the adapter's timer (`tokio::time::sleep`, say); it is called with the timeout
/// the first time the body is not all there, so a body that arrives with its headers costs no
/// timer at all. A `Content-Length` over the limit is refused before a byte is read; a body
/// without one as soon as it passes the limit. The rejection (413, 408, or 400 for a body that
/// broke off) is logged and counted here; the adapter answers it as it is.
pub fn read_body<P, H, B, S, D>(
    receiver: &Receiver<P>,
    headers: &H,
    body: B,
    sleep: S,
) -> ReadBody<B, S, D>
where
    P: Provider,
    H: Headers,
    B: http_body::Body,
    S: Fn(std::time::Duration) -> D,
    D: Future<Output = ()>,
{
    receiver.read_body(headers, body, sleep)
}

/// Runs a delivery whose body [`read_body`] read: verifies, claims and parses it.
///
/// Every rejection is logged and counted here; the adapter answers it as it is. `runtime`
/// runs the store calls that outlive the request (a dropped request's release, retries of a
/// failed call) and times the claim's renewals.
///
/// # Errors
/// The [`Rejection`] to answer: see its table.
pub async fn accept<P: Provider, H: Headers>(
    receiver: &Receiver<P>,
    headers: &H,
    body: bytes::Bytes,
    runtime: Runtime,
) -> Result<Accepted<P::Event>, Rejection> {
    receiver.run(headers, body, runtime).await
}

/// A `tracing` span for one delivery of `receiver`, with the fields `provider`, `endpoint`,
/// `delivery_id`, `event_type` and `outcome` (the last three filled in as they become known).
/// Adapters run each delivery, handler included, in one.
#[must_use]
pub fn span<P: Provider>(receiver: &Receiver<P>) -> tracing::Span {
    receiver.span()
}
