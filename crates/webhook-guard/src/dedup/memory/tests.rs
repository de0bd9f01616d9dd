//! The memory store: claims, leases, retention and its bound.

use super::*;
use crate::clock::ManualClock;

const LEASE: Duration = Duration::from_secs(10);
const KEEP: Duration = Duration::from_secs(3600);

fn store(capacity: usize, clock: &ManualClock) -> MemoryStore {
    MemoryStore::builder()
        .capacity(capacity)
        .shards(1)
        .clock(clock.clone())
        .build()
}

fn key(id: &str) -> DedupKey {
    DedupKey::new("parallel:main", id)
}

fn claim(store: &MemoryStore, id: &str, token: &ClaimToken) -> Claim {
    store
        .claim_now(&key(id), token, LEASE)
        .expect("no store error")
}

#[test]
fn claim_complete_release() {
    let clock = ManualClock::at_unix_seconds(1_000);
    let store = store(10, &clock);
    let (a, b) = (ClaimToken::random(), ClaimToken::random());
    assert_eq!(claim(&store, "x", &a), Claim::Claimed);
    assert_eq!(claim(&store, "x", &b), Claim::InFlight);
    assert_eq!(
        claim(&store, "x", &a),
        Claim::Claimed,
        "the owner's retried claim"
    );
    store.release_now(&key("x"), &a).expect("release");
    assert_eq!(claim(&store, "x", &b), Claim::Claimed);
    store.complete_now(&key("x"), &b, KEEP).expect("complete");
    assert_eq!(claim(&store, "x", &a), Claim::Done);
    // Releasing a completed record does nothing.
    store.release_now(&key("x"), &b).expect("release");
    assert_eq!(claim(&store, "x", &a), Claim::Done);
}

#[test]
fn an_expired_lease_can_be_taken_over_and_the_old_owner_cannot_touch_it() {
    let clock = ManualClock::at_unix_seconds(1_000);
    let store = store(10, &clock);
    let (first, second) = (ClaimToken::random(), ClaimToken::random());
    assert_eq!(claim(&store, "x", &first), Claim::Claimed);
    clock.advance(LEASE);
    assert_eq!(claim(&store, "x", &second), Claim::Claimed);
    // The first owner's late calls change nothing.
    assert!(!store.renew_now(&key("x"), &first, LEASE).expect("renew"));
    store
        .complete_now(&key("x"), &first, KEEP)
        .expect("complete");
    store.release_now(&key("x"), &first).expect("release");
    assert_eq!(claim(&store, "x", &first), Claim::InFlight);
    store
        .complete_now(&key("x"), &second, KEEP)
        .expect("complete");
    assert_eq!(claim(&store, "x", &first), Claim::Done);
}

#[test]
fn a_renewed_lease_holds_past_its_first_expiry_and_only_for_its_owner() {
    let clock = ManualClock::at_unix_seconds(1_000);
    let store = store(10, &clock);
    let (owner, retry) = (ClaimToken::random(), ClaimToken::random());
    assert_eq!(claim(&store, "x", &owner), Claim::Claimed);
    for _ in 0..9 {
        clock.advance(LEASE / 3);
        assert!(store.renew_now(&key("x"), &owner, LEASE).expect("renew"));
        assert_eq!(claim(&store, "x", &retry), Claim::InFlight);
    }
    assert!(
        !store.renew_now(&key("x"), &retry, LEASE).expect("renew"),
        "not its owner"
    );
    // Without renewals the lease runs out, and a renewal that comes too late fails.
    clock.advance(LEASE);
    assert!(!store.renew_now(&key("x"), &owner, LEASE).expect("renew"));
    assert_eq!(claim(&store, "x", &retry), Claim::Claimed);
}

#[test]
fn completed_records_expire_after_retention() {
    let clock = ManualClock::at_unix_seconds(1_000);
    let store = store(10, &clock);
    let t = ClaimToken::random();
    assert_eq!(claim(&store, "a", &t), Claim::Claimed);
    store.complete_now(&key("a"), &t, KEEP).expect("complete");
    clock.advance(KEEP - Duration::from_millis(1));
    assert_eq!(claim(&store, "a", &ClaimToken::random()), Claim::Done);
    clock.advance(Duration::from_millis(1));
    assert_eq!(claim(&store, "a", &t), Claim::Claimed);
    // Expired records are purged as the store is used.
    assert_eq!(claim(&store, "b", &t), Claim::Claimed);
    store
        .complete_now(&key("b"), &t, Duration::from_secs(1))
        .expect("complete");
    clock.advance(Duration::from_secs(2));
    assert_eq!(claim(&store, "c", &t), Claim::Claimed);
    store.complete_now(&key("c"), &t, KEEP).expect("complete");
    assert_eq!(store.len(), 2, "a (in flight) and c");
}

#[test]
fn full_store_evicts_oldest_completed_first_and_never_in_flight_claims() {
    let clock = ManualClock::at_unix_seconds(1_000);
    let store = store(3, &clock);
    let t = ClaimToken::random();
    let other = ClaimToken::random();
    assert_eq!(claim(&store, "in-flight", &t), Claim::Claimed);
    for id in ["old", "new"] {
        assert_eq!(claim(&store, id, &t), Claim::Claimed);
        store.complete_now(&key(id), &t, KEEP).expect("complete");
        clock.advance(Duration::from_secs(1));
    }
    // Full: the next claim evicts "old", not "new" and not the in-flight claim.
    assert_eq!(claim(&store, "x", &t), Claim::Claimed);
    assert_eq!(store.len(), 3);
    assert_eq!(claim(&store, "new", &other), Claim::Done);
    assert_eq!(claim(&store, "in-flight", &other), Claim::InFlight);
    // "old" was evicted, so it is new again: claiming it evicts "new".
    assert_eq!(claim(&store, "old", &t), Claim::Claimed);
    assert_eq!(store.len(), 3);
    // Now every record is in flight: a new claim fails instead of evicting one.
    let error = store.claim_now(&key("y"), &t, LEASE).expect_err("full");
    assert_eq!(error.kind(), StoreErrorKind::Full);
    store.release_now(&key("x"), &t).expect("release");
    assert_eq!(claim(&store, "y", &t), Claim::Claimed);
}

#[test]
fn a_flood_in_one_namespace_never_evicts_another_namespaces_records() {
    let clock = ManualClock::at_unix_seconds(1_000);
    let store = store(100, &clock);
    let t = ClaimToken::random();
    let kept = DedupKey::new("fullenrich:default", "digest-1");
    assert_eq!(store.claim_now(&kept, &t, LEASE), Ok(Claim::Claimed));
    store.complete_now(&kept, &t, KEEP).expect("complete");
    for i in 0..10_000 {
        let flood = DedupKey::new("parseflow:default", &format!("replay-{i}"));
        assert_eq!(store.claim_now(&flood, &t, LEASE), Ok(Claim::Claimed));
        store.complete_now(&flood, &t, KEEP).expect("complete");
    }
    assert_eq!(
        store.claim_now(&kept, &ClaimToken::random(), LEASE),
        Ok(Claim::Done),
        "the other namespace's record survived the flood"
    );
    assert_eq!(
        store.len(),
        101,
        "the flooded namespace stayed at its capacity"
    );
}

#[test]
fn capacity_is_spread_over_shards() {
    let store = MemoryStore::builder().capacity(1000).shards(60).build();
    assert_eq!(store.shards, 64);
    assert_eq!(store.per_shard_capacity, 16);
    assert!(format!("{store:?}").contains("capacity_per_namespace: 1024"));
}
