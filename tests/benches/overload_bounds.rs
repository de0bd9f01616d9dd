//! What the overload bounds cost a delivery on the happy path: the guard with its defaults
//! (the circuit breaker in front of the store, the memory budget of unverified bodies) against
//! the same guard without them (`circuit_breaker(0, ..)`, `MemoryBudget::unlimited()`), in
//! process, axum and actix-web, in rotating rounds on one thread; the median round counts.
//!
//! `cargo bench -p webhook-guard-conformance --bench overload_bounds`; `OVERHEAD_REQUESTS` and
//! `OVERHEAD_ROUNDS` change the defaults of 20,000 and 11. `OVERLOAD_VARIANT=with` or
//! `without` runs one variant only, `OVERLOAD_FRAMEWORK=axum` or `actix-web` one framework
//! only (for instruction counts under callgrind).

// Only its body and secret: the same deliveries as the overhead benchmark.
#[allow(dead_code)]
mod hand_written;

use std::time::{Duration, Instant};

use axum::{Router, body::Body, http::StatusCode, routing::post};
use hand_written::{SECRET, body};
use tower::ServiceExt as _;
use webhook_guard::{MemoryBudget, Receiver, parallel, scheme::unix_now};

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

/// A receiver with the bounds (`true`: the defaults) or without them.
fn receiver(bounded: bool) -> Receiver<parallel::Parallel> {
    let builder = Receiver::builder(parallel::Parallel::new(SECRET).expect("secret"));
    let builder = if bounded {
        builder
    } else {
        builder
            .circuit_breaker(0, Duration::from_millis(500))
            .memory_budget(MemoryBudget::unlimited())
    };
    builder.build().expect("receiver")
}

async fn handler(
    webhook_guard_tower::Webhook(d): webhook_guard_tower::Webhook<parallel::Event>,
) -> StatusCode {
    std::hint::black_box(&d);
    StatusCode::OK
}

async fn actix_handler(
    webhook_guard_actix::Webhook(d): webhook_guard_actix::Webhook<parallel::Event>,
) -> actix_web::HttpResponse {
    std::hint::black_box(&d);
    actix_web::HttpResponse::Ok().finish()
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// The variants to run: both, or the one `OVERLOAD_VARIANT` names.
fn variants() -> Vec<bool> {
    match std::env::var("OVERLOAD_VARIANT").as_deref() {
        Ok("with") => vec![true],
        Ok("without") => vec![false],
        _ => vec![true, false],
    }
}

fn axum(count: usize, rounds: usize, body: &[u8]) -> (Duration, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let routers = [true, false].map(|bounded| {
            Router::new().route(
                "/",
                post(handler).layer(webhook_guard_tower::WebhookGuardLayer::new(receiver(
                    bounded,
                ))),
            )
        });
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..=rounds {
            let mut order = variants();
            if round % 2 == 1 {
                order.reverse();
            }
            for bounded in order {
                let batch = deliveries(round * 2 + usize::from(bounded), count, body);
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
                let router = &routers[usize::from(!bounded)];
                let started = Instant::now();
                for request in requests {
                    let response = router.clone().oneshot(request).await.expect("response");
                    assert_eq!(response.status(), StatusCode::OK);
                }
                let time = started.elapsed() / count as u32;
                if round > 0 {
                    if bounded {
                        with.push(time)
                    } else {
                        without.push(time)
                    }
                }
            }
        }
        (median(with), median(without))
    })
}

fn actix(count: usize, rounds: usize, body: &[u8]) -> (Duration, Duration) {
    actix_web::rt::System::new().block_on(async {
        use actix_web::{App, test, web};
        let mut services = Vec::new();
        for bounded in [true, false] {
            let service = test::init_service(
                App::new().service(
                    web::resource("/")
                        .wrap(webhook_guard_actix::WebhookGuard::new(receiver(bounded)))
                        .route(web::post().to(actix_handler)),
                ),
            )
            .await;
            services.push(service);
        }
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..=rounds {
            let mut order = variants();
            if round % 2 == 1 {
                order.reverse();
            }
            for bounded in order {
                let batch = deliveries(1000 + round * 2 + usize::from(bounded), count, body);
                let requests: Vec<_> = batch
                    .into_iter()
                    .map(|headers| {
                        let mut request = test::TestRequest::post().uri("/");
                        for (n, v) in headers {
                            request = request.insert_header((n, v));
                        }
                        request.set_payload(body.to_vec()).to_request()
                    })
                    .collect();
                let service = &services[usize::from(!bounded)];
                let started = Instant::now();
                for request in requests {
                    let response = test::call_service(service, request).await;
                    assert_eq!(response.status(), 200);
                }
                let time = started.elapsed() / count as u32;
                if round > 0 {
                    if bounded {
                        with.push(time)
                    } else {
                        without.push(time)
                    }
                }
            }
        }
        (median(with), median(without))
    })
}

fn main() {
    let count = env_number("OVERHEAD_REQUESTS", 20_000);
    let rounds = env_number("OVERHEAD_ROUNDS", 11);
    let body = body();
    let only = std::env::var("OVERLOAD_FRAMEWORK").ok();
    let mut results = Vec::new();
    if only.as_deref().is_none_or(|name| name == "axum") {
        results.push(("axum", axum(count, rounds, &body)));
    }
    if only.as_deref().is_none_or(|name| name == "actix-web") {
        results.push(("actix-web", actix(count, rounds, &body)));
    }
    println!(
        "{count} deliveries of 1 KiB per round, median of {rounds} rotating rounds, in process, one thread"
    );
    println!("| framework | without the bounds | with the bounds (defaults) | with/without |");
    println!("|---|---|---|---|");
    for (name, (with, without)) in results {
        let ratio = with.as_secs_f64() / without.as_secs_f64();
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {ratio:.3}x (target: at most 1.010x) |",
            without.as_secs_f64() * 1e6,
            with.as_secs_f64() * 1e6,
        );
    }
}
