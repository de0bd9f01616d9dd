//! The inbox conformance suite: the cases every [`InboxStore`] must pass, through a receiver
//! in inbox mode and a [`Worker`](crate::inbox::Worker). Run [`conformance`] with a function
//! that makes a fresh, empty inbox of your backend; each case panics with what went wrong.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! use webhook_guard::inbox::{Inbox, MemoryInbox};
//!
//! webhook_guard::testkit::inbox::conformance(async || Inbox::new(MemoryInbox::new())).await;
//! # }
//! ```

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;

use crate::{
    Receiver, StandardWebhooks,
    adapter::Runtime,
    generic::GenericStandard,
    inbox::{
        Cancel, ClaimRequest, Enqueued, EntryId, EntryState, Filter, Inbox, NewEntry, PauseScope,
        RetryPolicy, Settlement, StoredHeaders, Throttle, Verdict,
    },
    receiver::{Rejection, RejectionKind},
};

/// The secret of the suite's sender.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The suite's provider name.
const PROVIDER: &str = "conformance";
/// A short lease, so rescues happen within a test.
const LEASE: Duration = Duration::from_millis(400);

/// Runs every case, each on a fresh inbox from `make`.
pub async fn conformance(make: impl AsyncFn() -> Inbox) {
    accept_and_duplicate(make().await).await;
    claims_are_exclusive(make().await).await;
    settling_is_fenced_by_the_lease(make().await).await;
    retry_then_dead_then_replay(make().await).await;
    bulk_replay_cancelled_halfway(make().await).await;
    pause_and_resume(make().await).await;
    ordering_key(make().await).await;
    purge_and_forget(make().await).await;
    worker_runs_each_entry_once(make().await).await;
    worker_retries_panics_and_failures(make().await).await;
    worker_rescues_a_crashed_claim(make().await).await;
    worker_shutdown_releases(make().await).await;
}

fn receiver(inbox: &Inbox) -> Receiver<GenericStandard> {
    let verifier = StandardWebhooks::new(SECRET).expect("valid secret");
    Receiver::builder(GenericStandard::new(PROVIDER, verifier))
        .inbox(inbox)
        .build()
        .expect("valid receiver")
}

/// Sends a signed delivery `id` through `receiver`, as an adapter would.
async fn send(receiver: &Receiver<GenericStandard>, id: &str, event_type: &str) -> Rejection {
    let verifier = StandardWebhooks::new(SECRET).expect("valid secret");
    let body = format!(r#"{{"type":"{event_type}","data":{{"n":"{id}"}}}}"#);
    let headers = verifier
        .sign_headers(id, crate::scheme::unix_now(), body.as_bytes())
        .expect("signs")
        .to_header_map();
    match receiver
        .run(&headers, Bytes::from(body), Runtime::TOKIO)
        .await
    {
        Ok(_) => panic!("an inbox receiver handed a delivery to an inline handler"),
        Err(answer) => answer,
    }
}

fn entry(key: &str) -> NewEntry {
    NewEntry {
        provider: PROVIDER.to_owned(),
        endpoint: "default".to_owned(),
        delivery_id: key.to_owned(),
        dedup_key: format!("{PROVIDER}:default:{key}"),
        event_type: "test.event".to_owned(),
        ordering_key: None,
        signed_by: Some(0),
        headers: StoredHeaders::default(),
        body: Bytes::from_static(b"{}"),
    }
}

fn request(limit: usize, token: &str) -> ClaimRequest {
    ClaimRequest {
        limit,
        lease: LEASE,
        routes: vec![(PROVIDER.to_owned(), "default".to_owned())],
        token: token.to_owned(),
    }
}

async fn stored(inbox: &Inbox, new: &NewEntry) -> EntryId {
    match inbox.store().enqueue(new).await.expect("enqueue") {
        Enqueued::Stored(id) => id,
        other => panic!("expected a new entry, got {other:?}"),
    }
}

async fn state(inbox: &Inbox, id: EntryId) -> EntryState {
    let entry = inbox.store().get(id).await.expect("get");
    entry.expect("the entry exists").state
}

/// 202 after the commit; a copy is 200 with the duplicate header and counted; a bad
/// signature stores nothing.
pub async fn accept_and_duplicate(inbox: Inbox) {
    let receiver = receiver(&inbox);
    let answer = send(&receiver, "msg_accept", "user.created").await;
    assert_eq!(answer.kind(), &RejectionKind::Queued, "{answer}");
    assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
    // A second receiver (another replica) has no memory of it: the store answers.
    let replica = self::receiver(&inbox);
    let copy = send(&replica, "msg_accept", "user.created").await;
    assert_eq!(copy.kind(), &RejectionKind::Duplicate, "{copy}");
    assert!(
        copy.headers()
            .contains_key(crate::receiver::DUPLICATE_HEADER)
    );
    let listed = inbox
        .store()
        .list(&Filter::default(), None, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "one entry for two copies");
    let entry = inbox
        .store()
        .get(listed[0].id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(entry.times_seen, 2);
    assert_eq!(entry.event_type, "user.created");
    assert_eq!(entry.delivery_id, "msg_accept");
    assert_eq!(entry.state, EntryState::Pending);
    assert!(
        crate::headers::Headers::entry(
            &entry.headers,
            &crate::headers::HeaderName::from_static("webhook-signature")
        ) != crate::headers::HeaderEntry::Absent,
        "the signature header is stored, to verify again"
    );
    // Not authentic: refused, nothing stored.
    let verifier = StandardWebhooks::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456").expect("valid");
    let body = br#"{"type":"x"}"#;
    let headers = verifier
        .sign_headers("msg_forged", crate::scheme::unix_now(), body)
        .expect("signs")
        .to_header_map();
    let forged = receiver
        .run(&headers, Bytes::from_static(body), Runtime::TOKIO)
        .await;
    assert!(matches!(forged.map(drop), Err(r) if r.status() == http::StatusCode::UNAUTHORIZED));
    let stats = inbox.store().stats().await.expect("stats");
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (1, 0, 0, 0)
    );
}

/// Two workers claiming at once never get the same entry; each claim counts an attempt.
pub async fn claims_are_exclusive(inbox: Inbox) {
    for n in 0..20 {
        stored(&inbox, &entry(&format!("x{n}"))).await;
    }
    let (first, second) = (request(15, "a"), request(15, "b"));
    let (a, b) = tokio::join!(inbox.store().claim(&first), inbox.store().claim(&second));
    let (a, b) = (a.expect("claim a"), b.expect("claim b"));
    assert_eq!(a.len() + b.len(), 20, "every entry claimed once");
    let mut ids: Vec<EntryId> = a.iter().chain(&b).map(|e| e.lease.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no entry claimed twice");
    assert!(a.iter().chain(&b).all(|e| e.attempt == 1));
    assert!(
        inbox
            .store()
            .claim(&request(5, "c"))
            .await
            .expect("claim")
            .is_empty()
    );
    // Another route's entries are not claimed.
    let mut other = request(5, "d");
    other.routes = vec![("someone-else".to_owned(), "default".to_owned())];
    stored(&inbox, &entry("y")).await;
    assert!(inbox.store().claim(&other).await.expect("claim").is_empty());
}

/// After a lease expires and the entry is rescued and claimed again, the first worker can
/// neither renew nor settle it.
pub async fn settling_is_fenced_by_the_lease(inbox: Inbox) {
    let id = stored(&inbox, &entry("fenced")).await;
    let first = inbox
        .store()
        .claim(&request(1, "first"))
        .await
        .expect("claim");
    let lease = first[0].lease.clone();
    let renewed = inbox
        .store()
        .renew(std::slice::from_ref(&lease), LEASE)
        .await;
    assert_eq!(renewed.expect("renew"), vec![id]);
    tokio::time::sleep(LEASE + Duration::from_millis(200)).await;
    assert_eq!(inbox.store().rescue(5).await.expect("rescue"), 1);
    assert_eq!(state(&inbox, id).await, EntryState::Pending);
    let second = inbox
        .store()
        .claim(&request(1, "second"))
        .await
        .expect("claim");
    assert_eq!(second[0].attempt, 2, "the cut-off attempt counts");
    let settled = inbox.store().settle(&lease, &Settlement::Done).await;
    assert!(
        !settled.expect("settle"),
        "a taken-over lease settles nothing"
    );
    let renewed = inbox
        .store()
        .renew(std::slice::from_ref(&lease), LEASE)
        .await;
    assert!(renewed.expect("renew").is_empty());
    assert_eq!(state(&inbox, id).await, EntryState::Running);
    let done = inbox
        .store()
        .settle(&second[0].lease, &Settlement::Done)
        .await;
    assert!(done.expect("settle"));
    assert_eq!(state(&inbox, id).await, EntryState::Done);
}

/// A retry is not due before its time; the last attempt's failure is dead, with the history
/// kept; a replay runs it again from attempt 1 (even when done), never while running.
pub async fn retry_then_dead_then_replay(inbox: Inbox) {
    let id = stored(&inbox, &entry("retried")).await;
    let claimed = inbox.store().claim(&request(1, "t1")).await.expect("claim");
    let retry = Settlement::Retry {
        after: Duration::from_millis(300),
        error: "first failure".to_owned(),
    };
    assert!(
        inbox
            .store()
            .settle(&claimed[0].lease, &retry)
            .await
            .expect("settle")
    );
    assert!(
        inbox
            .store()
            .claim(&request(1, "t2"))
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = inbox.store().claim(&request(1, "t3")).await.expect("claim");
    assert_eq!(again.len(), 1, "due after its delay");
    assert_eq!(again[0].attempt, 2);
    let running = inbox.store().replay(&[id]).await.expect("replay");
    assert!(running.is_empty(), "a running entry is not replayed");
    let dead = Settlement::Dead {
        error: "second failure".to_owned(),
    };
    assert!(
        inbox
            .store()
            .settle(&again[0].lease, &dead)
            .await
            .expect("settle")
    );
    let entry = inbox.store().get(id).await.expect("get").expect("exists");
    assert_eq!(entry.state, EntryState::Dead);
    assert_eq!(entry.last_error.as_deref(), Some("second failure"));
    let errors: Vec<_> = entry.history.iter().map(|a| a.error.clone()).collect();
    assert_eq!(
        errors,
        [
            Some("first failure".to_owned()),
            Some("second failure".to_owned())
        ]
    );
    assert_eq!(inbox.store().replay(&[id]).await.expect("replay"), vec![id]);
    let replayed = inbox.store().claim(&request(1, "t4")).await.expect("claim");
    assert_eq!(replayed[0].attempt, 1, "a replay starts over");
    assert!(
        inbox
            .store()
            .settle(&replayed[0].lease, &Settlement::Done)
            .await
            .expect("settle")
    );
    assert_eq!(
        inbox.store().replay(&[id]).await.expect("replay"),
        vec![id],
        "done entries replay too"
    );
    assert_eq!(state(&inbox, id).await, EntryState::Pending);
}

/// A bulk replay of dead entries, cancelled halfway, replays whole entries only and leaves
/// the rest dead; entries outside the filter are not touched.
pub async fn bulk_replay_cancelled_halfway(inbox: Inbox) {
    for n in 0..100 {
        stored(&inbox, &entry(&format!("dead{n}"))).await;
    }
    let other = stored(&inbox, &entry("left-pending")).await;
    let claimed = inbox
        .store()
        .claim(&request(100, "bulk"))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 100);
    for entry in &claimed {
        let dead = Settlement::Dead {
            error: "down".to_owned(),
        };
        assert!(
            inbox
                .store()
                .settle(&entry.lease, &dead)
                .await
                .expect("settle")
        );
    }
    // `other` was the 101st: still pending.
    assert_eq!(state(&inbox, other).await, EntryState::Pending);
    let cancel = Cancel::new();
    let steps = AtomicU32::new(0);
    let filter = Filter {
        state: Some(EntryState::Dead),
        ..Filter::default()
    };
    let report = inbox
        .replay_matching(
            &filter,
            Throttle::new(10, Duration::ZERO),
            &cancel,
            async |_| {
                if steps.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                    cancel.cancel();
                }
            },
        )
        .await
        .expect("replay");
    assert!(report.cancelled);
    assert_eq!(report.replayed, 50);
    let stats = inbox.store().stats().await.expect("stats");
    assert_eq!((stats.pending, stats.dead), (51, 50), "{stats:?}");
    let listed = inbox.store().list(&filter, None, 1000).await.expect("list");
    assert!(
        listed.iter().all(|e| e.attempts == 1),
        "dead entries untouched"
    );
    let replayed = Filter {
        state: Some(EntryState::Pending),
        ..Filter::default()
    };
    let pending = inbox
        .store()
        .list(&replayed, None, 1000)
        .await
        .expect("list");
    assert!(
        pending.iter().all(|e| e.attempts == 0),
        "replayed entries whole"
    );
    // Finished: the rest.
    let rest = inbox
        .replay_matching(&filter, Throttle::default(), &Cancel::new(), async |_| {})
        .await
        .expect("replay");
    assert_eq!((rest.replayed, rest.cancelled), (50, false));
}

/// A paused provider's entries are stored but not claimed; resuming releases them.
pub async fn pause_and_resume(inbox: Inbox) {
    let scope = PauseScope {
        provider: PROVIDER.to_owned(),
        endpoint: None,
    };
    inbox.store().pause(&scope).await.expect("pause");
    assert_eq!(
        inbox.store().paused().await.expect("paused"),
        vec![scope.clone()]
    );
    let receiver = receiver(&inbox);
    let answer = send(&receiver, "msg_paused", "user.created").await;
    assert_eq!(
        answer.kind(),
        &RejectionKind::Queued,
        "deliveries keep being accepted"
    );
    assert!(
        inbox
            .store()
            .claim(&request(5, "p"))
            .await
            .expect("claim")
            .is_empty()
    );
    // Another endpoint's pause does not cover it.
    assert!(inbox.store().resume(&scope).await.expect("resume"));
    let other = PauseScope {
        provider: PROVIDER.to_owned(),
        endpoint: Some("elsewhere".to_owned()),
    };
    inbox.store().pause(&other).await.expect("pause");
    assert_eq!(
        inbox
            .store()
            .claim(&request(5, "q"))
            .await
            .expect("claim")
            .len(),
        1
    );
    assert!(
        !inbox.store().resume(&scope).await.expect("resume"),
        "not paused any more"
    );
}

/// Entries sharing an ordering key run one at a time in id order; others run beside them.
pub async fn ordering_key(inbox: Inbox) {
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut keyed = entry(&format!("ordered{n}"));
        keyed.ordering_key = Some("repo-1".to_owned());
        ids.push(stored(&inbox, &keyed).await);
    }
    let free = stored(&inbox, &entry("unordered")).await;
    for (step, &expected) in ids.iter().enumerate() {
        let claimed = inbox
            .store()
            .claim(&request(10, &format!("o{step}")))
            .await
            .expect("claim");
        let mut got: Vec<EntryId> = claimed.iter().map(|e| e.lease.id).collect();
        got.sort_unstable();
        let mut want = vec![expected];
        if step == 0 {
            want.push(free);
        }
        assert_eq!(
            got, want,
            "step {step}: only the key's oldest unfinished entry"
        );
        // A retry keeps its place: the next one waits for it.
        let keyed = claimed
            .iter()
            .find(|e| e.lease.id == expected)
            .expect("claimed");
        if step == 1 {
            let retry = Settlement::Retry {
                after: Duration::ZERO,
                error: "again".to_owned(),
            };
            assert!(
                inbox
                    .store()
                    .settle(&keyed.lease, &retry)
                    .await
                    .expect("settle")
            );
            let again = inbox
                .store()
                .claim(&request(10, "o-retry"))
                .await
                .expect("claim");
            assert_eq!(
                again.iter().map(|e| e.lease.id).collect::<Vec<_>>(),
                vec![expected]
            );
            assert!(
                inbox
                    .store()
                    .settle(&again[0].lease, &Settlement::Done)
                    .await
                    .expect("settle")
            );
        } else {
            assert!(
                inbox
                    .store()
                    .settle(&keyed.lease, &Settlement::Done)
                    .await
                    .expect("settle")
            );
        }
    }
}

/// Purging done entries frees their dedup keys; forgetting works on finished entries only.
pub async fn purge_and_forget(inbox: Inbox) {
    let new = entry("purged");
    let id = stored(&inbox, &new).await;
    let pending = stored(&inbox, &entry("kept")).await;
    assert!(
        !inbox
            .store()
            .forget(&entry("kept").dedup_key)
            .await
            .expect("forget"),
        "pending kept"
    );
    let claimed = inbox.store().claim(&request(1, "pg")).await.expect("claim");
    assert_eq!(claimed[0].lease.id, id);
    assert!(
        inbox
            .store()
            .settle(&claimed[0].lease, &Settlement::Done)
            .await
            .expect("settle")
    );
    assert_eq!(
        inbox
            .store()
            .purge(Duration::from_secs(3600), false, 10)
            .await
            .expect("purge"),
        0
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        inbox
            .store()
            .purge(Duration::ZERO, false, 10)
            .await
            .expect("purge"),
        1
    );
    assert!(inbox.store().get(id).await.expect("get").is_none());
    assert!(inbox.store().get(pending).await.expect("get").is_some());
    let again = stored(&inbox, &new).await;
    assert!(again > id, "a purged key is stored anew");
    let claimed = inbox
        .store()
        .claim(&request(2, "pg2"))
        .await
        .expect("claim");
    for entry in &claimed {
        assert!(
            inbox
                .store()
                .settle(&entry.lease, &Settlement::Done)
                .await
                .expect("settle")
        );
    }
    assert!(inbox.store().forget(&new.dedup_key).await.expect("forget"));
    assert!(inbox.store().get(again).await.expect("get").is_none());
}

/// What a test handler saw.
#[derive(Default)]
struct Seen {
    runs: Mutex<Vec<(String, u32)>>,
}

impl Seen {
    fn push(&self, id: &str, attempt: u32) {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.push((id.to_owned(), attempt));
    }

    fn runs(&self) -> Vec<(String, u32)> {
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Waits until `done` holds, up to 10 s.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..500 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn all_done(inbox: &Inbox, count: u64) -> bool {
    let stats = inbox.store().stats().await.expect("stats");
    stats.done == count
}

/// 50 deliveries (and a copy of each) through the receiver, two workers of 4: every handler
/// runs once, with the typed delivery.
pub async fn worker_runs_each_entry_once(inbox: Inbox) {
    let receiver = receiver(&inbox);
    for n in 0..50 {
        let id = format!("msg_{n}");
        assert_eq!(
            send(&receiver, &id, "user.created").await.kind(),
            &RejectionKind::Queued
        );
        assert_eq!(
            send(&receiver, &id, "user.created").await.kind(),
            &RejectionKind::Duplicate
        );
    }
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut workers = Vec::new();
    for _ in 0..2 {
        let seen = Arc::clone(&seen);
        let worker = inbox
            .worker()
            .concurrency(4)
            .poll_interval(Duration::from_millis(50))
            .route(&receiver, move |delivery, attempt| {
                let seen = Arc::clone(&seen);
                async move {
                    assert_eq!(delivery.meta.event_type, "user.created");
                    assert_eq!(&*delivery.meta.provider, PROVIDER);
                    seen.push(delivery.meta.delivery_id.as_str(), attempt.number);
                    Verdict::Done
                }
            });
        let stop = Arc::clone(&stop);
        workers.push(tokio::spawn(async move {
            worker.run_until(stop.notified()).await;
        }));
    }
    eventually("50 entries are done", async || all_done(&inbox, 50).await).await;
    stop.notify_waiters();
    for worker in workers {
        worker.await.expect("worker");
    }
    let mut runs = seen.runs();
    runs.sort();
    runs.dedup_by(|a, b| a.0 == b.0);
    assert_eq!(seen.runs().len(), 50, "each entry ran once");
    assert_eq!(runs.len(), 50);
}

/// A panicking handler is retried like a failure, dead after the last attempt; `Fail` is dead
/// at once; a replayed dead entry runs again.
pub async fn worker_retries_panics_and_failures(inbox: Inbox) {
    let receiver = receiver(&inbox);
    assert_eq!(
        send(&receiver, "msg_panics", "a.panic").await.kind(),
        &RejectionKind::Queued
    );
    assert_eq!(
        send(&receiver, "msg_fails", "a.failure").await.kind(),
        &RejectionKind::Queued
    );
    let seen = Arc::new(Seen::default());
    let fixed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let worker = {
        let (seen, fixed) = (Arc::clone(&seen), Arc::clone(&fixed));
        inbox
            .worker()
            .poll_interval(Duration::from_millis(30))
            .retry(RetryPolicy::new(Duration::from_millis(20), 3))
            .route(&receiver, move |delivery, attempt| {
                let (seen, fixed) = (Arc::clone(&seen), Arc::clone(&fixed));
                async move {
                    seen.push(delivery.meta.delivery_id.as_str(), attempt.number);
                    let done_id = delivery.meta.delivery_id.as_str().to_owned();
                    let after = Arc::clone(&seen);
                    attempt.on_done(move || after.push(&format!("done {done_id}"), 0));
                    if fixed.load(Ordering::SeqCst) {
                        return Verdict::Done;
                    }
                    match delivery.meta.event_type.as_str() {
                        "a.panic" => panic!("handler bug"),
                        _ => Verdict::fail("cannot be handled"),
                    }
                }
            })
    };
    let stop = Arc::new(tokio::sync::Notify::new());
    let running = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move { worker.run_until(stop.notified()).await })
    };
    let dead = async || inbox.store().stats().await.expect("stats").dead == 2;
    eventually("both entries are dead", dead).await;
    let runs = seen.runs();
    assert!(
        !runs.iter().any(|r| r.0.starts_with("done ")),
        "on_done never runs for a failed attempt"
    );
    let panics: Vec<u32> = runs
        .iter()
        .filter(|r| r.0 == "msg_panics")
        .map(|r| r.1)
        .collect();
    let fails: Vec<u32> = runs
        .iter()
        .filter(|r| r.0 == "msg_fails")
        .map(|r| r.1)
        .collect();
    assert_eq!(
        panics,
        [1, 2, 3],
        "a panic is retried up to the last attempt"
    );
    assert_eq!(fails, [1], "Fail is dead at once");
    let dead = Filter {
        state: Some(EntryState::Dead),
        ..Filter::default()
    };
    let listed = inbox.store().list(&dead, None, 10).await.expect("list");
    let panicked = listed
        .iter()
        .find(|e| e.delivery_id == "msg_panics")
        .expect("listed");
    let entry = inbox
        .store()
        .get(panicked.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(entry.history.len(), 3, "every attempt kept");
    assert!(
        entry
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("handler bug"))
    );
    fixed.store(true, Ordering::SeqCst);
    let report = inbox
        .replay_matching(&dead, Throttle::default(), &Cancel::new(), async |_| {})
        .await
        .expect("replay");
    assert_eq!(report.replayed, 2);
    eventually("the replays are done", async || all_done(&inbox, 2).await).await;
    stop.notify_waiters();
    running.await.expect("worker");
    let mut done: Vec<String> = (seen.runs().into_iter())
        .filter(|r| r.0.starts_with("done "))
        .map(|r| r.0)
        .collect();
    done.sort();
    assert_eq!(
        done,
        ["done msg_fails", "done msg_panics"],
        "on_done after each done"
    );
}

/// An entry claimed by a worker that then died runs once its lease expires, in another.
pub async fn worker_rescues_a_crashed_claim(inbox: Inbox) {
    let receiver = receiver(&inbox);
    assert_eq!(
        send(&receiver, "msg_crash", "user.created").await.kind(),
        &RejectionKind::Queued
    );
    // The crashed worker: claimed, never settled nor renewed.
    let crashed = inbox
        .store()
        .claim(&request(1, "crashed"))
        .await
        .expect("claim");
    assert_eq!(crashed.len(), 1);
    let seen = Arc::new(Seen::default());
    let worker = {
        let seen = Arc::clone(&seen);
        inbox
            .worker()
            .poll_interval(Duration::from_millis(50))
            .route(&receiver, move |delivery, attempt| {
                let seen = Arc::clone(&seen);
                async move {
                    seen.push(delivery.meta.delivery_id.as_str(), attempt.number);
                }
            })
    };
    let stop = Arc::new(tokio::sync::Notify::new());
    let running = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move { worker.run_until(stop.notified()).await })
    };
    eventually("the rescued entry is done", async || {
        all_done(&inbox, 1).await
    })
    .await;
    stop.notify_waiters();
    running.await.expect("worker");
    assert_eq!(seen.runs(), [("msg_crash".to_owned(), 2)]);
}

/// Stopping a worker whose handler outlives the deadline puts its entry back to pending,
/// the attempt not counted.
pub async fn worker_shutdown_releases(inbox: Inbox) {
    let receiver = receiver(&inbox);
    assert_eq!(
        send(&receiver, "msg_slow", "user.created").await.kind(),
        &RejectionKind::Queued
    );
    let started = Arc::new(tokio::sync::Notify::new());
    let worker = {
        let started = Arc::clone(&started);
        inbox
            .worker()
            .poll_interval(Duration::from_millis(20))
            .shutdown_deadline(Duration::from_millis(100))
            .route(&receiver, move |_, _| {
                let started = Arc::clone(&started);
                async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            })
    };
    let stop = Arc::new(tokio::sync::Notify::new());
    let running = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move { worker.run_until(stop.notified()).await })
    };
    started.notified().await;
    stop.notify_waiters();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stopped within the deadline")
        .expect("worker");
    let listed = inbox
        .store()
        .list(&Filter::default(), None, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, EntryState::Pending, "released");
    assert_eq!(listed[0].attempts, 0, "the cut-off attempt is not counted");
}
