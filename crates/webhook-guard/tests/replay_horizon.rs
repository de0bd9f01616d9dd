//! Replays after the retention: a provider that signs no timestamp (ParseFlow) keeps its
//! completed deliveries for the replay horizon (7 days by default), so a captured delivery
//! replayed after the retention is still a duplicate; one that signs a timestamp (Parallel)
//! keeps the retention, and a replay past the tolerance is refused by its signature anyway.

use std::{
    future::Future,
    sync::Arc,
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use webhook_guard::{
    Provider, Receiver, Rejection,
    adapter::{self, Accepted, Runtime},
    clock::{Clock as _, ManualClock},
    dedup::MemoryStore,
    fixtures::{self, demo},
    parallel::Parallel,
    parseflow::ParseFlow,
    provider::Authenticator as _,
    receiver::{DEFAULT_REPLAY_HORIZON, RejectionKind},
};

const NOW: i64 = 1_761_577_000;
const HOUR: Duration = Duration::from_secs(3600);

fn block_on<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

const RUNTIME: Runtime = Runtime {
    spawn: drop,
    background: drop,
    sleep: |_| Box::pin(std::future::ready(())),
};

fn accept<P: Provider>(
    receiver: &Receiver<P>,
    headers: &webhook_guard::SignedHeaders,
    body: &'static [u8],
) -> Result<Accepted<P::Event>, Rejection> {
    let headers = headers.to_header_map();
    let body = String::from_utf8(body.to_vec()).expect("UTF-8");
    let no_timer = |_| std::future::pending::<()>();
    let body: Bytes = block_on(adapter::read_body(receiver, &headers, body, no_timer))?;
    block_on(adapter::accept(receiver, &headers, body, RUNTIME))
}

fn processed<P: Provider>(
    receiver: &Receiver<P>,
    headers: &webhook_guard::SignedHeaders,
    body: &'static [u8],
) -> bool {
    match accept(receiver, headers, body) {
        Ok(accepted) => {
            block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled");
            true
        }
        Err(rejection) if *rejection.kind() == RejectionKind::Duplicate => false,
        Err(other) => panic!("unexpected rejection: {other}"),
    }
}

#[test]
fn a_provider_without_a_signed_timestamp_remembers_for_the_horizon() {
    let provider = ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret");
    assert!(!provider.signs_timestamp());
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    let receiver = Receiver::builder(provider)
        .store(store)
        .clock(clock.clone())
        .retention(HOUR)
        .build()
        .expect("receiver");
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers =
        fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_1", NOW, body).expect("signed");
    assert!(processed(&receiver, &headers, body), "the delivery");
    clock.advance(2 * HOUR);
    assert!(
        !processed(&receiver, &headers, body),
        "past the retention: still a duplicate"
    );
    clock.advance(DEFAULT_REPLAY_HORIZON - 3 * HOUR);
    assert!(!processed(&receiver, &headers, body), "within the horizon");
    clock.advance(2 * HOUR);
    assert!(
        processed(&receiver, &headers, body),
        "past the horizon, the record is gone"
    );
}

#[test]
fn a_zero_horizon_keeps_the_retention_alone() {
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(store)
        .clock(clock.clone())
        .retention(HOUR)
        .replay_horizon(Duration::ZERO)
        .build()
        .expect("receiver");
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers =
        fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_2", NOW, body).expect("signed");
    assert!(processed(&receiver, &headers, body));
    clock.advance(2 * HOUR);
    assert!(processed(&receiver, &headers, body), "past the retention");
}

#[test]
fn a_provider_with_a_signed_timestamp_keeps_the_retention() {
    let provider = Parallel::new(demo::PARALLEL_SECRET).expect("secret");
    assert!(provider.signs_timestamp());
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    let receiver = Receiver::builder(provider)
        .store(store)
        .clock(clock.clone())
        .retention(HOUR)
        .build()
        .expect("receiver");
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let headers =
        fixtures::sign("parallel", demo::PARALLEL_SECRET, "whevent_1", NOW, body).expect("signed");
    assert!(processed(&receiver, &headers, body));
    clock.advance(2 * HOUR);
    // The captured delivery is refused by its stale timestamp...
    assert!(matches!(
        accept(&receiver, &headers, body).map(|_| ()),
        Err(rejection) if matches!(rejection.kind(), RejectionKind::Unauthorized(_))
    ));
    // ...and its record, past the retention, no longer held: a retry signed now is processed.
    let now = clock.unix_seconds();
    let retry =
        fixtures::sign("parallel", demo::PARALLEL_SECRET, "whevent_1", now, body).expect("signed");
    assert!(processed(&receiver, &retry, body));
}

/// A replay storm of a completed delivery costs the store one claim: the store's "done"
/// answer is remembered for a minute (on the receiver's clock), then asked again.
#[test]
fn a_replay_storm_costs_the_store_one_claim() {
    use webhook_guard::testkit::{Call, FaultyStore};
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(FaultyStore::new(
        MemoryStore::builder().clock(clock.clone()).build(),
    ));
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(Arc::clone(&store) as Arc<dyn webhook_guard::dedup::DedupStore>)
        .clock(clock.clone())
        .build()
        .expect("receiver");
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers = fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_storm", NOW, body)
        .expect("signed");
    assert!(processed(&receiver, &headers, body));
    for _ in 0..1000 {
        assert!(!processed(&receiver, &headers, body), "a duplicate");
    }
    assert_eq!(
        store.calls(Call::Claim),
        2,
        "the delivery and the first replay"
    );
    clock.advance(Duration::from_secs(61));
    assert!(
        !processed(&receiver, &headers, body),
        "still a duplicate, from the store"
    );
    assert_eq!(store.calls(Call::Claim), 3);
}

/// `Receiver::forget` lets a sender's redelivery of a processed delivery run again (after a
/// handler was fixed), also when its replays were being answered from memory.
#[test]
fn a_forgotten_delivery_runs_again() {
    use webhook_guard::dedup::{DedupKey, DedupStore as _, Record};
    let clock = ManualClock::at_unix_seconds(NOW);
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    let receiver = Receiver::builder(ParseFlow::new(demo::PARSEFLOW_SECRET).expect("secret"))
        .store(Arc::clone(&store) as Arc<dyn webhook_guard::dedup::DedupStore>)
        .clock(clock.clone())
        .build()
        .expect("receiver");
    let body = fixtures::of("parseflow").next().expect("fixture").body;
    let headers =
        fixtures::sign("parseflow", demo::PARSEFLOW_SECRET, "dlv_fix", NOW, body).expect("signed");
    assert!(processed(&receiver, &headers, body));
    assert!(
        !processed(&receiver, &headers, body),
        "a duplicate (now remembered)"
    );
    let id = webhook_guard::DeliveryId::body_digest(body);
    let key = DedupKey::new("parseflow:default", id.as_str());
    assert!(matches!(
        block_on(store.inspect(&key)),
        Ok(Some(Record::Done { .. }))
    ));
    assert_eq!(block_on(receiver.forget(id.as_str())), Ok(true));
    assert!(processed(&receiver, &headers, body), "processed again");
    assert_eq!(block_on(receiver.forget("no-such-id")), Ok(false));
}
