//! The guard's own CPU cost per delivery, in process: no sockets, no HTTP parsing, only the
//! framework's routing, the guard (or the hand-written code) and the handler. Each variant
//! gets the same signed 1 KiB Parallel deliveries with fresh ids; variants run in rotating
//! rounds on one thread and the median round counts. The e2e benchmark measures the same
//! difference over loopback, where the kernel's share and the shared machine's noise are
//! larger than the difference itself.
//!
//! `cargo bench -p webhook-guard-conformance --bench overhead`; `OVERHEAD_REQUESTS` and
//! `OVERHEAD_ROUNDS` change the defaults of 20,000 and 11.

mod hand_written;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, body::Body, http::StatusCode, routing::post};
use hand_written::{HandWritten, SECRET, body, hand_actix, hand_axum};
use tower::ServiceExt as _;
use webhook_guard::{Receiver, parallel, scheme::unix_now};

/// Signed header sets with fresh ids (signing is not timed).
fn deliveries(round: usize, count: usize, body: &[u8]) -> Vec<Vec<(String, String)>> {
    let parallel = parallel::Parallel::new(SECRET).expect("secret");
    let now = unix_now();
    (0..count)
        .map(|i| {
            let headers = parallel
                .sign_headers(&format!("whevent_{round}_{i}"), now, body)
                .expect("signs");
            headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

async fn guarded_axum(
    webhook_guard_tower::Webhook(d): webhook_guard_tower::Webhook<parallel::Event>,
) -> StatusCode {
    std::hint::black_box(&d);
    StatusCode::OK
}

async fn guarded_actix(
    webhook_guard_actix::Webhook(d): webhook_guard_actix::Webhook<parallel::Event>,
) -> actix_web::HttpResponse {
    std::hint::black_box(&d);
    actix_web::HttpResponse::Ok().finish()
}

/// Time per request of `count` calls of an axum router.
async fn run_axum(router: &Router, batch: Vec<Vec<(String, String)>>, body: &[u8]) -> Duration {
    let body = axum::body::Bytes::copy_from_slice(body);
    let requests: Vec<_> = batch
        .into_iter()
        .map(|headers| {
            let mut request = axum::http::Request::post("/");
            for (n, v) in headers {
                request = request.header(n, v);
            }
            request
                .header("content-length", body.len())
                .body(Body::from(body.clone()))
                .expect("request")
        })
        .collect();
    let count = requests.len() as u32;
    let started = Instant::now();
    for request in requests {
        let response = router.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
    }
    started.elapsed() / count
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    values[values.len() / 2]
}

fn main() {
    let count = env_number("OVERHEAD_REQUESTS", 20_000);
    let rounds = env_number("OVERHEAD_ROUNDS", 11);
    let body = body();
    let axum_results = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let receiver =
                Receiver::new(parallel::Parallel::new(SECRET).expect("secret")).expect("receiver");
            let guarded: Router = Router::new().route(
                "/",
                post(guarded_axum).layer(webhook_guard_tower::WebhookGuardLayer::new(receiver)),
            );
            let hand: Router = Router::new()
                .route("/", post(hand_axum))
                .with_state(Arc::new(HandWritten::new()));
            let (mut g, mut h) = (Vec::new(), Vec::new());
            for round in 0..=rounds {
                let first = round % 2 == 0;
                for which in [first, !first] {
                    let batch = deliveries(round * 2 + usize::from(which), count, &body);
                    let time = run_axum(if which { &guarded } else { &hand }, batch, &body).await;
                    // Round 0 warms up.
                    if round > 0 {
                        if which { g.push(time) } else { h.push(time) }
                    }
                }
            }
            (median(g), median(h))
        });
    let actix_results = actix_web::rt::System::new().block_on(async {
        use actix_web::{App, test, web};
        let receiver =
            Receiver::new(parallel::Parallel::new(SECRET).expect("secret")).expect("receiver");
        let guarded = test::init_service(
            App::new().service(
                web::resource("/")
                    .wrap(webhook_guard_actix::WebhookGuard::new(receiver))
                    .route(web::post().to(guarded_actix)),
            ),
        )
        .await;
        let hand = test::init_service(
            App::new()
                .app_data(web::Data::new(HandWritten::new()))
                .service(web::resource("/").route(web::post().to(hand_actix))),
        )
        .await;
        let (mut g, mut h) = (Vec::new(), Vec::new());
        for round in 0..=rounds {
            let first = round % 2 == 0;
            for which in [first, !first] {
                let batch = deliveries(1000 + round * 2 + usize::from(which), count, &body);
                let requests: Vec<_> = batch
                    .into_iter()
                    .map(|headers| {
                        let mut request = test::TestRequest::post().uri("/");
                        for (n, v) in headers {
                            request = request.insert_header((n, v));
                        }
                        request.set_payload(body.clone()).to_request()
                    })
                    .collect();
                let started = Instant::now();
                for request in requests {
                    let response = if which {
                        test::call_service(&guarded, request).await
                    } else {
                        test::call_service(&hand, request).await
                    };
                    assert_eq!(response.status(), 200);
                }
                let time = started.elapsed() / count as u32;
                if round > 0 {
                    if which { g.push(time) } else { h.push(time) }
                }
            }
        }
        (median(g), median(h))
    });
    println!(
        "{count} deliveries of 1 KiB per round, median of {rounds} rotating rounds, in process, one thread"
    );
    println!(
        "| framework | hand-written | guarded (Webhook<parallel::Event>) | guard − hand-written | hand-written/guarded |"
    );
    println!("|---|---|---|---|---|");
    for (name, (guarded, hand)) in [("axum", axum_results), ("actix-web", actix_results)] {
        let delta = guarded.as_secs_f64() * 1e6 - hand.as_secs_f64() * 1e6;
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {delta:+.2} µs (target: at most +1.5 µs) | {:.3}x |",
            hand.as_secs_f64() * 1e6,
            guarded.as_secs_f64() * 1e6,
            hand.as_secs_f64() / guarded.as_secs_f64(),
        );
    }
}
