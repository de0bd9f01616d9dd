//! The actix-web middleware in process (`actix_web::test`): what is particular to actix —
//! the raw body put back, errors returned by handlers, the extractors, header lookups. The
//! HTTP behaviour shared with the tower adapter is in the workspace's conformance suite.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use actix_web::{
    App, HttpResponse,
    dev::{Service, ServiceResponse},
    test::{TestRequest, call_service, init_service, read_body},
    web,
};
use webhook_guard::{
    Receiver,
    fixtures::{self, demo::PARSEFLOW_SECRET},
    headers::{HeaderEntry, HeaderName, Headers},
    parseflow::{Event, ParseFlow},
};
use webhook_guard_actix::{ActixHeaders, MissingDelivery, Webhook, WebhookGuard, WebhookMeta};

fn receiver() -> Receiver<ParseFlow> {
    Receiver::new(ParseFlow::new(PARSEFLOW_SECRET).expect("secret")).expect("receiver")
}

fn signed(id: &str) -> TestRequest {
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers = fixtures::sign("parseflow", PARSEFLOW_SECRET, id, 0, body).expect("signed");
    let mut request = TestRequest::post().uri("/hook").set_payload(body);
    for (name, value) in headers.iter() {
        request = request.insert_header((name.to_owned(), value.to_owned()));
    }
    request
}

/// Calls `app` and returns the status and the duplicate header. Rejections are responses
/// (not errors), so `call_service` sees them as the client would.
async fn answer<S>(app: &S, request: actix_web::test::TestRequest) -> (u16, Option<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = call_service(app, request.to_request()).await;
    let duplicate = response
        .headers()
        .get("webhook-guard-duplicate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), duplicate)
}

#[actix_rt::test]
async fn the_handler_reads_the_raw_body_and_the_metadata() {
    let app = init_service(
        App::new().service(
            web::resource("/hook")
                .wrap(WebhookGuard::new(receiver()))
                .route(web::post().to(
                    |WebhookMeta(meta): WebhookMeta, raw: web::Bytes| async move {
                        HttpResponse::Ok().body(format!("{} {}", meta.delivery_id, raw.len()))
                    },
                )),
        ),
    )
    .await;
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let response = call_service(&app, signed("raw-1").to_request()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        read_body(response).await,
        format!("raw-1 {}", body.len()).as_bytes()
    );
}

#[actix_rt::test]
async fn a_handler_error_releases_the_claim() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let app = init_service(
        App::new().service(
            web::resource("/hook")
                .wrap(WebhookGuard::new(receiver()))
                .route(web::post().to(move |Webhook(_): Webhook<Event>| {
                    let runs = Arc::clone(&counted);
                    async move {
                        // The first run fails with an error, the retry succeeds.
                        if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                            Err(actix_web::error::ErrorServiceUnavailable("busy"))
                        } else {
                            Ok(HttpResponse::Ok().finish())
                        }
                    }
                })),
        ),
    )
    .await;
    assert_eq!(answer(&app, signed("err-1")).await, (503, None));
    assert_eq!(
        answer(&app, signed("err-1")).await,
        (200, None),
        "the retry"
    );
    assert_eq!(
        answer(&app, signed("err-1")).await,
        (200, Some("true".to_owned())),
        "a duplicate"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[actix_rt::test]
async fn the_extractors_explain_a_missing_middleware() {
    let app = init_service(
        App::new()
            .route(
                "/typed",
                web::post().to(|Webhook(_): Webhook<Event>| async { HttpResponse::Ok().finish() }),
            )
            .route(
                "/handled",
                web::post().to(|found: Result<WebhookMeta, MissingDelivery>| async move {
                    match found {
                        Ok(_) => HttpResponse::Ok().finish(),
                        Err(missing) => HttpResponse::Accepted().body(missing.to_string()),
                    }
                }),
            ),
    )
    .await;
    let response = call_service(&app, TestRequest::post().uri("/typed").to_request()).await;
    assert_eq!(response.status(), 500);
    assert_eq!(read_body(response).await, "webhook receiver misconfigured");
    let response = call_service(&app, TestRequest::post().uri("/handled").to_request()).await;
    assert_eq!(response.status(), 202);
    let text = read_body(response).await;
    assert!(
        String::from_utf8_lossy(&text).contains("put the webhook guard"),
        "{text:?}"
    );
}

#[actix_rt::test]
async fn header_lookups_see_repeated_headers_without_copying() {
    let request = TestRequest::default()
        .append_header(("Webhook-Signature", "v1,a"))
        .append_header(("webhook-signature", "v1,b"))
        .insert_header(("Webhook-Id", "msg_1"))
        .to_http_request();
    let headers = ActixHeaders(request.headers());
    let name = |n: &str| HeaderName::new(n).expect("name");
    assert_eq!(
        headers.entry(&name("webhook-id")),
        HeaderEntry::Single(b"msg_1")
    );
    assert_eq!(
        headers.entry(&name("webhook-signature")),
        HeaderEntry::Repeated
    );
    assert_eq!(
        headers.entry(&name("webhook-timestamp")),
        HeaderEntry::Absent
    );
}

/// Rejections are responses, not errors: an app-level middleware wrapped around the guard
/// (`DefaultHeaders` here) sees and changes them like any other answer.
#[actix_rt::test]
async fn middleware_outside_the_guard_sees_its_rejections() {
    let (release, released) = tokio::sync::watch::channel(false);
    let started = Arc::new(tokio::sync::Notify::new());
    let running = Arc::clone(&started);
    let app = init_service(
        App::new()
            .wrap(actix_web::middleware::DefaultHeaders::new().add(("x-app", "outer")))
            .service(
                web::resource("/hook")
                    .wrap(WebhookGuard::new(receiver()))
                    .route(web::post().to(move |Webhook(_): Webhook<Event>| {
                        let mut released = released.clone();
                        let running = Arc::clone(&running);
                        async move {
                            // The run says it holds the claim, then waits for the test.
                            running.notify_one();
                            let _ = released.wait_for(|go| *go).await;
                            HttpResponse::Ok().finish()
                        }
                    })),
            ),
    )
    .await;
    let app = std::rc::Rc::new(app);
    let outer = |response: &ServiceResponse| {
        response
            .headers()
            .get("x-app")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };

    let unsigned = TestRequest::post().uri("/hook").set_payload("{}");
    let response = call_service(&*app, unsigned.to_request()).await;
    assert_eq!(response.status(), 401);
    assert_eq!(outer(&response).as_deref(), Some("outer"), "on a 401");

    let first = actix_rt::spawn({
        let app = std::rc::Rc::clone(&app);
        async move { call_service(&*app, signed("outer-1").to_request()).await }
    });
    started.notified().await;
    let in_flight = call_service(&*app, signed("outer-1").to_request()).await;
    assert_eq!(in_flight.status(), 409);
    assert_eq!(outer(&in_flight).as_deref(), Some("outer"), "on a 409");
    assert!(in_flight.headers().contains_key("retry-after"));

    release.send(true).expect("the handler waits");
    let first = first.await.expect("the first copy");
    assert_eq!(first.status(), 200);
    let duplicate = call_service(&*app, signed("outer-1").to_request()).await;
    assert_eq!(duplicate.status(), 200);
    assert_eq!(
        duplicate
            .headers()
            .get("webhook-guard-duplicate")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(
        outer(&duplicate).as_deref(),
        Some("outer"),
        "on a 200 duplicate"
    );
}
