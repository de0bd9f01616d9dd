//! `PgInbox` against a real Postgres (skipped with a printed reason without one, unless
//! `REQUIRE_POSTGRES=1`): the inbox conformance suite, exactly-once effects through the
//! attempt's transaction, and a lease taken over rolling the handler's writes back.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use sqlx::{PgPool, postgres::PgPoolOptions};
use webhook_guard::testkit::inbox::RunningWorker;
use webhook_guard::{
    Receiver, StandardWebhooks,
    generic::GenericStandard,
    inbox::{ClaimRequest, EntryState, Filter, Inbox, NewEntry, StoredHeaders, Verdict},
};
use webhook_guard_postgres::{PgInbox, PgTx, test_server::PostgresServer};

async fn pool(server: &PostgresServer) -> PgPool {
    PgPoolOptions::new()
        .max_connections(30)
        .connect(&server.url())
        .await
        .expect("connected")
}

async fn inbox(pool: &PgPool, table: &str) -> PgInbox {
    let inbox = PgInbox::builder(pool.clone())
        .table(table)
        .build()
        .expect("inbox");
    inbox.migrate().await.expect("migrated");
    inbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_inbox_conforms() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let tables = AtomicU32::new(0);
    webhook_guard::testkit::inbox::conformance(async || {
        let n = tables.fetch_add(1, Ordering::SeqCst);
        Inbox::new(inbox(&pool, &format!("inbox_{n}")).await)
    })
    .await;
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn entry(n: u32) -> NewEntry {
    let verifier = StandardWebhooks::new(SECRET).expect("valid");
    let body = format!(r#"{{"type":"user.created","data":{{"n":{n}}}}}"#);
    let id = format!("msg_{n}");
    let signed = verifier
        .sign_headers(&id, webhook_guard::scheme::unix_now(), body.as_bytes())
        .expect("signs");
    let mut new = NewEntry::new("effects", "default", &id, &format!("effects:default:{id}"));
    new.event_type = "user.created".to_owned();
    new.signed_by = Some(0);
    new.headers = StoredHeaders::from_request(&signed);
    new.body = Bytes::from(body);
    new
}

/// The handler's insert commits with the done mark; a failed attempt's insert rolls back; a
/// worker whose lease was taken over has its writes rolled back (never a second effect).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn effects_commit_with_the_done_mark_and_only_then() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = inbox(&pool, "effects").await;
    sqlx::query("CREATE TABLE effects (delivery_id text NOT NULL)")
        .execute(&pool)
        .await
        .expect("table");
    let inbox = Inbox::new(store.clone());
    for n in 0..20 {
        inbox.store().enqueue(&entry(n)).await.expect("stored");
    }
    let verifier = StandardWebhooks::new(SECRET).expect("valid");
    let receiver = Receiver::builder(GenericStandard::new("effects", verifier))
        .inbox(&inbox)
        .build()
        .expect("receiver");
    let attempts = Arc::new(AtomicU32::new(0));
    let worker = {
        let attempts = Arc::clone(&attempts);
        inbox
            .worker()
            .concurrency(4)
            .poll_interval(Duration::from_millis(50))
            .retry(webhook_guard::inbox::RetryPolicy::new(
                Duration::from_millis(10),
                5,
            ))
            .route(&receiver, move |delivery, attempt| {
                let attempts = Arc::clone(&attempts);
                async move {
                    let mut tx = match PgTx::from_attempt(&attempt) {
                        Ok(tx) => tx,
                        Err(error) => return Verdict::fail(error),
                    };
                    let inserted = sqlx::query("INSERT INTO effects VALUES ($1)")
                        .bind(delivery.meta.delivery_id.as_str())
                        .execute(&mut *tx)
                        .await;
                    if let Err(error) = inserted {
                        return Verdict::retry(error);
                    }
                    // Every third attempt fails after its insert: rolled back.
                    if attempts.fetch_add(1, Ordering::SeqCst) % 3 == 2 {
                        return Verdict::retry("failed after the insert");
                    }
                    Verdict::Done
                }
            })
    };
    let running = RunningWorker::start(worker);
    for _ in 0..500 {
        if inbox.store().stats().await.expect("stats").done == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await.expect("worker");
    assert_eq!(inbox.store().stats().await.expect("stats").done, 20);
    assert!(attempts.load(Ordering::SeqCst) > 20, "some attempts failed");
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT delivery_id, count(*) FROM effects GROUP BY 1")
            .fetch_all(&pool)
            .await
            .expect("rows");
    assert_eq!(rows.len(), 20);
    assert!(
        rows.iter().all(|(_, n)| *n == 1),
        "one row per entry: {rows:?}"
    );

    // A lease taken over: the first holder's commit fails and its insert is rolled back.
    inbox.store().enqueue(&entry(99)).await.expect("stored");
    let request = |token: &str| {
        let mut request = ClaimRequest::new(1, Duration::from_millis(300), token);
        request.routes = vec![("effects".to_owned(), "default".to_owned())];
        request
    };
    let first = inbox.store().claim(&request("first")).await.expect("claim");
    let transaction = inbox
        .store()
        .begin(&first[0].lease)
        .await
        .expect("begin")
        .expect("a transaction");
    {
        let mut tx = PgTx::from_handle(&transaction.handle()).expect("tx");
        sqlx::query("INSERT INTO effects VALUES ('late')")
            .execute(&mut *tx)
            .await
            .expect("insert");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(inbox.store().rescue(5).await.expect("rescue"), 1);
    let second = inbox
        .store()
        .claim(&request("second"))
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert!(
        transaction.commit().await.is_err(),
        "a taken-over lease fails the commit"
    );
    let late: i64 = sqlx::query_scalar("SELECT count(*) FROM effects WHERE delivery_id = 'late'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(late, 0, "rolled back");
    let entry = inbox
        .store()
        .get(second[0].lease.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        entry.state,
        EntryState::Running,
        "still the second worker's"
    );
    let dead = Filter {
        state: Some(EntryState::Dead),
        ..Filter::default()
    };
    assert!(
        inbox
            .store()
            .list(&dead, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
}
