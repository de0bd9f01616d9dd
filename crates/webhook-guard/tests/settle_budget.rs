//! A completion is never given up because orphaned claims fill the background: during a store
//! outage with a replay storm, the releases of failed claims fill their own pool, and a
//! delivery whose handler ran and whose first `complete` failed is still completed, so its
//! retry is a duplicate instead of a second run. (In a file of its own: the pools are per
//! process, and this test fills one.)

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use webhook_guard::{
    Receiver,
    adapter::{self, Runtime, Task},
    clock::ManualClock,
    dedup::{
        Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError, StoreErrorKind,
        StoreFuture,
    },
    fixtures::{self, demo},
    parseflow::ParseFlow,
    receiver::RejectionKind,
};

const NOW: i64 = 1_761_577_000;

fn block_on<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Background tasks kept, never run: each holds its place in its pool.
static HELD: Mutex<Vec<Task>> = Mutex::new(Vec::new());
const HOLDING: Runtime = Runtime {
    spawn: |task| HELD.lock().expect("lock").push(task),
    sleep: |_| Box::pin(std::future::ready(())),
};

/// A store whose claims fail on the storm's endpoint, and whose first `complete` of each key
/// fails; everything else goes to a memory store.
#[derive(Debug)]
struct Faulty {
    inner: MemoryStore,
    completed_once: Mutex<std::collections::HashSet<String>>,
    completions: AtomicUsize,
}

fn unavailable<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "timed out")) })
}

impl DedupStore for Faulty {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        if key.as_str().contains("storm") {
            return unavailable();
        }
        self.inner.claim(key, token, lease)
    }
    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        self.inner.renew(key, token, lease)
    }
    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        self.completions.fetch_add(1, Ordering::AcqRel);
        let first = self
            .completed_once
            .lock()
            .expect("lock")
            .insert(key.as_str().to_owned());
        if first {
            return unavailable();
        }
        self.inner.complete(key, token, retention)
    }
    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        if key.as_str().contains("storm") {
            return unavailable();
        }
        self.inner.release(key, token)
    }
}

#[test]
fn a_completion_is_not_given_up_when_orphans_fill_the_background() {
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(Faulty {
        inner: MemoryStore::builder().clock(clock.clone()).build(),
        completed_once: Mutex::new(std::collections::HashSet::new()),
        completions: AtomicUsize::new(0),
    });
    let receiver = |endpoint: &str| {
        Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
            .store(Arc::clone(&store) as Arc<dyn DedupStore>)
            .endpoint(endpoint)
            .clock(clock.clone())
            // Off: every claim of the storm reaches the store and leaves an orphan.
            .circuit_breaker(0, Duration::from_millis(500))
            .build()
            .expect("receiver")
    };
    let (storm, real) = (receiver("storm"), receiver("real"));
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers = fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_1", NOW, body)
        .expect("signed")
        .to_header_map();
    let read = |receiver: &Receiver<ParseFlow>| {
        let no_timer = |_| std::future::pending::<()>();
        let body = String::from_utf8(body.to_vec()).expect("UTF-8");
        block_on(adapter::read_body(receiver, &headers, body, no_timer)).expect("read")
    };

    // The storm: every claim fails, and each leaves an orphan release in the background.
    for _ in 0..adapter::MAX_BACKGROUND_RETRIES + 100 {
        let answer = block_on(adapter::accept(&storm, &headers, read(&storm), HOLDING));
        assert!(matches!(
            answer.map(|_| ()).map_err(|r| r.kind().clone()),
            Err(RejectionKind::StoreUnavailable(_))
        ));
    }
    let orphans = HELD.lock().expect("lock").len();
    assert_eq!(
        orphans,
        adapter::MAX_BACKGROUND_RETRIES,
        "the orphans' pool is full"
    );

    // A real delivery: its handler runs, its first `complete` fails; the retry is not refused
    // for want of a place.
    let accepted = block_on(adapter::accept(&real, &headers, read(&real), HOLDING)).expect("new");
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("answered");
    let retries: Vec<Task> = HELD.lock().expect("lock").drain(orphans..).collect();
    assert_eq!(
        retries.len(),
        1,
        "the completion is retried in the background"
    );
    for task in retries {
        block_on(task);
    }
    // The sender's retry of the same delivery is a duplicate: the handler does not run again.
    let again = block_on(adapter::accept(&real, &headers, read(&real), HOLDING));
    assert_eq!(
        again.map(|_| ()).map_err(|r| r.kind().clone()),
        Err(RejectionKind::Duplicate)
    );

    // Many slow completions: deliveries whose first `complete` failed fill the completions'
    // pool. The next one finds no place and completes in place, before its answer.
    for i in 0..adapter::MAX_BACKGROUND_RETRIES {
        let body = quota_body(i);
        let accepted = accept_body(&real, &body).expect("new");
        block_on(accepted.claim.finish(http::StatusCode::OK)).expect("answered");
    }
    let waiting = HELD.lock().expect("lock").len();
    let last = quota_body(adapter::MAX_BACKGROUND_RETRIES);
    let accepted = accept_body(&real, &last).expect("new");
    let before = store.completions.load(Ordering::Acquire);
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("answered");
    assert_eq!(
        HELD.lock().expect("lock").len(),
        waiting,
        "no background task: completed in place"
    );
    assert_eq!(
        store.completions.load(Ordering::Acquire),
        before + 2,
        "failed, then done"
    );
    assert_eq!(
        accept_body(&real, &last)
            .map(|_| ())
            .map_err(|r| r.kind().clone()),
        Err(RejectionKind::Duplicate)
    );
    HELD.lock().expect("lock").clear();
}

/// A ParseFlow `quota.warning` body of its own (ParseFlow deduplicates by the body's digest).
fn quota_body(used: usize) -> Vec<u8> {
    format!(
        r#"{{"event":"quota.warning","timestamp":"2025-01-15T10:30:00Z","data":{{"used":{used},"limit":100000}}}}"#
    )
    .into_bytes()
}

/// Signs `body` and runs it through `receiver` up to the handler.
fn accept_body(
    receiver: &Receiver<ParseFlow>,
    body: &[u8],
) -> Result<adapter::Accepted<webhook_guard::parseflow::Event>, webhook_guard::Rejection> {
    let headers = fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv", NOW, body)
        .expect("signed")
        .to_header_map();
    let no_timer = |_| std::future::pending::<()>();
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let read = block_on(adapter::read_body(receiver, &headers, text, no_timer))?;
    block_on(adapter::accept(receiver, &headers, read, HOLDING))
}
