//! The worker's cases: handlers run once, retried, rescued, stopped.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{PROVIDER, RunningWorker, SECRET, receiver, request, send, send_body};
use crate::{
    Receiver, StandardWebhooks,
    generic::{GenericEvent, GenericStandard},
    inbox::{Cancel, EntryState, Filter, Inbox, PauseScope, RetryPolicy, Throttle, Verdict},
    receiver::RejectionKind,
};

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
        workers.push(RunningWorker::start(worker));
    }
    eventually("50 entries are done", async || all_done(&inbox, 50).await).await;
    let stopping: Vec<_> = workers.into_iter().map(RunningWorker::stop).collect();
    for worker in stopping {
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
    let fixed = Arc::new(AtomicBool::new(false));
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
    let running = RunningWorker::start(worker);
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
    running.stop().await.expect("worker");
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
    let running = RunningWorker::start(worker);
    eventually("the rescued entry is done", async || {
        all_done(&inbox, 1).await
    })
    .await;
    running.stop().await.expect("worker");
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
    let running = RunningWorker::start(worker);
    started.notified().await;
    tokio::time::timeout(Duration::from_secs(5), running.stop())
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

/// A paused provider's deliveries are stored (202) but not run; resuming drains them. Entries
/// sharing an ordering key never overlap and run in the order received; two keys run side by
/// side.
pub async fn worker_keeps_order_and_pauses(inbox: Inbox) {
    let verifier = StandardWebhooks::new(SECRET).expect("valid secret");
    let receiver = Receiver::builder(GenericStandard::new(PROVIDER, verifier))
        .inbox(&inbox)
        .ordering_key(|event| match event {
            GenericEvent::Parsed { payload, .. } => {
                payload["data"]["key"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .build()
        .expect("valid receiver");
    let scope = PauseScope {
        provider: PROVIDER.to_owned(),
        endpoint: None,
    };
    inbox.store().pause(&scope).await.expect("pause");
    for n in 0..12 {
        let key = if n % 2 == 0 { "a" } else { "b" };
        let body = format!(r#"{{"type":"ordered","data":{{"key":"{key}","seq":{n}}}}}"#);
        let answer = send_body(&receiver, &format!("msg_order_{n}"), body).await;
        assert_eq!(
            answer.kind(),
            &RejectionKind::Queued,
            "paused: still stored"
        );
    }
    /// (key, seq, started, ended) of each run, in ms since the start.
    type Run = (String, u64, u128, u128);
    let runs: Arc<Mutex<Vec<Run>>> = Arc::default();
    let origin = std::time::Instant::now();
    let worker = {
        let runs = Arc::clone(&runs);
        inbox
            .worker()
            .concurrency(8)
            .poll_interval(Duration::from_millis(20))
            .route(&receiver, move |delivery, _| {
                let runs = Arc::clone(&runs);
                async move {
                    let GenericEvent::Parsed { payload, .. } = &delivery.event else {
                        return Verdict::fail("unparsed");
                    };
                    let key = payload["data"]["key"].as_str().unwrap_or("").to_owned();
                    let seq = payload["data"]["seq"].as_u64().unwrap_or(0);
                    let started = origin.elapsed().as_millis();
                    tokio::time::sleep(Duration::from_millis(15)).await;
                    let ended = origin.elapsed().as_millis();
                    runs.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((key, seq, started, ended));
                    Verdict::Done
                }
            })
    };
    let running = RunningWorker::start(worker);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        runs.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty(),
        "nothing runs while paused"
    );
    assert!(inbox.store().resume(&scope).await.expect("resume"));
    eventually("the paused entries drain", async || {
        all_done(&inbox, 12).await
    })
    .await;
    running.stop().await.expect("worker");
    let runs = runs.lock().unwrap_or_else(PoisonError::into_inner).clone();
    for key in ["a", "b"] {
        let mut of_key: Vec<&Run> = runs.iter().filter(|r| r.0 == key).collect();
        of_key.sort_by_key(|r| r.2);
        let seqs: Vec<u64> = of_key.iter().map(|r| r.1).collect();
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(seqs, sorted, "key {key} ran in the order received");
        assert_eq!(seqs.len(), 6);
        for pair in of_key.windows(2) {
            assert!(
                pair[1].2 >= pair[0].3,
                "key {key}: two entries overlapped: {pair:?}"
            );
        }
    }
}

/// A handler that panics before it returns its future (a plain `fn` doing work up front) is
/// retried like any failure, and its slot lives on: with one slot, the retry runs.
pub async fn worker_survives_a_panic_before_the_future(inbox: Inbox) {
    let receiver = receiver(&inbox);
    assert_eq!(
        send(&receiver, "msg_early_panic", "user.created")
            .await
            .kind(),
        &RejectionKind::Queued
    );
    let worker = inbox
        .worker()
        .concurrency(1)
        .poll_interval(Duration::from_millis(20))
        .retry(RetryPolicy::new(Duration::from_millis(10), 3))
        .route(&receiver, |_delivery, attempt| {
            assert!(
                attempt.number > 1,
                "the first attempt panics before its future"
            );
            std::future::ready(Verdict::Done)
        });
    let running = RunningWorker::start(worker);
    eventually("the entry is done on its second attempt", async || {
        all_done(&inbox, 1).await
    })
    .await;
    running.stop().await.expect("worker");
    let listed = inbox
        .store()
        .list(&Filter::default(), None, 10)
        .await
        .expect("list");
    assert_eq!(listed[0].attempts, 2);
}
