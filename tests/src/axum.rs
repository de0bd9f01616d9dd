//! The receiver in axum, behind `webhook-guard-tower`.

use std::net::SocketAddr;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use webhook_guard::{Provider, Receiver, WebhookEvent, provider::AnyEvent};
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

use crate::{Behaviour, Calls, Receivers, run_handler};

async fn handle<E: WebhookEvent + Clone>(
    State(calls): State<Calls>,
    headers: HeaderMap,
    Webhook(delivery): Webhook<E>,
) -> Response {
    let x_test = headers.get("x-test").and_then(|v| v.to_str().ok());
    match run_handler(&calls, &delivery.meta, &delivery.event, x_test).await {
        Behaviour::Answer(status) => StatusCode::from_u16(status)
            .expect("status")
            .into_response(),
        Behaviour::Panic => panic!("the handler panicked (on purpose)"),
        Behaviour::Hang => std::future::pending().await,
    }
}

fn guard<P: Provider>(receiver: Receiver<P>) -> WebhookGuardLayer<P> {
    WebhookGuardLayer::new(receiver)
}

pub(crate) async fn serve(receivers: Receivers, calls: Calls) -> SocketAddr {
    let mut app = Router::new();
    for (name, receiver) in receivers {
        app = app.route(
            &format!("/webhooks/{name}"),
            post(handle::<AnyEvent>).layer(guard(receiver)),
        );
    }
    let app = app
        .route("/unguarded", post(handle::<AnyEvent>))
        .route("/healthz", get(|| async { StatusCode::OK }))
        .with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}
