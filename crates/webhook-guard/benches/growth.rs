//! How `MemoryStore`'s cost grows with what it keeps:
//!
//! 1. Claim+complete pairs per second on a store holding 1,000,000 completed records, against
//!    an empty store, in alternating rounds (a fresh store of each kind every round).
//! 2. Resident memory per record at 1,000,000 records (the RSS delta, allocator included).
//! 3. The p99 of a pair while 1,000 records a second reach the end of their retention (and are
//!    purged by the claims, as the store does), against the same store where none does.
//!
//! `cargo bench -p webhook-guard --bench growth` (Linux: RSS from `/proc/self/statm`).

use std::time::{Duration, Instant};

use webhook_guard::{
    clock::ManualClock,
    dedup::{Claim, ClaimToken, DedupKey, DedupStore, MemoryStore},
};

mod common;
use common::{median, now, p99};

const RECORDS: usize = 1_000_000;
const PAIRS: usize = 200_000;
const ROUNDS: usize = 5;
const LEASE: Duration = Duration::from_secs(60);
const RETENTION: Duration = Duration::from_secs(72 * 3600);

fn key(tag: &str, i: usize) -> DedupKey {
    DedupKey::new("parallel:default", &format!("whevent_{tag}{i:014}"))
}

fn pair(store: &MemoryStore, key: &DedupKey) {
    let token = ClaimToken::random();
    match now(store.claim(key, &token, LEASE)) {
        Ok(Claim::Claimed) => now(store.complete(key, &token, RETENTION)).expect("complete"),
        other => panic!("unexpected {other:?}"),
    }
}

/// A store on `clock` with `records` completed records, one a millisecond of the clock; the
/// same capacity whatever `records` is.
fn filled(clock: &ManualClock, records: usize) -> MemoryStore {
    let store = MemoryStore::builder()
        .capacity((RECORDS + PAIRS) * 2)
        .clock(clock.clone())
        .build();
    for i in 0..records {
        pair(&store, &key("fill", i));
        clock.advance(Duration::from_millis(1));
    }
    store
}

/// Pairs per second on fresh keys, and each pair's time. With `expiring`, the clock runs at
/// the pace of the pairs so that 1,000 filled records a second pass their retention.
fn measure(store: &MemoryStore, clock: &ManualClock, tag: &str) -> (f64, Vec<Duration>) {
    let keys: Vec<DedupKey> = (0..PAIRS).map(|i| key(tag, i)).collect();
    let mut times = Vec::with_capacity(PAIRS);
    let started = Instant::now();
    let base = clock.unix_millis_now();
    for key in &keys {
        clock.set_unix_millis(base + started.elapsed().as_millis() as i64);
        let one = Instant::now();
        pair(store, key);
        times.push(one.elapsed());
    }
    (PAIRS as f64 / started.elapsed().as_secs_f64(), times)
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

trait ClockNow {
    fn unix_millis_now(&self) -> i64;
}

impl ClockNow for ManualClock {
    fn unix_millis_now(&self) -> i64 {
        webhook_guard::clock::Clock::unix_millis(self)
    }
}

fn main() {
    println!(
        "MemoryStore: {ROUNDS} alternating rounds of {PAIRS} pairs on fresh keys, 1 thread, medians\n"
    );
    let retention_ms = RETENTION.as_millis() as i64;

    let rss_before = resident_bytes();
    let clock = ManualClock::at_unix_seconds(1_800_000_000);
    let store = filled(&clock, RECORDS);
    if let (Some(before), Some(after)) = (rss_before, resident_bytes()) {
        println!(
            "{RECORDS} completed records: RSS +{:.1} MiB, {:.0} B per record (keys of {} bytes)",
            (after - before) as f64 / 1_048_576.0,
            (after - before) as f64 / RECORDS as f64,
            key("fill", 0).as_str().len()
        );
    }
    drop(store);

    println!();
    println!("| store | pairs/s | p99 |");
    println!("|---|---|---|");
    let (mut a, mut b, mut ratios, mut pa, mut pb) = (vec![], vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let clock = ManualClock::at_unix_seconds(1_800_000_000);
        let empty = filled(&clock, 0);
        let (x, tx) = measure(&empty, &clock, &format!("e{round}_"));
        drop(empty);
        let clock = ManualClock::at_unix_seconds(1_800_000_000);
        let full = filled(&clock, RECORDS);
        let (y, ty) = measure(&full, &clock, &format!("f{round}_"));
        drop(full);
        a.push(x);
        b.push(y);
        ratios.push(y / x);
        pa.push(p99(tx).as_nanos() as f64);
        pb.push(p99(ty).as_nanos() as f64);
    }
    println!("| empty | {:.0} | {:.0} ns |", median(a), median(pa));
    println!(
        "| {RECORDS} records | {:.0} | {:.0} ns |",
        median(b),
        median(pb)
    );
    println!(
        "full / empty: **{:.2}x** (target: at least 0.80x)",
        median(ratios)
    );

    println!();
    println!(
        "The {RECORDS}-record store, without and with 1,000 records a second passing their retention"
    );
    println!("| | pairs/s | p99 |");
    println!("|---|---|---|");
    let (mut a, mut b, mut ratios, mut pa, mut pb) = (vec![], vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let clock = ManualClock::at_unix_seconds(1_800_000_000);
        let kept = filled(&clock, RECORDS);
        let (x, tx) = measure(&kept, &clock, &format!("k{round}_"));
        drop(kept);
        let clock = ManualClock::at_unix_seconds(1_800_000_000);
        let expiring = filled(&clock, RECORDS);
        // The first filled record is now at the end of its retention: from here one passes
        // it every millisecond of the clock, which `measure` keeps at the pace of real time.
        clock.set_unix_millis(1_800_000_000_000 + retention_ms);
        let (y, ty) = measure(&expiring, &clock, &format!("x{round}_"));
        assert!(expiring.len() < RECORDS + PAIRS, "records were purged");
        drop(expiring);
        a.push(x);
        b.push(y);
        let (qa, qb) = (p99(tx).as_nanos() as f64, p99(ty).as_nanos() as f64);
        pa.push(qa);
        pb.push(qb);
        ratios.push(qb / qa);
    }
    println!(
        "| nothing expires | {:.0} | {:.0} ns |",
        median(a),
        median(pa)
    );
    println!(
        "| 1,000 a second expire | {:.0} | {:.0} ns |",
        median(b),
        median(pb)
    );
    println!(
        "p99 with expiry / without: **{:.2}x** (target: at most 1.20x)",
        median(ratios)
    );
}
