//! `webhook-guard inbox` against a real Postgres and a real Redis (each skipped with a printed
//! reason without its server, unless `REQUIRE_POSTGRES=1` / `REQUIRE_REDIS=1`): list (tab-separated and JSON), show with the body verified
//! again, replay by id and by filter, pause and resume, purge, stats, and the exit codes.

use std::{process::Command, time::Duration};

use bytes::Bytes;
use webhook_guard::{
    fixtures,
    inbox::{ClaimRequest, EntryState, Inbox, NewEntry, Settlement, StoredHeaders},
};
use webhook_guard_postgres::{PgInbox, test_server::PostgresServer};
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

/// Where the inbox is: the variable naming it, and its URL.
#[derive(Clone, Copy)]
struct Target<'a> {
    variable: &'static str,
    url: &'a str,
}

fn cli(target: Target<'_>, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env(target.variable, target.url)
        .env_remove("PARSEFLOW_WEBHOOK_SECRET")
        .output()
        .expect("ran");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A signed ParseFlow delivery `n`, stored as the receiver stores it.
fn entry(n: u32) -> NewEntry {
    let secret = fixtures::demo::secret("parseflow").expect("demo secret");
    let body = format!(
        r#"{{"event":"quota.warning","timestamp":"2025-01-15T10:30:00Z","data":{{"used":{n},"limit":1000}}}}"#
    );
    let id = format!("dlv_{n}");
    let signed = fixtures::sign("parseflow", secret, &id, 0, body.as_bytes()).expect("signed");
    let mut new = NewEntry::new(
        "parseflow",
        "default",
        &id,
        &format!("parseflow:default:{n}"),
    );
    new.event_type = "quota.warning".to_owned();
    new.signed_by = Some(0);
    new.headers = StoredHeaders::from_request(&signed);
    new.body = Bytes::from(body);
    new
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_commands_on_a_real_postgres() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.url();
    let pool = sqlx::PgPool::connect(&url).await.expect("connected");
    let store = PgInbox::new(pool);
    store.migrate().await.expect("migrated");
    let target = Target {
        variable: "DATABASE_URL",
        url: &url,
    };
    inbox_commands(
        target,
        Inbox::new(store),
        "postgres://nobody@127.0.0.1:1/none",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_commands_on_a_real_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let store = RedisInbox::connect(url.clone()).await.expect("connected");
    let target = Target {
        variable: "REDIS_URL",
        url: &url,
    };
    inbox_commands(target, Inbox::new(store), "redis://127.0.0.1:1/").await;
}

/// Every command on `inbox`, which the CLI reaches through `target`; `unreachable` is a URL
/// of the same kind with no server.
async fn inbox_commands(target: Target<'_>, inbox: Inbox, unreachable: &str) {
    for n in 0..5 {
        inbox.store().enqueue(&entry(n)).await.expect("stored");
    }
    // Three dead letters.
    let mut request = ClaimRequest::new(3, Duration::from_secs(30), "cli-test");
    request.routes = vec![("parseflow".to_owned(), "default".to_owned())];
    for claimed in inbox.store().claim(&request).await.expect("claim") {
        let dead = Settlement::Dead {
            error: "down".to_owned(),
        };
        assert!(
            inbox
                .store()
                .settle(&claimed.lease, &dead)
                .await
                .expect("settle")
        );
    }

    let (code, out, err) = cli(target, &["inbox", "list"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0][1], "dead");
    assert_eq!(lines[0][2], "parseflow");
    assert_eq!(lines[0][3], "dlv_0");
    assert_eq!(lines[0][4], "quota.warning");
    assert_eq!(lines[0][5], "1");
    assert!(
        lines[0][6].starts_with("20"),
        "received at, RFC 3339: {out}"
    );
    let first_id = lines[0][0].to_owned();

    let (code, out, _) = cli(target, &["inbox", "list", "--state", "dead", "--json"]);
    assert_eq!(code, 0);
    let json: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(json.len(), 3);
    assert_eq!(json[0]["state"], "dead");
    assert_eq!(json[0]["last_error"], "down");
    let (_, pending, _) = cli(
        target,
        &[
            "inbox",
            "list",
            "--state",
            "pending",
            "--provider",
            "parseflow",
        ],
    );
    assert_eq!(pending.lines().count(), 2);

    // Show: the body verifies again with the secret, and fails with another.
    let secret = fixtures::demo::secret("parseflow").expect("demo secret");
    let (code, out, _) = cli(target, &["inbox", "show", &first_id, "--secret", secret]);
    assert_eq!(code, 0);
    assert!(out.contains("verify\tPASS"), "{out}");
    assert!(
        out.contains(r#""used":0"#),
        "the raw body is printed: {out}"
    );
    assert!(out.contains("history\t"), "{out}");
    let (_, out, _) = cli(
        target,
        &[
            "inbox",
            "show",
            &first_id,
            "--secret",
            "whsec_SomeOtherSecretNotTheSenders00",
        ],
    );
    assert!(out.contains("verify\tFAIL"), "{out}");
    let (code, _, err) = cli(target, &["inbox", "show", "999999"]);
    assert_eq!(code, 1, "a missing entry is an error: {err}");

    // Replay one by id, then the rest of the dead ones by filter.
    let (code, out, _) = cli(target, &["inbox", "replay", &first_id]);
    assert_eq!((code, out.trim()), (0, "replayed 1"));
    let (code, out, _) = cli(
        target,
        &[
            "inbox",
            "replay",
            "--filter",
            "state=dead,provider=parseflow",
        ],
    );
    assert_eq!((code, out.trim()), (0, "replayed 2"));
    let stats = inbox.store().stats().await.expect("stats");
    assert_eq!((stats.pending, stats.dead), (5, 0));

    // Bad usage: exit 2.
    assert_eq!(
        cli(target, &["inbox", "replay", "--filter", "colour=red"]).0,
        2
    );
    assert_eq!(cli(target, &["inbox", "list", "--state", "sleeping"]).0, 2);
    assert_eq!(cli(target, &["inbox", "replay"]).0, 2);

    // Pause and resume.
    assert_eq!(cli(target, &["inbox", "pause", "parseflow"]).0, 0);
    let (_, out, _) = cli(target, &["inbox", "stats"]);
    assert!(
        out.contains("pending\t5") && out.contains("paused\tparseflow"),
        "{out}"
    );
    let mut request = ClaimRequest::new(10, Duration::from_secs(30), "paused");
    request.routes = vec![("parseflow".to_owned(), "default".to_owned())];
    assert!(
        inbox
            .store()
            .claim(&request)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(cli(target, &["inbox", "resume", "parseflow"]).0, 0);
    let claimed = inbox.store().claim(&request).await.expect("claim");
    assert_eq!(claimed.len(), 5);
    for entry in &claimed {
        assert!(
            inbox
                .store()
                .settle(&entry.lease, &Settlement::Done)
                .await
                .expect("settle")
        );
    }
    // Purge: nothing is that old; then everything done.
    let (_, out, _) = cli(target, &["inbox", "purge", "--older-than", "1h"]);
    assert_eq!(out.trim(), "purged 0");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (code, out, _) = cli(target, &["inbox", "purge", "--older-than", "1ms"]);
    assert_eq!((code, out.trim()), (0, "purged 5"));
    let listed = inbox
        .store()
        .list(&Default::default(), None, 10)
        .await
        .expect("list");
    assert!(listed.iter().all(|e| e.state != EntryState::Done));
    // No server: exit 1.
    let nowhere = Target {
        url: unreachable,
        ..target
    };
    let (code, _, err) = cli(nowhere, &["inbox", "stats"]);
    assert_eq!(code, 1, "{err}");
}
