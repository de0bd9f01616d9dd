//! The receiver with a `TransactionalStore`, in process, on a fake store that records what
//! the receiver asks of it: a 2xx commits, anything else rolls back, a failed commit turns
//! the answer into 503 (never the handler's 2xx), a dropped guard rolls back, a committed
//! delivery is a duplicate and an open one in flight, and fail-open is refused.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use webhook_guard::{
    ConfigError, Receiver,
    adapter::{self, Runtime},
    clock::ManualClock,
    dedup::{
        Begin, DedupKey, StoreError, StoreErrorKind, StoreFuture, Transaction, TransactionHandle,
        TransactionalStore,
    },
    parallel::Parallel,
    receiver::{FailMode, Outcome, RejectionKind},
};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Background tasks run at once, on this thread.
const RUN_NOW: Runtime = Runtime {
    spawn: |task| block_on(task),
    background: drop,
    sleep: |_| Box::pin(std::future::pending()),
};

/// What a key is in the fake database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Committed,
}

/// A transactional store in memory: `begin` opens a key, `commit` keeps it, `rollback`
/// forgets it; commits fail while `fail_commits` is set.
#[derive(Debug, Default)]
struct FakeDatabase {
    keys: Mutex<HashMap<String, State>>,
    log: Mutex<Vec<String>>,
    fail_commits: AtomicBool,
    /// Every `begin` call, whatever it answered.
    begins: AtomicUsize,
}

#[derive(Debug)]
struct FakeTransaction {
    database: Arc<FakeDatabase>,
    key: String,
}

impl FakeDatabase {
    fn log(&self) -> Vec<String> {
        self.log.lock().expect("lock").clone()
    }

    fn state(&self, key: &str) -> Option<State> {
        self.keys.lock().expect("lock").get(key).copied()
    }
}

#[derive(Debug)]
struct Store(Arc<FakeDatabase>);

impl TransactionalStore for Store {
    fn begin<'a>(&'a self, key: &'a DedupKey, _retention: Duration) -> StoreFuture<'a, Begin> {
        Box::pin(async move {
            self.0.begins.fetch_add(1, Ordering::SeqCst);
            let mut keys = self.0.keys.lock().expect("lock");
            Ok(match keys.get(key.as_str()) {
                Some(State::Open) => Begin::InFlight,
                Some(State::Committed) => Begin::Done,
                None => {
                    keys.insert(key.to_string(), State::Open);
                    self.0
                        .log
                        .lock()
                        .expect("lock")
                        .push(format!("begin {key}"));
                    Begin::Claimed(Box::new(FakeTransaction {
                        database: Arc::clone(&self.0),
                        key: key.to_string(),
                    }))
                }
            })
        })
    }
}

impl Transaction for FakeTransaction {
    fn handle(&self) -> TransactionHandle {
        TransactionHandle::new(Arc::new(self.key.clone()))
    }

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            let mut keys = self.database.keys.lock().expect("lock");
            if self.database.fail_commits.load(Ordering::SeqCst) {
                keys.remove(&self.key);
                self.database
                    .log
                    .lock()
                    .expect("lock")
                    .push(format!("commit failed {}", self.key));
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "connection lost",
                ));
            }
            keys.insert(self.key.clone(), State::Committed);
            self.database
                .log
                .lock()
                .expect("lock")
                .push(format!("commit {}", self.key));
            Ok(())
        })
    }

    fn rollback(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            self.database.keys.lock().expect("lock").remove(&self.key);
            self.database
                .log
                .lock()
                .expect("lock")
                .push(format!("rollback {}", self.key));
            Ok(())
        })
    }
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_761_577_000;
const BODY: &[u8] = br#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z","data":{"monitor_id":"monitor_1","event":{"event_group_id":"mevtgrp_1"}}}"#;

fn setup() -> (Arc<FakeDatabase>, Receiver<Parallel>) {
    let database = Arc::new(FakeDatabase::default());
    let receiver = Receiver::builder(Parallel::new(SECRET).expect("secret"))
        .transactional_store(Arc::new(Store(Arc::clone(&database))))
        .clock(ManualClock::at_unix_seconds(NOW))
        .build()
        .expect("receiver");
    (database, receiver)
}

fn headers(id: &str, body: &[u8]) -> http::HeaderMap {
    Parallel::new(SECRET)
        .expect("secret")
        .sign_headers(id, NOW, body)
        .expect("signed")
        .to_header_map()
}

fn accept(
    receiver: &Receiver<Parallel>,
    id: &str,
) -> Result<adapter::Accepted<webhook_guard::parallel::Event>, webhook_guard::Rejection> {
    block_on(adapter::accept(
        receiver,
        &headers(id, BODY),
        Bytes::from_static(BODY),
        RUN_NOW,
    ))
}

#[test]
fn a_2xx_commits_and_a_retry_is_a_duplicate() {
    let (database, receiver) = setup();
    let accepted = accept(&receiver, "dlv_1").expect("accepted");
    // The handler finds its transaction through the handle the adapter puts in the request.
    let handle = accepted.claim.transaction().expect("a transaction");
    assert_eq!(
        handle.downcast::<String>().as_deref().map(String::as_str),
        Some("parallel:default:dlv_1")
    );
    assert!(accepted.claim.holds_claim());
    assert_eq!(
        accept(&receiver, "dlv_1").err().map(|r| r.status()),
        Some(http::StatusCode::CONFLICT)
    );
    block_on(accepted.claim.finish(http::StatusCode::NO_CONTENT)).expect("committed");
    assert_eq!(
        database.state("parallel:default:dlv_1"),
        Some(State::Committed)
    );
    let again = accept(&receiver, "dlv_1").expect_err("a duplicate");
    assert_eq!(again.kind(), &RejectionKind::Duplicate);
    assert_eq!(again.status(), 200);
    assert_eq!(
        database.log(),
        [
            "begin parallel:default:dlv_1",
            "commit parallel:default:dlv_1"
        ]
    );
}

#[test]
fn anything_but_a_2xx_rolls_back_and_the_retry_is_processed() {
    let (database, receiver) = setup();
    let accepted = accept(&receiver, "dlv_2").expect("accepted");
    block_on(
        accepted
            .claim
            .finish(http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .expect("settled");
    let accepted = accept(&receiver, "dlv_2").expect("processed again");
    block_on(accepted.claim.release()).expect("settled");
    // Dropped unfinished (a panic, a dropped request): rolled back through the runtime.
    let accepted = accept(&receiver, "dlv_2").expect("processed again");
    drop(accepted);
    let accepted = accept(&receiver, "dlv_2").expect("processed again");
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("committed");
    assert_eq!(
        database.log(),
        [
            "begin parallel:default:dlv_2",
            "rollback parallel:default:dlv_2",
            "begin parallel:default:dlv_2",
            "rollback parallel:default:dlv_2",
            "begin parallel:default:dlv_2",
            "rollback parallel:default:dlv_2",
            "begin parallel:default:dlv_2",
            "commit parallel:default:dlv_2",
        ]
    );
}

#[test]
fn a_failed_commit_is_answered_503_never_the_handlers_2xx() {
    let (database, receiver) = setup();
    database.fail_commits.store(true, Ordering::SeqCst);
    let accepted = accept(&receiver, "dlv_3").expect("accepted");
    let rejection =
        block_on(accepted.claim.finish(http::StatusCode::OK)).expect_err("not committed");
    assert_eq!(rejection.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rejection.outcome(), Outcome::StoreUnavailable);
    assert!(rejection.headers().contains_key(http::header::RETRY_AFTER));
    assert_eq!(
        rejection.public_message(),
        "temporarily unavailable, retry later"
    );
    // The provider retries, and this time the commit goes through.
    database.fail_commits.store(false, Ordering::SeqCst);
    let accepted = accept(&receiver, "dlv_3").expect("processed again");
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("committed");
    assert_eq!(
        database.state("parallel:default:dlv_3"),
        Some(State::Committed)
    );
}

#[test]
fn a_malformed_body_rolls_back_its_claim() {
    let (database, receiver) = setup();
    let body = b"not json";
    let headers = headers("dlv_4", body);
    let refused = block_on(adapter::accept(
        &receiver,
        &headers,
        Bytes::from_static(body),
        RUN_NOW,
    ));
    assert_eq!(
        refused.err().map(|r| r.status()),
        Some(http::StatusCode::BAD_REQUEST)
    );
    assert_eq!(database.state("parallel:default:dlv_4"), None);
    assert_eq!(
        database.log(),
        [
            "begin parallel:default:dlv_4",
            "rollback parallel:default:dlv_4"
        ]
    );
}

#[test]
fn a_transactional_store_cannot_fail_open() {
    let built = Receiver::builder(Parallel::new(SECRET).expect("secret"))
        .transactional_store(Arc::new(Store(Arc::default())))
        .fail_mode(FailMode::Open)
        .build();
    assert!(matches!(
        built,
        Err(ConfigError::IncompatibleOptions { .. })
    ));
    assert!(
        built
            .err()
            .is_some_and(|e| e.to_string().contains("cannot fail open"))
    );
}

#[test]
fn a_replay_storm_of_a_committed_delivery_costs_one_store_call() {
    let (database, receiver) = setup();
    let accepted = accept(&receiver, "dlv_storm").expect("accepted");
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("committed");
    assert_eq!(database.begins.load(Ordering::SeqCst), 1);
    // 4,000 copies: the first asks the store (done), the rest are answered from the
    // receiver's memory of recently completed keys, with the same answer.
    for _ in 0..4000 {
        let copy = accept(&receiver, "dlv_storm").expect_err("a duplicate");
        assert_eq!(copy.kind(), &RejectionKind::Duplicate);
        assert_eq!(copy.status(), 200);
    }
    assert_eq!(database.begins.load(Ordering::SeqCst), 2);
    // Another delivery still reaches the store and is processed.
    let other = accept(&receiver, "dlv_other").expect("a new delivery is processed");
    block_on(other.claim.finish(http::StatusCode::OK)).expect("committed");
    assert_eq!(database.begins.load(Ordering::SeqCst), 3);
}
