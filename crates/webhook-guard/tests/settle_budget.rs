//! A completion is never given up because orphaned claims fill the background: during a store
//! outage with a replay storm, the releases of failed claims fill their own pool, and a
//! delivery whose handler ran and whose first `complete` failed is still completed, so its
//! retry is a duplicate instead of a second run. (In a file of its own: the pools are per
//! process, and this test fills one.)

use std::{
    future::Future,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use webhook_guard::{
    Receiver,
    adapter::{self, Runtime, Task},
    clock::ManualClock,
    dedup::{DedupStore, MemoryStore, StoreErrorKind},
    fixtures::{self, demo},
    parseflow::ParseFlow,
    receiver::RejectionKind,
    testkit::{Call, Fault, FaultyStore},
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
    background: drop,
    sleep: |_| Box::pin(std::future::ready(())),
};

#[test]
fn a_completion_is_not_given_up_when_orphans_fill_the_background() {
    let clock = ManualClock::at_unix_seconds(NOW);
    let memory = || MemoryStore::builder().clock(clock.clone()).build();
    // The storm's store: every claim and release times out.
    let down = Arc::new(FaultyStore::new(memory()));
    down.set(Call::Claim, Some(Fault::Fail(StoreErrorKind::Timeout)));
    down.set(Call::Release, Some(Fault::Fail(StoreErrorKind::Timeout)));
    // The real deliveries' store: the first `complete` of each delivery fails (call 0: the
    // first phase's; calls 2 to 4,098: the first of each of the second phase's 4,097), its
    // retries go through.
    let last = adapter::MAX_BACKGROUND_RETRIES + 2;
    let store = Arc::new(
        FaultyStore::new(memory())
            .on_calls(Call::Complete, 0..1, Fault::Fail(StoreErrorKind::Timeout))
            .on_calls(
                Call::Complete,
                2..last + 1,
                Fault::Fail(StoreErrorKind::Timeout),
            ),
    );
    let receiver = |endpoint: &str, store: Arc<FaultyStore<MemoryStore>>| {
        Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
            .store(store as Arc<dyn DedupStore>)
            .endpoint(endpoint)
            .clock(clock.clone())
            // Off: every claim of the storm reaches the store and leaves an orphan.
            .circuit_breaker(0, Duration::from_millis(500))
            .build()
            .expect("receiver")
    };
    let (storm, real) = (
        receiver("storm", down),
        receiver("real", Arc::clone(&store)),
    );
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
    let before = store.calls(Call::Complete);
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("answered");
    assert_eq!(
        HELD.lock().expect("lock").len(),
        waiting,
        "no background task: completed in place"
    );
    assert_eq!(store.calls(Call::Complete), before + 2, "failed, then done");
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
