//! The overload cases: a store that stalls while a captured delivery is replayed thousands of
//! times, on any store, through either adapter.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::Semaphore;
use webhook_guard::{
    dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreError, StoreErrorKind, StoreFuture},
    receiver::DUPLICATE_HEADER,
};

use crate::{Adapter, Options, client, post_signed, sample, sign, start};

/// How many replays of the captured delivery are sent during the stall.
pub const REPLAYS: usize = 4_400;
/// How long the store stalls.
pub const STALL: Duration = Duration::from_millis(4_500);
/// How soon after the store answers again a fresh delivery must be answered 2xx.
pub const RECOVERY: Duration = Duration::from_secs(5);

/// One captured, authentic ParseFlow delivery (processed once before) replayed [`REPLAYS`]
/// times, 64 at a time, while the store stalls for [`STALL`] (`pause` .. `resume`), and a
/// trickle of replays afterwards. Fresh authentic (Parallel) deliveries are refused (503) or accepted
/// during the stall; from the moment the store answers again, a fresh delivery is answered
/// 2xx within [`RECOVERY`], and so are the 20 after it. No delivery's handler runs twice,
/// and every replay is answered 503 (during the stall) or 200 as a duplicate.
pub async fn a_stall_during_a_replay_storm_costs_nothing(
    adapter: Adapter,
    store: Arc<dyn DedupStore>,
    pause: impl FnOnce(),
    resume: impl FnOnce(),
) {
    let options = Options {
        store: Some(store),
        ..Options::default()
    };
    let server = Arc::new(start(adapter, options).await);
    let client = client();
    let body = sample("parseflow");
    let url = server.url("parseflow");
    let captured = sign("parseflow", "captured", server.now(), body);
    let first = post_signed(&client, &url, &captured, body, &[])
        .await
        .expect("sent");
    assert_eq!(first.status(), 200, "{adapter}: the captured delivery");

    pause();
    let stalled = Instant::now();
    let sent = Arc::new(AtomicUsize::new(0));
    let storm = {
        let (client, url, captured, sent) = (
            client.clone(),
            url.clone(),
            captured.clone(),
            Arc::clone(&sent),
        );
        tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut statuses = futures_util::stream::iter(0..REPLAYS)
                .map(|_| {
                    let (client, url, captured) = (&client, &url, &captured);
                    async move {
                        let response = post_signed(client, url, captured, body, &[])
                            .await
                            .expect("the server answers");
                        let duplicate = response.headers().contains_key(DUPLICATE_HEADER);
                        (response.status().as_u16(), duplicate)
                    }
                })
                .buffer_unordered(64);
            let mut answers = Vec::with_capacity(REPLAYS);
            while let Some(answer) = statuses.next().await {
                sent.fetch_add(1, Ordering::Relaxed);
                answers.push(answer);
            }
            answers
        })
    };
    // Fresh deliveries (of another provider, whose ids are the sender's) during the stall:
    // refused, or accepted only if they really ran.
    let fresh_body = sample("parallel");
    let fresh_url = server.url("parallel");
    let mut fresh = 0;
    while stalled.elapsed() < STALL {
        let id = format!("during-{fresh}");
        let headers = sign("parallel", &id, server.now(), fresh_body);
        let response = post_signed(&client, &fresh_url, &headers, fresh_body, &[])
            .await
            .expect("sent");
        let status = response.status().as_u16();
        assert!(
            matches!(status, 200 | 503),
            "{adapter}: {id} answered {status}"
        );
        fresh += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    resume();
    let resumed = Instant::now();
    let answers = storm.await.expect("storm");
    eprintln!(
        "{adapter}: {} replays sent; {} answered 503, {} duplicates",
        answers.len(),
        answers.iter().filter(|(status, _)| *status == 503).count(),
        answers.iter().filter(|(_, duplicate)| *duplicate).count(),
    );
    for (status, duplicate) in &answers {
        assert!(
            *status == 503 || (*status == 200 && *duplicate),
            "{adapter}: a replay answered {status} (duplicate header: {duplicate})"
        );
    }

    // A trickle of replays goes on while fresh deliveries arrive.
    let mut accepted = 0;
    let mut attempt = 0;
    let mut first_accepted: Option<(usize, Duration)> = None;
    while accepted < 21 {
        let replay = post_signed(&client, &url, &captured, body, &[])
            .await
            .expect("sent");
        assert!(
            replay.status() == 503 || replay.headers().contains_key(DUPLICATE_HEADER),
            "{adapter}: a replay after the stall answered {}",
            replay.status()
        );
        let id = format!("after-{attempt}");
        attempt += 1;
        let headers = sign("parallel", &id, server.now(), fresh_body);
        let response = post_signed(&client, &fresh_url, &headers, fresh_body, &[])
            .await
            .expect("sent");
        if response.status().is_success() {
            assert!(
                !response.headers().contains_key(DUPLICATE_HEADER),
                "{adapter}: {id}"
            );
            accepted += 1;
            first_accepted.get_or_insert((attempt, resumed.elapsed()));
            assert_eq!(server.runs_of(&id), 1, "{adapter}: {id}");
        } else {
            assert!(
                resumed.elapsed() < RECOVERY && accepted == 0,
                "{adapter}: {id} answered {} {:?} after the store came back",
                response.status(),
                resumed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    eprintln!(
        "{adapter}: {fresh} fresh deliveries during the stall; the first fresh delivery after it \
         was answered 2xx at try {} ({:?} after the store came back)",
        first_accepted.map_or(0, |(tries, _)| tries),
        first_accepted.map(|(_, after)| after),
    );
    assert_eq!(
        server.runs_of("captured"),
        1,
        "{adapter}: the captured delivery"
    );
    for call in server.calls() {
        assert_eq!(server.runs_of(&call.delivery_id), 1, "{}", call.delivery_id);
    }
}

/// [`a_stall_during_a_replay_storm_costs_nothing`] with the stall made two ways: the
/// store's server paused (`pause` .. `resume`, `slow` is `None`), or a [`SlowStore`] in front
/// of `store` stalled and then answering one call at a time, each taking `slow` (a database
/// left with a tenth of its rate).
pub async fn a_store_stall_during_a_replay_storm(
    adapter: Adapter,
    store: Arc<dyn DedupStore>,
    slow: Option<Duration>,
    pause: impl FnOnce(),
    resume: impl FnOnce(),
) {
    let Some(per_call) = slow else {
        return a_stall_during_a_replay_storm_costs_nothing(adapter, store, pause, resume).await;
    };
    let slow = Arc::new(SlowStore::new(store, per_call, Duration::from_millis(500)));
    let (paused, resumed) = (Arc::clone(&slow), Arc::clone(&slow));
    a_stall_during_a_replay_storm_costs_nothing(
        adapter,
        slow,
        move || paused.pause(),
        move || resumed.resume(),
    )
    .await;
}

/// A store in front of another that can stall (`pause`: every call waits, and fails as a
/// time-out after `timeout` without reaching the store, until `resume`), and that answers at
/// a fraction of its normal rate: one call at a time, each taking at least `per_call` (a
/// database starved of CPU).
#[derive(Debug)]
pub struct SlowStore {
    inner: Arc<dyn DedupStore>,
    paused: AtomicBool,
    one_at_a_time: Semaphore,
    per_call: Duration,
    timeout: Duration,
}

impl SlowStore {
    /// `inner`, one call at a time taking at least `per_call`, failing after `timeout` while
    /// paused.
    pub fn new(inner: Arc<dyn DedupStore>, per_call: Duration, timeout: Duration) -> Self {
        Self {
            inner,
            paused: AtomicBool::new(false),
            one_at_a_time: Semaphore::new(1),
            per_call,
            timeout,
        }
    }

    /// Stalls every call from now on.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Answers again (slowly).
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    fn call<'a, T: Send + 'a>(&'a self, apply: StoreFuture<'a, T>) -> StoreFuture<'a, T> {
        Box::pin(async move {
            let started = Instant::now();
            let permit = tokio::time::timeout(self.timeout, self.one_at_a_time.acquire()).await;
            let timed_out =
                || StoreError::new(StoreErrorKind::Timeout, "slow store: no answer in time");
            let Ok(Ok(_permit)) = permit else {
                return Err(timed_out());
            };
            while self.paused.load(Ordering::SeqCst) {
                if started.elapsed() >= self.timeout {
                    return Err(timed_out());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(self.per_call).await;
            apply.await
        })
    }
}

impl DedupStore for SlowStore {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        self.call(self.inner.claim(key, token, lease))
    }

    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        self.call(self.inner.renew(key, token, lease))
    }

    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        self.call(self.inner.complete(key, token, retention))
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.call(self.inner.release(key, token))
    }
}

/// A handler that blocks its thread (a synchronous call) for three times the lease (1 s):
/// its claim is renewed all the same, from the runtime's background thread: past two leases
/// the store still refuses another owner's claim. Retries sent from new connections
/// meanwhile are answered 409 (or, when one waits on the blocked worker, as a duplicate once
/// it is done); the handler runs once.
///
/// # Panics
/// When an answer is not as above.
pub async fn a_blocking_handler_keeps_its_claim(adapter: Adapter, options: Options) {
    use webhook_guard::dedup::{Claim, ClaimToken, DedupKey, MemoryStore};
    let lease = Duration::from_secs(1);
    let store = Arc::new(MemoryStore::new());
    let server = start(
        adapter,
        Options {
            lease: Some(lease),
            store: Some(Arc::clone(&store) as Arc<dyn DedupStore>),
            ..options
        },
    )
    .await;
    let server = Arc::new(server);
    let body = sample("parallel");
    let headers = sign("parallel", "blocking-1", server.now(), body);
    let url = server.url("parallel");
    // Watched from a thread of its own: the test's runtime has a worker blocked too.
    let watch = {
        let (server, store) = (Arc::clone(&server), Arc::clone(&store));
        std::thread::spawn(move || {
            while server.runs_of("blocking-1") == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            // Past two leases, the claim is still held: another owner's claim is refused.
            std::thread::sleep(lease * 2 + Duration::from_millis(300));
            let key = DedupKey::new("parallel:default", "blocking-1");
            let token = ClaimToken::random();
            let claim = std::pin::pin!(store.claim(&key, &token, lease));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            match std::future::Future::poll(claim, &mut cx) {
                std::task::Poll::Ready(claimed) => claimed,
                std::task::Poll::Pending => panic!("the memory store answers at once"),
            }
        })
    };
    let blocking = {
        let (url, headers) = (url.clone(), headers.clone());
        tokio::spawn(async move {
            post_signed(&client(), &url, &headers, body, &[("x-test", "block:3000")]).await
        })
    };
    while server.runs_of("blocking-1") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    // Retries every 200 ms until the handler is done (one may wait on the blocked worker).
    let mut in_flight = 0;
    while started.elapsed() < lease * 3 - Duration::from_millis(300) {
        let retry = post_signed(&client(), &url, &headers, body, &[])
            .await
            .expect("sent");
        let duplicate = retry.headers().contains_key(DUPLICATE_HEADER);
        match retry.status().as_u16() {
            409 => in_flight += 1,
            200 if duplicate => {}
            other => panic!("{adapter}: a retry while the handler blocks answered {other}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let blocking = blocking.await.expect("task").expect("sent");
    assert_eq!(blocking.status(), 200, "{adapter}");
    let other = watch.join().expect("the watching thread");
    assert_eq!(
        other,
        Ok(Claim::InFlight),
        "{adapter}: the claim was renewed"
    );
    eprintln!("{adapter}: {in_flight} retries answered 409 while the handler blocked");
    assert_eq!(
        server.runs_of("blocking-1"),
        1,
        "{adapter}: the handler ran once"
    );
}
