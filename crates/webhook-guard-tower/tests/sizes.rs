//! The response future and the delivery stay small. An allocation of 1 KiB or more takes
//! glibc's large-chunk path, which consolidates every free small chunk on each call: when the
//! response future grew to 2 KiB, `malloc_consolidate` was the guarded server's top symbol
//! in the e2e benchmark (2.4% of its CPU), absent from the bare servers'.

use axum::{Router, body::Body, http::Request, routing::post};
use tower::ServiceExt;
use webhook_guard::{Delivery, Receiver, parallel};
use webhook_guard_tower::{Webhook, WebhookGuard};

async fn handler(Webhook(_): Webhook<parallel::Event>) {}

#[tokio::test]
async fn the_response_future_and_the_delivery_stay_under_1_kib() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let receiver =
        Receiver::new(parallel::Parallel::new(secret).expect("secret")).expect("receiver");
    let router: Router = Router::new().route("/", post(handler));
    let mut guard = WebhookGuard::new(router, receiver);
    let service = ServiceExt::<Request<Body>>::ready(&mut guard)
        .await
        .expect("ready");
    let future = tower::Service::call(service, Request::new(Body::empty()));
    let future_size = std::mem::size_of_val(&*future);
    let delivery_size = std::mem::size_of::<Delivery<parallel::Event>>();
    eprintln!(
        "response future: {future_size} bytes; Delivery<parallel::Event>: {delivery_size} bytes"
    );
    assert!(
        future_size < 1000,
        "the response future takes {future_size} bytes"
    );
    assert!(
        delivery_size < 1000,
        "a delivery takes {delivery_size} bytes"
    );
    let response = future.await.expect("an answer");
    assert_eq!(response.status(), 401);
}
