//! The faults of `FaultyStore`, one by one.

use std::{
    sync::Arc,
    task::{Context, Poll, Waker},
};

use super::*;
use crate::dedup::MemoryStore;

fn poll_once<T>(mut future: StoreFuture<'_, T>) -> Poll<Result<T, StoreError>> {
    future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
}

const LEASE: Duration = Duration::from_secs(10);

#[test]
fn a_time_out_after_apply_leaves_the_claim_recorded_and_a_dropped_reply_never_answers() {
    let store = Arc::new(
        FaultyStore::new(MemoryStore::new())
            .on_calls(Call::Claim, 0..1, Fault::TimeoutAfterApply)
            .on_calls(Call::Claim, 1..2, Fault::DropReply),
    );
    let key = DedupKey::new("t", "k");
    let first = ClaimToken::random();
    assert!(matches!(
        poll_once(store.claim(&key, &first, LEASE)),
        Poll::Ready(Err(e)) if e.kind() == StoreErrorKind::Timeout
    ));
    // Applied all the same: another owner finds it in flight.
    assert!(poll_once(store.claim(&key, &ClaimToken::random(), LEASE)).is_pending());
    assert_eq!(
        poll_once(store.inner().claim(&key, &ClaimToken::random(), LEASE)),
        Poll::Ready(Ok(Claim::InFlight))
    );
    assert_eq!(
        poll_once(store.claim(&key, &ClaimToken::random(), LEASE)),
        Poll::Ready(Ok(Claim::InFlight)),
        "no fault from call 2 on"
    );
    assert_eq!(store.calls(Call::Claim), 3);
}

#[test]
fn a_switched_fault_applies_until_cleared_and_a_stall_waits_for_its_timer() {
    let store = FaultyStore::new(MemoryStore::new())
        .with_sleep(|_| Box::pin(std::future::ready(())))
        .on_calls(Call::Release, 0..10, Fault::Stall(Duration::from_secs(4)));
    let key = DedupKey::new("t", "k");
    let token = ClaimToken::random();
    store.set(Call::Claim, Some(Fault::Fail(StoreErrorKind::Unavailable)));
    assert!(matches!(
        poll_once(store.claim(&key, &token, LEASE)),
        Poll::Ready(Err(_))
    ));
    store.set(Call::Claim, None);
    assert_eq!(
        poll_once(store.claim(&key, &token, LEASE)),
        Poll::Ready(Ok(Claim::Claimed))
    );
    // The stall's timer is ready at once here: the release goes through.
    assert_eq!(poll_once(store.release(&key, &token)), Poll::Ready(Ok(())));
    assert_eq!(
        poll_once(store.claim(&key, &ClaimToken::random(), LEASE)),
        Poll::Ready(Ok(Claim::Claimed))
    );
    let stalled = FaultyStore::new(MemoryStore::new()).on_calls(
        Call::Complete,
        0..1,
        Fault::Stall(Duration::from_secs(1)),
    );
    assert!(
        poll_once(stalled.complete(&key, &token, LEASE)).is_pending(),
        "no timer: it waits"
    );
}
