//! The middleware's future stays under 1 KiB: a larger allocation takes glibc's large-chunk
//! path, which consolidates every free small chunk on each call (see the tower crate's test).

use actix_web::{
    HttpResponse,
    dev::{Service as _, ServiceRequest},
    test::TestRequest,
};
use webhook_guard::{Receiver, parallel};
use webhook_guard_actix::WebhookGuard;

#[actix_rt::test]
async fn the_middleware_future_stays_under_1_kib() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let receiver =
        Receiver::new(parallel::Parallel::new(secret).expect("secret")).expect("receiver");
    let guard = WebhookGuard::new(receiver);
    let inner = actix_web::dev::fn_service(|request: ServiceRequest| async {
        Ok::<_, actix_web::Error>(request.into_response(HttpResponse::Ok().finish()))
    });
    let middleware = actix_web::dev::Transform::new_transform(&guard, inner)
        .await
        .expect("middleware");
    let request = TestRequest::post().uri("/").to_srv_request();
    let future = middleware.call(request);
    let size = std::mem::size_of_val(&*future);
    eprintln!("middleware future: {size} bytes");
    assert!(size < 1000, "the middleware future takes {size} bytes");
    let response = future.await.expect("an answer");
    assert_eq!(response.status(), 401);
}
