//! `PgStore` as a dedup store, against a real Postgres (skipped with a printed reason without
//! one, unless `REQUIRE_POSTGRES=1`): claims, owner tokens, leases and renewals, retention
//! and the purge, names, and migrations run by replicas at once.

use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};
use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, DedupStore};
use webhook_guard_postgres::{PgStore, PgStoreError, test_server::PostgresServer};

async fn pool(server: &PostgresServer) -> PgPool {
    PgPoolOptions::new()
        .max_connections(20)
        .connect(&server.url())
        .await
        .expect("connected")
}

async fn store(pool: &PgPool, table: &str) -> PgStore {
    let store = PgStore::builder(pool.clone())
        .table(table)
        .build()
        .expect("store");
    store.migrate().await.expect("migrated");
    store
}

const LEASE: Duration = Duration::from_secs(60);
const RETENTION: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn claims_answer_claimed_in_flight_and_done_and_compare_owner_tokens() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = store(&pool, "claims").await;
    let key = DedupKey::new("parallel:default", "whevent_1");
    let (first, second) = (ClaimToken::random(), ClaimToken::random());
    assert_eq!(store.claim(&key, &first, LEASE).await, Ok(Claim::Claimed));
    // The same owner again (a try whose answer was lost): still its claim.
    assert_eq!(store.claim(&key, &first, LEASE).await, Ok(Claim::Claimed));
    assert_eq!(store.claim(&key, &second, LEASE).await, Ok(Claim::InFlight));
    // Another owner's renew, complete and release change nothing.
    assert_eq!(store.renew(&key, &second, LEASE).await, Ok(false));
    store
        .complete(&key, &second, RETENTION)
        .await
        .expect("complete");
    store.release(&key, &second).await.expect("release");
    assert_eq!(store.claim(&key, &second, LEASE).await, Ok(Claim::InFlight));
    assert_eq!(store.renew(&key, &first, LEASE).await, Ok(true));
    store
        .complete(&key, &first, RETENTION)
        .await
        .expect("complete");
    assert_eq!(store.claim(&key, &second, LEASE).await, Ok(Claim::Done));
    // A completed record is no longer anyone's claim.
    assert_eq!(store.renew(&key, &first, LEASE).await, Ok(false));
    store.release(&key, &first).await.expect("release");
    assert_eq!(store.claim(&key, &second, LEASE).await, Ok(Claim::Done));

    // Released: the next claim is processed.
    let other = DedupKey::new("parallel:default", "whevent_2");
    assert_eq!(store.claim(&other, &first, LEASE).await, Ok(Claim::Claimed));
    store.release(&other, &first).await.expect("release");
    assert_eq!(
        store.claim(&other, &second, LEASE).await,
        Ok(Claim::Claimed)
    );
    // Keys are namespaced: the same id on another endpoint is another delivery.
    let elsewhere = DedupKey::new("parallel:billing", "whevent_1");
    assert_eq!(
        store.claim(&elsewhere, &first, LEASE).await,
        Ok(Claim::Claimed)
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_late_owner_changes_nothing() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = store(&pool, "leases").await;
    let key = DedupKey::new("sixtyfour:default", "crashed");
    let (dead, next) = (ClaimToken::random(), ClaimToken::random());
    let short = Duration::from_millis(300);
    assert_eq!(store.claim(&key, &dead, short).await, Ok(Claim::Claimed));
    assert_eq!(store.claim(&key, &next, LEASE).await, Ok(Claim::InFlight));
    // Renewed, the claim outlives its first lease.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.renew(&key, &dead, short).await, Ok(true));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.claim(&key, &next, LEASE).await, Ok(Claim::InFlight));
    // Not renewed, it expires and is taken over.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.claim(&key, &next, LEASE).await, Ok(Claim::Claimed));
    // The late owner's calls leave the new owner's record alone.
    assert_eq!(store.renew(&key, &dead, LEASE).await, Ok(false));
    store
        .complete(&key, &dead, RETENTION)
        .await
        .expect("complete");
    store.release(&key, &dead).await.expect("release");
    assert_eq!(store.claim(&key, &dead, LEASE).await, Ok(Claim::InFlight));
    assert_eq!(store.renew(&key, &next, LEASE).await, Ok(true));
}

#[tokio::test]
async fn done_records_are_kept_for_the_retention_then_purged_through_the_index() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = PgStore::builder(pool.clone())
        .table("retention")
        .purge_interval(None)
        .build()
        .expect("store");
    store.migrate().await.expect("migrated");
    let key = DedupKey::new("parseflow:default", "dlv_1");
    let token = ClaimToken::random();
    assert_eq!(store.claim(&key, &token, LEASE).await, Ok(Claim::Claimed));
    store
        .complete(&key, &token, Duration::from_millis(300))
        .await
        .expect("complete");
    assert_eq!(
        store.claim(&key, &ClaimToken::random(), LEASE).await,
        Ok(Claim::Done)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Past its retention the record is forgotten: a delivery of the id is processed again.
    let again = ClaimToken::random();
    assert_eq!(store.claim(&key, &again, LEASE).await, Ok(Claim::Claimed));
    store.release(&key, &again).await.expect("release");

    // 20,000 records in their time and 30 past it: the purge deletes the 30, and the
    // planner finds them through the `expires_at` index, not by reading the table.
    sqlx::query(
        "INSERT INTO webhook_guard.retention (key, owner, expires_at)
         SELECT 'live:' || n, NULL::uuid, now() + interval '1 hour' FROM generate_series(1, 20000) n
         UNION ALL
         SELECT 'old:' || n, NULL::uuid, now() - interval '1 hour' FROM generate_series(1, 30) n",
    )
    .execute(&pool)
    .await
    .expect("rows");
    sqlx::query("ANALYZE webhook_guard.retention")
        .execute(&pool)
        .await
        .expect("analyze");
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN DELETE FROM webhook_guard.retention WHERE key IN (
           SELECT key FROM webhook_guard.retention WHERE expires_at < now()
           ORDER BY expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)",
    )
    .fetch_all(&pool)
    .await
    .expect("plan");
    let plan = plan.join("\n");
    assert!(plan.contains("retention_expires_at"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert_eq!(store.purge().await, Ok(30));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_guard.retention")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 20_000);
    assert_eq!(store.purge().await, Ok(0));
}

#[tokio::test]
async fn the_background_purge_runs_and_stops_with_the_store() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = PgStore::builder(pool.clone())
        .table("background")
        .purge_interval(Some(Duration::from_millis(100)))
        .build()
        .expect("store");
    store.migrate().await.expect("migrated");
    let token = ClaimToken::random();
    for i in 0..5 {
        let key = DedupKey::new("github:default", &format!("d{i}"));
        assert_eq!(store.claim(&key, &token, LEASE).await, Ok(Claim::Claimed));
        store
            .complete(&key, &token, Duration::from_millis(1))
            .await
            .expect("complete");
    }
    // Past their time by more than the purge's grace (a minute).
    sqlx::query("UPDATE webhook_guard.background SET expires_at = now() - interval '2 minutes'")
        .execute(&pool)
        .await
        .expect("aged");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM webhook_guard.background")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count().await > 0 {
        assert!(std::time::Instant::now() < deadline, "never purged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn names_are_checked_and_the_table_is_where_it_was_named() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    for (schema, table) in [("public", "Bad"), ("x\"; DROP TABLE y; --", "t"), ("s", "")] {
        let built = PgStore::builder(pool.clone())
            .schema(schema)
            .table(table)
            .build();
        assert!(
            matches!(built, Err(PgStoreError::InvalidName(_))),
            "{schema}.{table}"
        );
    }
    assert!(matches!(
        PgStore::builder(pool.clone())
            .timeout(Duration::ZERO)
            .build(),
        Err(PgStoreError::InvalidTimeout)
    ));
    let store = PgStore::builder(pool.clone())
        .schema("billing")
        .table("inbound_webhooks")
        .build()
        .expect("store");
    assert_eq!(store.table(), "\"billing\".\"inbound_webhooks\"");
    // Before the migration, calls fail as a store does (the receiver answers 503).
    let key = DedupKey::new("stripe:default", "evt_1");
    assert!(
        store
            .claim(&key, &ClaimToken::random(), LEASE)
            .await
            .is_err()
    );
    // Replicas migrating at once: every one succeeds.
    let migrations: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.migrate().await })
        })
        .collect();
    for migration in migrations {
        migration.await.expect("task").expect("migrated");
    }
    assert_eq!(
        store.claim(&key, &ClaimToken::random(), LEASE).await,
        Ok(Claim::Claimed)
    );
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema = 'billing' AND table_name = 'inbound_webhooks'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(tables, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_of_one_key_have_one_winner() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = store(&pool, "race").await;
    for round in 0..20 {
        let key = DedupKey::new("parallel:default", &format!("race-{round}"));
        let claims: Vec<_> = (0..32)
            .map(|_| {
                let (store, key) = (store.clone(), key.clone());
                tokio::spawn(async move {
                    store
                        .claim(&key, &ClaimToken::random(), LEASE)
                        .await
                        .expect("claim")
                })
            })
            .collect();
        let mut claimed = 0;
        for claim in claims {
            if claim.await.expect("task") == Claim::Claimed {
                claimed += 1;
            }
        }
        assert_eq!(claimed, 1, "round {round}");
    }
}

/// A release that finds no record fences its token: the claim it was meant to undo, arriving
/// late (sent on a connection the client gave up on), is refused; any other owner claims the
/// key at once; the purge leaves the fence for a minute.
#[tokio::test]
async fn a_release_before_its_claim_fences_the_late_claim() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = store(&pool, "fences").await;
    let key = DedupKey::new("parseflow:default", "dlv_fenced");
    let late = ClaimToken::random();
    store.release(&key, &late).await.expect("release");
    assert_eq!(
        store.purge().await,
        Ok(0),
        "a fence outlives the next purge"
    );
    assert_eq!(store.claim(&key, &late, LEASE).await, Ok(Claim::InFlight));
    assert_eq!(store.renew(&key, &late, LEASE).await, Ok(false));
    let other = ClaimToken::random();
    assert_eq!(store.claim(&key, &other, LEASE).await, Ok(Claim::Claimed));
    assert_eq!(store.claim(&key, &late, LEASE).await, Ok(Claim::InFlight));
    store
        .complete(&key, &other, RETENTION)
        .await
        .expect("complete");
    assert_eq!(store.claim(&key, &late, LEASE).await, Ok(Claim::Done));
    // A release of a claim that exists deletes it and leaves no fence.
    let plain = DedupKey::new("parseflow:default", "dlv_plain");
    let held = ClaimToken::random();
    assert_eq!(store.claim(&plain, &held, LEASE).await, Ok(Claim::Claimed));
    store.release(&plain, &held).await.expect("release");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_guard.fences WHERE key = $1")
        .bind(plain.as_str())
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 0);
}

/// The bytes a completed record takes (table and both indexes) at 100,000 records with
/// 64-hex-digit ids (the longest: body digests), for the sizing table of `docs/overload.md`.
#[tokio::test]
async fn a_completed_record_takes_under_300_bytes() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let _store = store(&pool, "sizing").await;
    sqlx::query(
        "INSERT INTO webhook_guard.sizing (key, owner, expires_at)
         SELECT 'github:default:' || encode(sha256(n::text::bytea), 'hex'), NULL::uuid,
                now() + interval '7 days'
         FROM generate_series(1, 100000) n",
    )
    .execute(&pool)
    .await
    .expect("rows");
    sqlx::query("VACUUM ANALYZE webhook_guard.sizing")
        .execute(&pool)
        .await
        .expect("vacuum");
    let bytes: i64 =
        sqlx::query_scalar("SELECT pg_total_relation_size('webhook_guard.sizing')::bigint")
            .fetch_one(&pool)
            .await
            .expect("size");
    let per_record = bytes / 100_000;
    eprintln!("Postgres: {per_record} bytes a completed record (table and indexes)");
    assert!(per_record < 300, "{per_record} bytes a record");
}

/// `inspect` tells a claim in flight from a completed record (and a fence from nothing);
/// `forget` removes either, and the next claim is processed.
#[tokio::test]
async fn inspect_and_forget() {
    use webhook_guard::dedup::Record;
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let pool = pool(&server).await;
    let store = store(&pool, "forget").await;
    let key = DedupKey::new("parseflow:default", "dlv_forget");
    assert_eq!(store.inspect(&key).await, Ok(None));
    let token = ClaimToken::random();
    assert_eq!(store.claim(&key, &token, LEASE).await, Ok(Claim::Claimed));
    assert!(
        matches!(store.inspect(&key).await, Ok(Some(Record::InFlight { expires_in })) if expires_in <= LEASE)
    );
    store
        .complete(&key, &token, RETENTION)
        .await
        .expect("complete");
    assert!(
        matches!(store.inspect(&key).await, Ok(Some(Record::Done { expires_in })) if expires_in <= RETENTION && expires_in > LEASE)
    );
    assert_eq!(store.forget(&key).await, Ok(true));
    assert_eq!(store.inspect(&key).await, Ok(None));
    assert_eq!(store.forget(&key).await, Ok(false));
    assert_eq!(
        store.claim(&key, &ClaimToken::random(), LEASE).await,
        Ok(Claim::Claimed)
    );
    let fenced = DedupKey::new("parseflow:default", "dlv_fence_only");
    store
        .release(&fenced, &ClaimToken::random())
        .await
        .expect("release");
    assert_eq!(store.inspect(&fenced).await, Ok(None));
}
