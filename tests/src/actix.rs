//! The receiver in actix-web, behind `webhook-guard-actix`, on a thread of its own.

use std::net::{SocketAddr, TcpListener};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::StatusCode, web};
use webhook_guard::{Provider, Receiver, WebhookEvent, provider::AnyEvent};
use webhook_guard_actix::{Webhook, WebhookGuard};

use crate::{Behaviour, Calls, Receivers, run_handler};

async fn handle<E: WebhookEvent + 'static>(
    calls: web::Data<Calls>,
    request: HttpRequest,
    Webhook(delivery): Webhook<E>,
) -> HttpResponse {
    let x_test = request
        .headers()
        .get("x-test")
        .and_then(|v| v.to_str().ok());
    match run_handler(&calls, &delivery.meta, &delivery.event, x_test).await {
        Behaviour::Answer(status) => {
            HttpResponse::new(StatusCode::from_u16(status).expect("status"))
        }
        Behaviour::Panic => panic!("the handler panicked (on purpose)"),
        Behaviour::Hang => std::future::pending().await,
    }
}

fn guard<P: Provider>(receiver: &Receiver<P>) -> WebhookGuard<P> {
    WebhookGuard::new(receiver.clone())
}

/// Stops the server when dropped.
struct Stop(actix_web::dev::ServerHandle);

impl Drop for Stop {
    fn drop(&mut self) {
        // The stop command is sent at once; the future only waits for its completion.
        drop(self.0.stop(false));
    }
}

pub(crate) fn serve(receivers: Receivers, calls: Calls) -> (SocketAddr, Box<dyn Send + Sync>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let calls = web::Data::new(calls);
    let server = HttpServer::new(move || {
        let mut app = App::new().app_data(calls.clone());
        for (name, receiver) in &receivers {
            app = app.service(
                web::resource(format!("/webhooks/{name}"))
                    .wrap(guard(receiver))
                    .route(web::post().to(handle::<AnyEvent>)),
            );
        }
        app.route("/unguarded", web::post().to(handle::<AnyEvent>))
            .route("/healthz", web::get().to(HttpResponse::Ok))
    })
    .workers(2)
    // Without this, actix-web keeps running a handler whose client closed the connection
    // (a half-closed connection), and its claim waits for the handler or its lease.
    .h1_allow_half_closed(false)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            if let Err(error) = server.await {
                eprintln!("actix server failed: {error}");
            }
        });
    });
    (addr, Box::new(Stop(handle)))
}
