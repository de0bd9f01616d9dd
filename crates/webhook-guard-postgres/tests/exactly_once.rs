//! Transactional mode on both adapters, against a real Postgres (skipped with a printed
//! reason without one, unless `REQUIRE_POSTGRES=1`): the handler inserts a row per run in the
//! delivery's transaction, and whatever the handler does, each delivery leaves exactly one
//! row once the provider's retries are done.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use sqlx::{PgPool, postgres::PgPoolOptions};
use webhook_guard::{
    Receiver, fixtures,
    parallel::{Event, Parallel},
    scheme::unix_now,
};
use webhook_guard_postgres::{PgStore, PgTx, test_server::PostgresServer};

#[derive(Clone, Copy, Debug)]
enum Adapter {
    Axum,
    Actix,
}

/// What the handler does after inserting its row, from the `x-test` header.
async fn behave(x_test: &str, tx: &mut PgTx) -> Option<u16> {
    if let Some(status) = x_test.strip_prefix("status:") {
        return status.parse().ok();
    }
    if let Some(ms) = x_test.strip_prefix("sleep:") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
    }
    match x_test {
        "panic" => panic!("the handler panicked (on purpose)"),
        // A failed statement aborts the transaction; the handler answers 200 all the same.
        "abort" => {
            let failed = sqlx::query("SELECT 1 / 0").execute(&mut **tx).await;
            assert!(failed.is_err());
            Some(200)
        }
        _ => Some(200),
    }
}

/// The handler's own write: one row per run.
async fn insert(tx: &mut PgTx, delivery_id: &str) {
    sqlx::query("INSERT INTO effects (delivery_id) VALUES ($1)")
        .bind(delivery_id)
        .execute(&mut **tx)
        .await
        .expect("insert");
}

mod axum_server {
    use axum::{
        Router,
        http::{HeaderMap, StatusCode},
        response::{IntoResponse, Response},
        routing::post,
    };
    use webhook_guard_postgres::PgTx;
    use webhook_guard_tower::{Webhook, WebhookGuardLayer};

    use super::*;

    async fn handle(
        headers: HeaderMap,
        Webhook(delivery): Webhook<Event>,
        mut tx: PgTx,
    ) -> Response {
        insert(&mut tx, delivery.meta.delivery_id.as_str()).await;
        let x_test = headers
            .get("x-test")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if x_test == "keep" {
            // The transaction outlives the handler's answer: it cannot be committed.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                drop(tx);
            });
            return StatusCode::OK.into_response();
        }
        match behave(x_test, &mut tx).await {
            Some(status) => StatusCode::from_u16(status)
                .expect("status")
                .into_response(),
            None => StatusCode::BAD_REQUEST.into_response(),
        }
    }

    async fn unguarded(_tx: PgTx) -> StatusCode {
        StatusCode::OK
    }

    pub(super) async fn serve(receiver: Receiver<Parallel>) -> SocketAddr {
        let app = Router::new()
            .route(
                "/webhooks/parallel",
                post(handle).layer(WebhookGuardLayer::new(receiver)),
            )
            .route("/unguarded", post(unguarded));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        addr
    }
}

mod actix_server {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::StatusCode, web};
    use webhook_guard_actix::{Webhook, WebhookGuard};
    use webhook_guard_postgres::PgTx;

    use super::*;

    async fn handle(
        request: HttpRequest,
        Webhook(delivery): Webhook<Event>,
        mut tx: PgTx,
    ) -> HttpResponse {
        insert(&mut tx, delivery.meta.delivery_id.as_str()).await;
        let x_test = request
            .headers()
            .get("x-test")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if x_test == "keep" {
            actix_web::rt::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                drop(tx);
            });
            return HttpResponse::Ok().finish();
        }
        match behave(&x_test, &mut tx).await {
            Some(status) => HttpResponse::new(StatusCode::from_u16(status).expect("status")),
            None => HttpResponse::BadRequest().finish(),
        }
    }

    async fn unguarded(_tx: PgTx) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    pub(super) fn serve(receiver: Receiver<Parallel>) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = HttpServer::new(move || {
            App::new()
                .service(
                    web::resource("/webhooks/parallel")
                        .wrap(WebhookGuard::new(receiver.clone()))
                        .route(web::post().to(handle)),
                )
                .route("/unguarded", web::post().to(unguarded))
        })
        .workers(2)
        .h1_allow_half_closed(false)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let _ = server.await;
            });
        });
        addr
    }
}

/// A Postgres, a pool on it with the `effects` table, and a receiver in transactional mode
/// served by `adapter`.
struct Setup {
    server: PostgresServer,
    pool: PgPool,
    addr: SocketAddr,
    client: reqwest::Client,
}

async fn setup(adapter: Adapter) -> Option<Setup> {
    setup_with(adapter, Duration::from_secs(5)).await
}

/// As [`setup`], with the store's time limit per call.
async fn setup_with(adapter: Adapter, timeout: Duration) -> Option<Setup> {
    let server = PostgresServer::start()?;
    // No check on checkout: a delivery's first statement is its `BEGIN` (so a pause cuts the
    // `BEGIN` off, not the check).
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .test_before_acquire(false)
        .connect(&server.url())
        .await
        .expect("connected");
    sqlx::query("CREATE TABLE effects (n bigserial PRIMARY KEY, delivery_id text NOT NULL)")
        .execute(&pool)
        .await
        .expect("effects");
    let store = PgStore::builder(pool.clone())
        .timeout(timeout)
        .build()
        .expect("store");
    store.migrate().await.expect("migrated");
    let secret = fixtures::demo::secret("parallel").expect("demo secret");
    let receiver = Receiver::builder(Parallel::new(secret).expect("secret"))
        .transactional_store(Arc::new(store))
        .build()
        .expect("receiver");
    let addr = match adapter {
        Adapter::Axum => axum_server::serve(receiver).await,
        Adapter::Actix => actix_server::serve(receiver),
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    Some(Setup {
        server,
        pool,
        addr,
        client,
    })
}

impl Setup {
    /// Posts a signed delivery `id`, with `x-test` when given: the status and whether it
    /// was answered as a duplicate.
    async fn post(&self, id: &str, x_test: Option<&str>) -> (u16, bool) {
        let body = fixtures::of("parallel").next().expect("fixture").body;
        let secret = fixtures::demo::secret("parallel").expect("demo secret");
        let headers = fixtures::sign("parallel", secret, id, unix_now(), body).expect("signed");
        let mut request = self
            .client
            .post(format!("http://{}/webhooks/parallel", self.addr))
            .body(body.to_vec());
        for (name, value) in headers.iter() {
            request = request.header(name, value);
        }
        if let Some(x_test) = x_test {
            request = request.header("x-test", x_test);
        }
        match request.send().await {
            Ok(response) => (
                response.status().as_u16(),
                response.headers().contains_key("webhook-guard-duplicate"),
            ),
            // A panicking handler's connection is closed without an answer (axum).
            Err(_) => (0, false),
        }
    }

    /// Posts `id` until it is answered 200, as a provider retries.
    async fn deliver(&self, id: &str) {
        for _ in 0..200 {
            match self.post(id, None).await {
                (200, _) => return,
                (409 | 503, _) => tokio::time::sleep(Duration::from_millis(20)).await,
                other => panic!("{id}: unexpected answer {other:?}"),
            }
        }
        panic!("{id}: never accepted");
    }

    async fn rows(&self, id: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM effects WHERE delivery_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

async fn concurrent_copies_and_distinct_deliveries(adapter: Adapter) {
    let Some(setup) = setup(adapter).await else {
        return;
    };
    let setup = Arc::new(setup);
    // 1,000 copies of one delivery at once: one is processed, the rest are duplicates (in
    // flight: 409, or committed: 200 with the header), and the retries settle them all.
    let copies: Vec<_> = (0..1000)
        .map(|_| {
            let setup = Arc::clone(&setup);
            tokio::spawn(async move { setup.post("copies-1", None).await })
        })
        .collect();
    let mut processed = 0;
    for copy in copies {
        match copy.await.expect("task") {
            (200, false) => processed += 1,
            (200, true) | (409, false) | (503, false) => {}
            other => panic!("{adapter:?}: unexpected answer {other:?}"),
        }
    }
    assert!(processed <= 1, "{adapter:?}: processed {processed} times");
    setup.deliver("copies-1").await;
    assert_eq!(setup.rows("copies-1").await, 1, "{adapter:?}");
    // 200 distinct deliveries at once, each retried until accepted.
    let deliveries: Vec<_> = (0..200)
        .map(|i| {
            let setup = Arc::clone(&setup);
            tokio::spawn(async move { setup.deliver(&format!("distinct-{i}")).await })
        })
        .collect();
    for delivery in deliveries {
        delivery.await.expect("task");
    }
    for i in 0..200 {
        assert_eq!(
            setup.rows(&format!("distinct-{i}")).await,
            1,
            "distinct-{i}"
        );
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&setup.pool)
        .await
        .expect("count");
    assert_eq!(total, 201, "{adapter:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_concurrent_copies_and_distinct_deliveries_leave_one_row_each() {
    concurrent_copies_and_distinct_deliveries(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_concurrent_copies_and_distinct_deliveries_leave_one_row_each() {
    concurrent_copies_and_distinct_deliveries(Adapter::Actix).await;
}

async fn failed_handlers_leave_no_row(adapter: Adapter) {
    let Some(setup) = setup(adapter).await else {
        return;
    };
    // The handler inserted its row, then: answered 500, panicked, let a statement fail and
    // answered 200, kept the transaction past its answer. No row; the retry inserts one.
    for (id, x_test, expected) in [
        ("failed-500", "status:500", 500),
        ("failed-panic", "panic", 0),
        ("failed-abort", "abort", 503),
        ("failed-keep", "keep", 503),
    ] {
        let (status, duplicate) = setup.post(id, Some(x_test)).await;
        assert_eq!((status, duplicate), (expected, false), "{adapter:?} {id}");
        // The rollback (or the drop that rolls back) may be finishing on the server.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            setup.rows(id).await,
            0,
            "{adapter:?} {id}: a row after a failure"
        );
        setup.deliver(id).await;
        assert_eq!(setup.rows(id).await, 1, "{adapter:?} {id}");
        // Committed: a later copy is a duplicate and inserts nothing.
        assert_eq!(setup.post(id, None).await, (200, true), "{adapter:?} {id}");
        assert_eq!(setup.rows(id).await, 1, "{adapter:?} {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_failed_handlers_leave_no_row_and_the_retry_inserts_it() {
    failed_handlers_leave_no_row(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_failed_handlers_leave_no_row_and_the_retry_inserts_it() {
    failed_handlers_leave_no_row(Adapter::Actix).await;
}

async fn a_copy_in_flight_gets_409_without_waiting(adapter: Adapter) {
    let Some(setup) = setup(adapter).await else {
        return;
    };
    let setup = Arc::new(setup);
    let slow = {
        let setup = Arc::clone(&setup);
        tokio::spawn(async move { setup.post("in-flight-1", Some("sleep:3000")).await })
    };
    // Until the first copy's row is visible to its own transaction only: wait for its lock.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let locks: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
                .fetch_one(&setup.pool)
                .await
                .expect("locks");
        if locks > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first copy never claimed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The copy is answered while the first is still running: it did not wait for the
    // first transaction's row lock.
    assert_eq!(
        setup.post("in-flight-1", None).await,
        (409, false),
        "{adapter:?}"
    );
    assert!(
        !slow.is_finished(),
        "{adapter:?}: the 409 waited for the first copy"
    );
    assert_eq!(slow.await.expect("task"), (200, false));
    assert_eq!(setup.post("in-flight-1", None).await, (200, true));
    assert_eq!(setup.rows("in-flight-1").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_a_copy_in_flight_gets_409_without_waiting() {
    a_copy_in_flight_gets_409_without_waiting(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_a_copy_in_flight_gets_409_without_waiting() {
    a_copy_in_flight_gets_409_without_waiting(Adapter::Actix).await;
}

async fn a_handler_without_the_guard_gets_an_explaining_500(adapter: Adapter) {
    let Some(setup) = setup(adapter).await else {
        return;
    };
    let response = setup
        .client
        .post(format!("http://{}/unguarded", setup.addr))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 500);
    let text = response.text().await.expect("text");
    assert!(text.contains("no delivery transaction"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_a_handler_without_the_guard_gets_an_explaining_500() {
    a_handler_without_the_guard_gets_an_explaining_500(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_a_handler_without_the_guard_gets_an_explaining_500() {
    a_handler_without_the_guard_gets_an_explaining_500(Adapter::Actix).await;
}

/// Postgres stopped while deliveries arrive: 503 (the begin fails), never 2xx without the
/// commit; restarted, the retries are processed, each once.
async fn survives_a_postgres_crash(adapter: Adapter) {
    let Some(mut setup) = setup(adapter).await else {
        return;
    };
    let first: Vec<String> = (0..20).map(|i| format!("crash-a-{i}")).collect();
    for id in &first {
        setup.deliver(id).await;
    }
    setup.server.kill();
    assert_eq!(
        setup.post("crash-b-0", None).await.0,
        503,
        "{adapter:?}: while down"
    );
    setup.server.restart();
    for id in first.iter().chain(["crash-b-0".to_owned()].iter()) {
        setup.deliver(id).await;
    }
    for id in &first {
        assert_eq!(setup.rows(id).await, 1, "{adapter:?} {id}");
    }
    assert_eq!(setup.rows("crash-b-0").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_survives_a_postgres_crash() {
    survives_a_postgres_crash(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_survives_a_postgres_crash() {
    survives_a_postgres_crash(Adapter::Actix).await;
}

/// Postgres paused past the store's time limit while a delivery opens its transaction: 503.
/// The transaction it opens once it goes on is rolled back, nothing stays held, and no
/// connection goes back to the pool inside a transaction: the retry is processed (not 409),
/// and leaves one row.
async fn a_postgres_pause_leaves_nothing_held(adapter: Adapter) {
    let Some(setup) = setup_with(adapter, Duration::from_millis(300)).await else {
        return;
    };
    setup.deliver("before-pause").await;
    setup.server.pause();
    assert_eq!(
        setup.post("paused-1", None).await,
        (503, false),
        "{adapter:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    setup.server.resume();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        setup.post("paused-1", None).await,
        (200, false),
        "{adapter:?}: not 409"
    );
    assert_eq!(setup.rows("paused-1").await, 1);
    let (open, locks): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_stat_activity
                 WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()),
                (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')",
    )
    .fetch_one(&setup.pool)
    .await
    .expect("activity");
    assert_eq!(
        (open, locks),
        (0, 0),
        "{adapter:?}: something of the paused claim is held"
    );
    // Every connection of the pool still commits what it writes.
    for i in 0..40 {
        setup.deliver(&format!("after-pause-{i}")).await;
    }
    for i in 0..40 {
        assert_eq!(setup.rows(&format!("after-pause-{i}")).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_a_postgres_pause_leaves_nothing_held() {
    a_postgres_pause_leaves_nothing_held(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_a_postgres_pause_leaves_nothing_held() {
    a_postgres_pause_leaves_nothing_held(Adapter::Actix).await;
}

/// Postgres paused while the handler runs, so its commit meets the pause and the time limit:
/// 503, never the handler's 2xx. Resumed, Postgres finishes whatever it had received (here
/// the commit); the provider's retry then finds the delivery done (or processes it, had the
/// commit not gone through): one row either way.
async fn a_commit_that_times_out_is_503_and_the_delivery_stays_once(adapter: Adapter) {
    let Some(setup) = setup_with(adapter, Duration::from_millis(300)).await else {
        return;
    };
    let setup = Arc::new(setup);
    let slow = {
        let setup = Arc::clone(&setup);
        tokio::spawn(async move { setup.post("commit-paused", Some("sleep:800")).await })
    };
    // The handler has inserted its row and sleeps; its commit comes while Postgres is paused.
    tokio::time::sleep(Duration::from_millis(400)).await;
    setup.server.pause();
    let answer = slow.await.expect("task");
    setup.server.resume();
    assert_eq!(
        answer,
        (503, false),
        "{adapter:?}: a commit without an answer is not 2xx"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    setup.deliver("commit-paused").await;
    assert_eq!(setup.rows("commit-paused").await, 1, "{adapter:?}");
    assert_eq!(setup.post("commit-paused", None).await, (200, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_a_commit_that_times_out_is_503_and_the_delivery_stays_once() {
    a_commit_that_times_out_is_503_and_the_delivery_stays_once(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_a_commit_that_times_out_is_503_and_the_delivery_stays_once() {
    a_commit_that_times_out_is_503_and_the_delivery_stays_once(Adapter::Actix).await;
}
