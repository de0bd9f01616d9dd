//! Deduplication under faults and abuse, in process, on an injected clock: a crashed handler's
//! claim is free within Sixtyfour's retry schedule; a store call that timed out after the
//! store applied it leaves no orphan; a flood of replays through one provider leaves another's
//! records alone and processes nothing twice; a guessed id cannot pre-claim a real delivery;
//! an unsigned delivery cannot pre-claim a signed one.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use webhook_guard::{
    Provider, Receiver, Rejection,
    adapter::{self, Accepted, Runtime, Task},
    clock::{Clock as _, ManualClock},
    dedup::{
        Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError, StoreErrorKind,
        StoreFuture,
    },
    fixtures::{self, demo},
    fullenrich::FullEnrich,
    parseflow::ParseFlow,
    receiver::RejectionKind,
    sixtyfour::Sixtyfour,
};

const NOW: i64 = 1_761_577_000;

/// Polls a future to its end on this thread (every store here answers at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Background tasks, run by the test when it chooses; timers that are ready at once.
static SPAWNED: Mutex<Vec<Task>> = Mutex::new(Vec::new());
const TEST_RUNTIME: Runtime = Runtime {
    spawn: |task| SPAWNED.lock().expect("lock").push(task),
    background: drop,
    sleep: |_| Box::pin(std::future::ready(())),
};

fn run_spawned() {
    let tasks: Vec<Task> = std::mem::take(&mut *SPAWNED.lock().expect("lock"));
    for task in tasks {
        block_on(task);
    }
}

/// The receiver's whole flow, as an adapter runs it.
fn accept<P: Provider>(
    receiver: &Receiver<P>,
    headers: &webhook_guard::SignedHeaders,
    body: &[u8],
) -> Result<Accepted<P::Event>, Rejection> {
    accept_on(receiver, headers, body, TEST_RUNTIME)
}

/// As [`accept`], on `runtime`.
fn accept_on<P: Provider>(
    receiver: &Receiver<P>,
    headers: &webhook_guard::SignedHeaders,
    body: &[u8],
    runtime: Runtime,
) -> Result<Accepted<P::Event>, Rejection> {
    let headers = headers.to_header_map();
    let no_timer = |_| std::future::pending::<()>();
    let body = Bytes::copy_from_slice(body).into_body();
    let body = block_on(adapter::read_body(receiver, &headers, body, no_timer))?;
    block_on(adapter::accept(receiver, &headers, body, runtime))
}

/// `Bytes` as a whole `http_body::Body`.
trait IntoBody {
    fn into_body(self) -> String;
}

impl IntoBody for Bytes {
    fn into_body(self) -> String {
        String::from_utf8(self.to_vec()).expect("the fixtures are UTF-8")
    }
}

fn finish_ok<E>(accepted: Accepted<E>) {
    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled");
}

fn kind(result: Result<impl Sized, Rejection>) -> Option<RejectionKind> {
    result.err().map(|rejection| rejection.kind().clone())
}

#[test]
fn a_crashed_claim_is_free_within_sixtyfours_retry_schedule() {
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    let receiver = Receiver::builder(Sixtyfour::new(demo::SIXTYFOUR_SECRET).expect("secret"))
        .store(store)
        .clock(clock.clone())
        .build()
        .expect("receiver");
    let body = fixtures::of("sixtyfour").next().expect("fixture").body;
    let sign = |clock: &ManualClock| {
        fixtures::sign(
            "sixtyfour",
            demo::SIXTYFOUR_SECRET,
            "evt_crash",
            clock.unix_seconds(),
            body,
        )
        .expect("signed")
    };
    // The first attempt is claimed, then the process dies mid-handler: its claim is neither
    // completed nor released, and nothing renews it any more.
    let first = accept(&receiver, &sign(&clock), body).expect("the first attempt");
    std::mem::forget(first);
    // Sixtyfour retries after 1, 2, 4, 8 and 16 s (at +1, +3, +7, +15, +31 s).
    let mut processed_at = None;
    let mut elapsed = 0;
    for backoff in [1_u64, 2, 4, 8, 16] {
        clock.advance(Duration::from_secs(backoff));
        elapsed += backoff;
        match accept(&receiver, &sign(&clock), body) {
            Ok(accepted) => {
                assert!(processed_at.is_none(), "processed twice");
                processed_at = Some(elapsed);
                finish_ok(accepted);
            }
            Err(rejection) => assert!(
                matches!(
                    rejection.kind(),
                    RejectionKind::InFlight | RejectionKind::Duplicate
                ),
                "{rejection}"
            ),
        }
    }
    assert_eq!(
        processed_at,
        Some(15),
        "the retry after the 10 s lease is processed, once"
    );
}

/// A store whose next claim is applied but answered with a time-out, as when Redis pauses
/// past the client's time limit and applies the command afterwards.
#[derive(Debug)]
struct LateStore {
    inner: MemoryStore,
    time_out_next_claim: AtomicBool,
}

impl DedupStore for LateStore {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        let applied = self.inner.claim(key, token, lease);
        if self.time_out_next_claim.swap(false, Ordering::SeqCst) {
            return Box::pin(async move {
                applied.await?;
                Err(StoreError::new(
                    StoreErrorKind::Timeout,
                    "no answer within 1000 ms",
                ))
            });
        }
        applied
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
        self.inner.complete(key, token, retention)
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.inner.release(key, token)
    }
}

#[test]
fn a_claim_that_timed_out_after_it_was_applied_is_released_and_the_retry_processed() {
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(LateStore {
        inner: MemoryStore::builder().clock(clock.clone()).build(),
        time_out_next_claim: AtomicBool::new(true),
    });
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(store)
        .clock(clock.clone())
        .build()
        .expect("receiver");
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers =
        fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_late", NOW, body).expect("signed");
    assert!(matches!(
        kind(accept(&receiver, &headers, body)),
        Some(RejectionKind::StoreUnavailable(_))
    ));
    // Without the background release the claim would hold for its whole lease (409).
    run_spawned();
    clock.advance(Duration::from_secs(2));
    let retry = accept(&receiver, &headers, body).expect("the retry is processed, not 409");
    finish_ok(retry);
}

#[test]
fn replays_under_fresh_ids_are_duplicates_and_leave_other_providers_records_alone() {
    let clock = ManualClock::at_unix_seconds(NOW);
    // One store shared by both providers, with room for 1,000 records per namespace.
    let store: Arc<dyn DedupStore> = Arc::new(
        MemoryStore::builder()
            .capacity(1_000)
            .clock(clock.clone())
            .build(),
    );
    let parseflow = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(Arc::clone(&store))
        .clock(clock.clone())
        .build()
        .expect("receiver");
    let fullenrich = Receiver::builder(FullEnrich::new(demo::FULLENRICH_API_KEY).expect("key"))
        .store(Arc::clone(&store))
        .clock(clock.clone())
        .build()
        .expect("receiver");
    let enriched = fixtures::of("fullenrich").next().expect("fixture").body;
    let enriched_headers =
        fixtures::sign("fullenrich", demo::FULLENRICH_API_KEY, "-", NOW, enriched).expect("signed");
    finish_ok(accept(&fullenrich, &enriched_headers, enriched).expect("processed"));

    let captured = fixtures::of("parseflow").next().expect("fixture").body;
    let mut processed = 0;
    for i in 0..100_000 {
        let headers = fixtures::sign(
            "parseflow",
            demo::PARSEFLOW_SECRET,
            &format!("dlv_replay_{i}"),
            NOW,
            captured,
        )
        .expect("signed");
        match accept(&parseflow, &headers, captured) {
            Ok(accepted) => {
                processed += 1;
                finish_ok(accepted);
            }
            Err(rejection) => assert_eq!(rejection.kind(), &RejectionKind::Duplicate, "replay {i}"),
        }
    }
    assert_eq!(
        processed, 1,
        "the captured body is processed once, whatever the ids"
    );
    assert_eq!(
        kind(accept(&fullenrich, &enriched_headers, enriched)),
        Some(RejectionKind::Duplicate),
        "the FullEnrich record survived the flood"
    );
}

#[test]
fn sixtyfour_replays_under_fresh_event_ids_within_the_tolerance_are_duplicates() {
    let receiver = Receiver::builder(Sixtyfour::new(demo::SIXTYFOUR_SECRET).expect("secret"))
        .clock(ManualClock::at_unix_seconds(NOW))
        .build()
        .expect("receiver");
    let body = fixtures::of("sixtyfour").next().expect("fixture").body;
    let sign = |id: &str| {
        fixtures::sign("sixtyfour", demo::SIXTYFOUR_SECRET, id, NOW, body).expect("signed")
    };
    finish_ok(accept(&receiver, &sign("evt_original"), body).expect("the delivery"));
    // `Sixtyfour-Event-Id` is outside the signature: the same signed body under new ids.
    for i in 0..1_000 {
        assert_eq!(
            kind(accept(&receiver, &sign(&format!("evt_replay_{i}")), body)),
            Some(RejectionKind::Duplicate),
            "replay {i}"
        );
    }
}

#[test]
fn a_guessed_id_cannot_pre_claim_a_real_parseflow_delivery() {
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .clock(ManualClock::at_unix_seconds(NOW))
        .build()
        .expect("receiver");
    let mut bodies = fixtures::of("parseflow").map(|f| f.body);
    let (captured, real) = (
        bodies.next().expect("a fixture"),
        bodies.next().expect("another"),
    );
    let sign = |id: &str, body: &[u8]| {
        fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, id, NOW, body).expect("signed")
    };
    finish_ok(
        accept(&receiver, &sign("dlv_1", captured), captured).expect("the captured delivery"),
    );
    // The attacker replays the captured body under the id the next real delivery will have.
    assert_eq!(
        kind(accept(&receiver, &sign("dlv_2", captured), captured)),
        Some(RejectionKind::Duplicate)
    );
    let accepted =
        accept(&receiver, &sign("dlv_2", real), real).expect("the real delivery is processed");
    assert_eq!(
        accepted.delivery.meta.delivery_id.as_str(),
        "dlv_2",
        "the header id is kept"
    );
    finish_ok(accepted);
}

#[test]
fn an_unsigned_delivery_cannot_pre_claim_a_signed_one() {
    let provider = Sixtyfour::builder()
        .secret(demo::SIXTYFOUR_SECRET)
        .allow_unsigned(true)
        .build()
        .expect("config");
    let receiver = Receiver::builder(provider)
        .clock(ManualClock::at_unix_seconds(NOW))
        .build()
        .expect("receiver");
    let body = fixtures::of("sixtyfour").next().expect("fixture").body;
    let signed =
        fixtures::sign("sixtyfour", demo::SIXTYFOUR_SECRET, "evt_same", NOW, body).expect("signed");
    // The same ids, without a signature: accepted as unsigned (allowed here) and completed.
    let unsigned: Vec<(String, String)> = signed
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("sixtyfour-signature"))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let headers: http::HeaderMap = unsigned
        .iter()
        .map(|(n, v)| {
            (
                http::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            )
        })
        .collect();
    let no_timer = |_| std::future::pending::<()>();
    let read = block_on(adapter::read_body(
        &receiver,
        &headers,
        String::from_utf8(body.to_vec()).expect("utf-8"),
        no_timer,
    ))
    .expect("read");
    let first = block_on(adapter::accept(&receiver, &headers, read, TEST_RUNTIME))
        .expect("unsigned accepted");
    assert!(first.delivery.meta.authenticity.verified().is_none());
    finish_ok(first);
    let second = accept(&receiver, &signed, body).expect("the signed delivery is processed");
    assert!(second.delivery.meta.authenticity.verified().is_some());
    finish_ok(second);
}

/// A store that fails every call.
#[derive(Debug)]
struct DownStore;

fn down<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async {
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "connection refused",
        ))
    })
}

impl DedupStore for DownStore {
    fn claim<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, Claim> {
        down()
    }
    fn renew<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, bool> {
        down()
    }
    fn complete<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, ()> {
        down()
    }
    fn release<'a>(&'a self, _: &'a DedupKey, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        down()
    }
}

static HELD_BACK: Mutex<Vec<Task>> = Mutex::new(Vec::new());

/// During a store outage, replays of one captured delivery each start a background release;
/// their number is bounded, so the replays cannot grow the server's memory without end.
#[test]
fn background_retries_are_bounded_during_a_store_outage() {
    const HOLDING: Runtime = Runtime {
        spawn: |task| HELD_BACK.lock().expect("lock").push(task),
        background: drop,
        sleep: |_| Box::pin(std::future::pending()),
    };
    // The breaker off: every replay reaches the store (with it, the fifth opens it and
    // the rest are answered without a call or a task: see `tests/breaker.rs`).
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(Arc::new(DownStore))
        .clock(ManualClock::at_unix_seconds(NOW))
        .circuit_breaker(0, Duration::from_millis(500))
        .build()
        .expect("receiver");
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers = fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_outage", NOW, body)
        .expect("signed");
    let replays = adapter::MAX_BACKGROUND_RETRIES + 1_000;
    for _ in 0..replays {
        let answer = accept_on(&receiver, &headers, body, HOLDING);
        assert!(matches!(
            kind(answer),
            Some(RejectionKind::StoreUnavailable(_))
        ));
    }
    let held = HELD_BACK.lock().expect("lock").len();
    // Other tests of this binary may hold a slot or two at the same moment.
    assert!(
        held <= adapter::MAX_BACKGROUND_RETRIES,
        "{held} background tasks"
    );
    assert!(
        held + 8 >= adapter::MAX_BACKGROUND_RETRIES,
        "only {held} background tasks"
    );
    // Dropping the tasks gives their places back.
    HELD_BACK.lock().expect("lock").clear();
    let _ = accept_on(&receiver, &headers, body, HOLDING);
    assert_eq!(
        HELD_BACK.lock().expect("lock").len(),
        1,
        "a place was free again"
    );
    HELD_BACK.lock().expect("lock").clear();
}
