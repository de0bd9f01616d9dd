//! Inbox mode through both adapters, over real sockets, on the memory, Postgres and Redis
//! inboxes: 202 after the entry is stored, 200 with the duplicate header for a copy, 401 and
//! nothing stored for a forged delivery, the entry run once by a worker, 503 while the inbox
//! fails; the handler behind the guard never runs.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use webhook_guard::{
    dedup::{StoreError, StoreErrorKind, StoreFuture},
    inbox::{
        ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, Filter, Inbox, InboxStore,
        MemoryInbox, NewEntry, PauseScope, ReplayStep, Settlement, Stats, Verdict,
    },
};
use webhook_guard_conformance::{Adapter, Options, client, now, receiver_for, sample, sign, start};
use webhook_guard_postgres::{PgInbox, test_server::PostgresServer};
use webhook_guard_redis::{RedisInbox, test_server::RedisServer};

async fn post(url: &str, provider: &str, id: &str, body: &[u8]) -> reqwest::Response {
    let headers = sign(provider, id, now(), body);
    let mut request = client().post(url).body(body.to_vec());
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    request.send().await.expect("sent")
}

/// The inboxes to run on: memory always, Postgres and Redis when their servers start (the
/// guard keeps them running).
async fn backends() -> Vec<(&'static str, Inbox, Box<dyn std::any::Any + Send>)> {
    let mut backends: Vec<(&'static str, Inbox, Box<dyn std::any::Any + Send>)> =
        vec![("memory", Inbox::new(MemoryInbox::new()), Box::new(()))];
    if let Some(server) = PostgresServer::start() {
        let pool = sqlx::PgPool::connect(&server.url()).await.expect("pool");
        let store = PgInbox::new(pool);
        store.migrate().await.expect("migrated");
        backends.push(("postgres", Inbox::new(store), Box::new(server)));
    }
    if let Some(server) = RedisServer::start() {
        let store = RedisInbox::connect(server.url()).await.expect("redis");
        backends.push(("redis", Inbox::new(store), Box::new(server)));
    }
    backends
}

/// On every backend: 202 once stored, a copy's 200 with the duplicate header, a forged 401
/// with nothing stored; a worker then runs the entry once, and a copy after it is still a
/// duplicate.
async fn stored_then_run_once(adapter: Adapter) {
    for (backend, inbox, _server) in backends().await {
        eprintln!("{adapter} on {backend}");
        let options = Options {
            inbox: Some(inbox.clone()),
            ..Options::default()
        };
        let receiver = receiver_for("parallel", &options);
        let server = start(adapter, options).await;
        let body = sample("parallel");
        let url = server.url("parallel");
        let first = post(&url, "parallel", "msg_inbox_1", body).await;
        assert_eq!(first.status().as_u16(), 202, "{adapter} on {backend}");
        let copy = post(&url, "parallel", "msg_inbox_1", body).await;
        assert_eq!(copy.status().as_u16(), 200, "{adapter} on {backend}");
        assert!(copy.headers().contains_key("webhook-guard-duplicate"));
        let forged = client()
            .post(&url)
            .header("webhook-id", "msg_forged")
            .header("webhook-timestamp", now().to_string())
            .header("webhook-signature", "v1,AAAA")
            .body(body.to_vec())
            .send()
            .await
            .expect("sent");
        assert_eq!(forged.status().as_u16(), 401);
        let entries = inbox
            .store()
            .list(&Filter::default(), None, 10)
            .await
            .expect("list");
        assert_eq!(entries.len(), 1, "{adapter} on {backend}: one entry");
        assert_eq!(entries[0].times_seen, 2);
        assert_eq!(entries[0].provider, "parallel");
        assert!(
            server.calls().is_empty(),
            "{adapter} on {backend}: the route's handler never runs"
        );

        let runs = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&runs);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(
            inbox
                .worker()
                .poll_interval(Duration::from_millis(50))
                .route(&receiver, move |delivery, _attempt| {
                    let counted = Arc::clone(&counted);
                    async move {
                        assert_eq!(delivery.meta.delivery_id.as_str(), "msg_inbox_1");
                        counted.fetch_add(1, Ordering::SeqCst);
                        Verdict::Done
                    }
                })
                .run_until(async move {
                    let _ = stopped.await;
                }),
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while inbox.store().stats().await.expect("stats").done < 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{adapter} on {backend}: not run"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = post(&url, "parallel", "msg_inbox_1", body).await;
        assert_eq!(after.status().as_u16(), 200, "{adapter} on {backend}");
        let _ = stop.send(());
        worker.await.expect("worker");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{adapter} on {backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn axum_stores_then_runs_once_on_every_backend() {
    stored_then_run_once(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn actix_stores_then_runs_once_on_every_backend() {
    stored_then_run_once(Adapter::Actix).await;
}

/// An inbox whose every call fails.
#[derive(Debug)]
struct Down;

fn down<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
}

impl InboxStore for Down {
    fn enqueue<'a>(&'a self, _: &'a NewEntry) -> StoreFuture<'a, Enqueued> {
        down()
    }
    fn claim<'a>(&'a self, _: &'a ClaimRequest) -> StoreFuture<'a, Vec<ClaimedEntry>> {
        down()
    }
    fn renew<'a>(
        &'a self,
        _: &'a [webhook_guard::inbox::Lease],
        _: Duration,
    ) -> StoreFuture<'a, Vec<EntryId>> {
        down()
    }
    fn settle<'a>(
        &'a self,
        _: &'a webhook_guard::inbox::Lease,
        _: &'a Settlement,
    ) -> StoreFuture<'a, bool> {
        down()
    }
    fn rescue(&self, _: u32) -> StoreFuture<'_, u64> {
        down()
    }
    fn wait(&self, _: Duration) -> StoreFuture<'_, ()> {
        down()
    }
    fn get(&self, _: EntryId) -> StoreFuture<'_, Option<Entry>> {
        down()
    }
    fn list<'a>(
        &'a self,
        _: &'a Filter,
        _: Option<EntryId>,
        _: usize,
    ) -> StoreFuture<'a, Vec<Entry>> {
        down()
    }
    fn newest(&self) -> StoreFuture<'_, Option<EntryId>> {
        down()
    }
    fn stats(&self) -> StoreFuture<'_, Stats> {
        down()
    }
    fn replay<'a>(&'a self, _: &'a [EntryId]) -> StoreFuture<'a, Vec<EntryId>> {
        down()
    }
    fn replay_step<'a>(
        &'a self,
        _: &'a Filter,
        _: Option<EntryId>,
        _: usize,
    ) -> StoreFuture<'a, ReplayStep> {
        down()
    }
    fn pause<'a>(&'a self, _: &'a PauseScope) -> StoreFuture<'a, ()> {
        down()
    }
    fn resume<'a>(&'a self, _: &'a PauseScope) -> StoreFuture<'a, bool> {
        down()
    }
    fn paused(&self) -> StoreFuture<'_, Vec<PauseScope>> {
        down()
    }
    fn purge(&self, _: Duration, _: bool, _: usize) -> StoreFuture<'_, u64> {
        down()
    }
    fn forget<'a>(&'a self, _: &'a str) -> StoreFuture<'a, bool> {
        down()
    }
}

async fn unavailable(adapter: Adapter) {
    let server = start(
        adapter,
        Options {
            inbox: Some(Inbox::new(Down)),
            ..Options::default()
        },
    )
    .await;
    let answer = post(
        &server.url("parallel"),
        "parallel",
        "msg_down",
        sample("parallel"),
    )
    .await;
    assert_eq!(answer.status().as_u16(), 503, "{adapter}");
    assert!(answer.headers().contains_key("retry-after"));
    assert!(server.calls().is_empty());
}

#[tokio::test]
async fn axum_answers_503_while_the_inbox_fails() {
    unavailable(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_answers_503_while_the_inbox_fails() {
    unavailable(Adapter::Actix).await;
}
