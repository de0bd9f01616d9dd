//! `PgStore::begin` (transactional mode) in every state a key can be in, against a real
//! Postgres (skipped with a printed reason without one, unless `REQUIRE_POSTGRES=1`). The
//! claim is one `INSERT` that returns a row only when it claims; every other answer comes from
//! the statement that reads what holds the key, which these cases reach one by one.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use webhook_guard::dedup::{Begin, Claim, ClaimToken, DedupKey, DedupStore, TransactionalStore};
use webhook_guard_postgres::{PgStore, test_server::PostgresServer};

const RETENTION: Duration = Duration::from_secs(3600);

fn state(begin: &Begin) -> &'static str {
    match begin {
        Begin::Claimed(_) => "claimed",
        Begin::InFlight => "in flight",
        Begin::Done => "done",
        _ => "other",
    }
}

/// Begins within a limit far above any answer that does not wait on another transaction.
async fn begin(store: &PgStore, key: &DedupKey, retention: Duration) -> Begin {
    tokio::time::timeout(Duration::from_secs(10), store.begin(key, retention))
        .await
        .expect("answered without waiting on the other transaction")
        .expect("the store answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_answers_claimed_in_flight_and_done_in_every_state() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&server.url())
        .await
        .expect("connected");
    let store = PgStore::builder(pool)
        .table("transactional")
        .build()
        .expect("store");
    store.migrate().await.expect("migrated");

    // A fresh key is claimed; a copy while that transaction is open is in flight at once (the
    // advisory lock), and a rollback leaves nothing: the next try claims it.
    let key = DedupKey::new("parallel:default", "whevent_tx_1");
    let Begin::Claimed(open) = begin(&store, &key, RETENTION).await else {
        panic!("a fresh key is claimed");
    };
    assert_eq!(state(&begin(&store, &key, RETENTION).await), "in flight");
    open.rollback().await.expect("rolled back");
    let Begin::Claimed(open) = begin(&store, &key, RETENTION).await else {
        panic!("claimed again after the rollback");
    };
    // Committed: every later copy is done.
    open.commit().await.expect("committed");
    assert_eq!(state(&begin(&store, &key, RETENTION).await), "done");
    assert_eq!(state(&begin(&store, &key, RETENTION).await), "done");

    // A done record past its retention is taken over.
    let short = DedupKey::new("parallel:default", "whevent_tx_2");
    let Begin::Claimed(open) = begin(&store, &short, Duration::from_millis(200)).await else {
        panic!("claimed");
    };
    open.commit().await.expect("committed");
    assert_eq!(state(&begin(&store, &short, RETENTION).await), "done");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let Begin::Claimed(open) = begin(&store, &short, RETENTION).await else {
        panic!("a record past its retention is taken over");
    };
    open.commit().await.expect("committed");
    assert_eq!(state(&begin(&store, &short, RETENTION).await), "done");

    // A claim of the leased mode in flight on the same table: in flight, without waiting;
    // once it completes, done.
    let leased = DedupKey::new("parallel:default", "whevent_tx_3");
    let token = ClaimToken::random();
    assert_eq!(
        store.claim(&leased, &token, Duration::from_secs(60)).await,
        Ok(Claim::Claimed)
    );
    assert_eq!(state(&begin(&store, &leased, RETENTION).await), "in flight");
    store
        .complete(&leased, &token, RETENTION)
        .await
        .expect("completed");
    assert_eq!(state(&begin(&store, &leased, RETENTION).await), "done");

    // Copies that were answered left the key's record as it was: one done record each.
    for key in [&key, &short, &leased] {
        assert_eq!(
            store
                .claim(key, &ClaimToken::random(), Duration::from_secs(60))
                .await,
            Ok(Claim::Done),
            "{key}"
        );
    }
}
