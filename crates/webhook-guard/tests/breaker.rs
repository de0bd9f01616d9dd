//! The circuit breaker: during a store outage with a replay storm, after a few failed claims
//! deliveries are answered at once, with no store call and no background task; one probe per
//! interval sees when the store is back, and service resumes within that interval. On an
//! injected clock, with the test kit's `FaultyStore` (which counts the calls).

use std::{
    future::Future,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use webhook_guard::{
    Receiver,
    adapter::{self, Accepted, Runtime, Task},
    clock::ManualClock,
    dedup::{DedupStore, MemoryStore, StoreErrorKind},
    fixtures::{self, demo},
    parseflow::{Event, ParseFlow},
    receiver::{FailMode, RejectionKind},
    testkit::{Call, Fault, FaultyStore},
};

const NOW: i64 = 1_761_577_000;
const PROBE: Duration = Duration::from_millis(500);

fn block_on<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// The background tasks of the fail-closed test (kept, never run), and of the fail-open one.
static SPAWNED: Mutex<Vec<Task>> = Mutex::new(Vec::new());
static SPAWNED_OPEN: Mutex<Vec<Task>> = Mutex::new(Vec::new());
const HOLDING: Runtime = Runtime {
    spawn: |task| SPAWNED.lock().expect("lock").push(task),
    background: drop,
    sleep: |_| Box::pin(std::future::pending()),
};
const HOLDING_OPEN: Runtime = Runtime {
    spawn: |task| SPAWNED_OPEN.lock().expect("lock").push(task),
    background: drop,
    sleep: |_| Box::pin(std::future::pending()),
};

/// Every call of the store times out (`true`) or none does.
fn set_down(store: &FaultyStore<MemoryStore>, down: bool) {
    let fault = down.then_some(Fault::Fail(StoreErrorKind::Timeout));
    for call in [Call::Claim, Call::Renew, Call::Complete, Call::Release] {
        store.set(call, fault.clone());
    }
}

struct Setup {
    clock: ManualClock,
    store: Arc<FaultyStore<MemoryStore>>,
    receiver: Receiver<ParseFlow>,
    runtime: Runtime,
}

fn setup(fail_mode: FailMode) -> Setup {
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(FaultyStore::new(
        MemoryStore::builder().clock(clock.clone()).build(),
    ));
    set_down(&store, true);
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(Arc::clone(&store) as Arc<dyn DedupStore>)
        .clock(clock.clone())
        .fail_mode(fail_mode)
        .circuit_breaker(5, PROBE)
        .build()
        .expect("receiver");
    let runtime = match fail_mode {
        FailMode::Open => HOLDING_OPEN,
        _ => HOLDING,
    };
    Setup {
        clock,
        store,
        receiver,
        runtime,
    }
}

/// A signed ParseFlow delivery of its own (ParseFlow deduplicates by the body's digest).
fn delivery(setup: &Setup, used: usize) -> Result<Accepted<Event>, webhook_guard::Rejection> {
    let receiver = &setup.receiver;
    let body = format!(
        r#"{{"event":"quota.warning","timestamp":"2025-01-15T10:30:00Z","data":{{"used":{used},"limit":100000}}}}"#
    );
    let headers = fixtures::sign(
        "parseflow",
        demo::PARSEFLOW_SECRET,
        "dlv",
        NOW,
        body.as_bytes(),
    )
    .expect("signed")
    .to_header_map();
    let no_timer = |_| std::future::pending::<()>();
    let read = block_on(adapter::read_body(receiver, &headers, body, no_timer))?;
    block_on(adapter::accept(receiver, &headers, read, setup.runtime))
}

fn unavailable(result: Result<Accepted<Event>, webhook_guard::Rejection>) -> bool {
    matches!(
        result.map(|_| ()).map_err(|r| r.kind().clone()),
        Err(RejectionKind::StoreUnavailable(_))
    )
}

#[test]
fn a_replay_storm_during_an_outage_costs_no_store_call_and_service_resumes_at_the_next_probe() {
    let setup = setup(FailMode::Closed);
    let (clock, store, receiver) = (&setup.clock, &setup.store, &setup.receiver);
    let spawned = || SPAWNED.lock().expect("lock").len();
    let before = spawned();
    // Five failed claims open the breaker.
    for i in 0..5 {
        assert!(unavailable(delivery(&setup, i)));
    }
    assert_eq!(store.calls(Call::Claim), 5);
    assert!(!receiver.health().is_ready());
    assert_eq!(receiver.health().unavailable_since, Some(NOW * 1000));
    let orphans = spawned() - before;
    // 4,400 replays of one captured delivery: answered at once, no call, no task.
    for _ in 0..4_400 {
        assert!(unavailable(delivery(&setup, 0)));
    }
    assert_eq!(store.calls(Call::Claim), 5, "no store call");
    assert_eq!(spawned() - before, orphans, "no background task");
    // A probe per interval, while the store is still down.
    clock.advance(PROBE);
    assert!(unavailable(delivery(&setup, 100)));
    assert!(unavailable(delivery(&setup, 101)));
    assert_eq!(store.calls(Call::Claim), 6, "one probe");
    // The store answers again: the next probe closes the breaker, and fresh deliveries are
    // processed.
    set_down(store, false);
    clock.advance(PROBE);
    let fresh = delivery(&setup, 200).expect("processed at the next probe");
    block_on(fresh.claim.finish(http::StatusCode::OK)).expect("settled");
    assert!(receiver.health().is_ready());
    for i in 201..210 {
        let accepted = delivery(&setup, i).expect("processed");
        assert!(accepted.delivery.meta.deduplicated);
        block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled");
    }
    // And the processed one is a duplicate now.
    assert!(matches!(
        delivery(&setup, 200)
            .map(|_| ())
            .map_err(|r| r.kind().clone()),
        Err(RejectionKind::Duplicate)
    ));
}

#[test]
fn fail_open_processes_without_calling_a_store_that_is_down() {
    let setup = setup(FailMode::Open);
    let (store, receiver) = (&setup.store, &setup.receiver);
    for i in 0..5 {
        let accepted = delivery(&setup, i).expect("fail-open");
        assert!(!accepted.delivery.meta.deduplicated);
        block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled");
    }
    let calls = store.calls(Call::Claim);
    for i in 5..1_000 {
        let accepted = delivery(&setup, i).expect("fail-open");
        assert!(!accepted.delivery.meta.deduplicated);
        block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled");
    }
    assert_eq!(store.calls(Call::Claim), calls, "no store call");
    assert!(!receiver.health().is_ready());
}
