//! [`Worker`]: runs the handlers of an inbox's entries, any number per process and any number
//! of processes, each entry under a lease renewed from a task of its own.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    sync::{Arc, Mutex, atomic::AtomicBool},
    time::{Duration, Instant},
};

use tokio::{
    sync::{Notify, mpsc},
    task::JoinSet,
};

use super::{
    attempt::Attempt,
    entry::{ClaimRequest, ClaimedEntry, Lease},
    metrics,
    retry::{RetryPolicy, Verdict},
    route::{Route, Typed},
    run::attempt,
    shared::{Settings, Shared},
    store::{InboxStore, Settlement},
};
use crate::{Delivery, Provider, Receiver, dedup::ClaimToken};

/// The default number of handlers one worker runs at once.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The default lease of a claimed entry; renewed every third of it while the handler runs.
pub const DEFAULT_INBOX_LEASE: Duration = Duration::from_secs(30);
/// How long a worker waits for a notification before it looks for due entries anyway (retries
/// come due without one).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a stopping worker lets running handlers finish before it releases their entries.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);
/// How often a worker sets the gauges of entries by state.
const GAUGES_EVERY: Duration = Duration::from_secs(15);
/// Entries purged per statement by the worker's retention.
const PURGE_BATCH: usize = 1_000;

/// Runs an inbox's handlers: see [`Inbox::worker`](super::Inbox::worker).
#[must_use]
pub struct Worker {
    store: Arc<dyn InboxStore>,
    routes: HashMap<(String, String), Arc<dyn Route>>,
    settings: Settings,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut routes: Vec<_> = self.routes.keys().collect();
        routes.sort();
        f.debug_struct("Worker")
            .field("store", &self.store)
            .field("routes", &routes)
            .field("settings", &self.settings)
            .finish()
    }
}

impl Worker {
    pub(super) fn new(store: Arc<dyn InboxStore>) -> Self {
        Self {
            store,
            routes: HashMap::new(),
            settings: Settings {
                concurrency: DEFAULT_CONCURRENCY,
                lease: DEFAULT_INBOX_LEASE,
                poll_interval: DEFAULT_POLL_INTERVAL,
                retry: RetryPolicy::default(),
                retention: None,
                shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
            },
        }
    }

    /// Runs `handler` for the entries `receiver` stores (its provider and endpoint), typed by
    /// its provider exactly as an inline handler's deliveries are. The handler answers a
    /// [`Verdict`], `()` (done) or a `Result<(), impl Display>` (an error is retried); a panic
    /// is retried too. A later route for the same provider and endpoint replaces this one.
    pub fn route<P, H, F, R>(mut self, receiver: &Receiver<P>, handler: H) -> Self
    where
        P: Provider,
        H: Fn(Delivery<P::Event>, Attempt) -> F + Send + Sync + 'static,
        F: Future<Output = R> + Send + 'static,
        R: Into<Verdict> + 'static,
    {
        let key = (
            receiver.provider_name().to_string(),
            receiver.endpoint().to_string(),
        );
        let route = Typed {
            receiver: receiver.clone(),
            handler: Arc::new(handler),
        };
        self.routes.insert(key, Arc::new(route));
        self
    }

    /// Handlers run at once by this worker (default [`DEFAULT_CONCURRENCY`], at least 1).
    pub fn concurrency(mut self, handlers: usize) -> Self {
        self.settings.concurrency = handlers.max(1);
        self
    }

    /// The lease of a claimed entry (default [`DEFAULT_INBOX_LEASE`]): how long a crashed
    /// worker's entries wait before another worker runs them. Renewed every third of it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.settings.lease = lease.max(Duration::from_millis(300));
        self
    }

    /// How often an idle worker looks for due entries without a notification (default
    /// [`DEFAULT_POLL_INTERVAL`]), and runs the rescuer.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.settings.poll_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// When failed attempts run again, and how many an entry gets (default
    /// [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// Deletes `done` entries this long after they finished, in batches, from this worker
    /// (default: never; the command line's `inbox purge` does it on demand). A purged
    /// entry's dedup record goes with it: keep it longer than the senders' retry windows.
    pub fn retention(mut self, after: Duration) -> Self {
        self.settings.retention = Some(after);
        self
    }

    /// How long [`run_until`](Self::run_until) lets running handlers finish once asked to
    /// stop, before it releases their entries for another worker (default
    /// [`DEFAULT_SHUTDOWN_DEADLINE`]).
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.settings.shutdown_deadline = deadline;
        self
    }

    /// Runs until `shutdown` completes: stops claiming, lets running handlers finish within
    /// the deadline, releases the entries of those that did not (another worker runs them),
    /// then returns. On Tokio; handlers run as tasks of the current runtime.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let route_keys = self.routes.keys().cloned().collect();
        let shared = Arc::new(Shared {
            store: self.store,
            routes: self.routes,
            settings: self.settings,
            running: Mutex::default(),
            route_keys,
            wake: Notify::new(),
            taken: Notify::new(),
            stopping: AtomicBool::new(false),
        });
        if shared.routes.is_empty() {
            tracing::warn!("inbox worker without routes: it claims nothing");
        }
        let mut background = JoinSet::new();
        background.spawn(renew_leases(Arc::clone(&shared)));
        background.spawn(maintain(Arc::clone(&shared)));
        background.spawn(listen(Arc::clone(&shared)));
        // One claimer, claiming ahead in batches; one loop per handler slot.
        let (sender, receiver) = mpsc::channel(buffer_size(&shared.settings));
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let mut handlers = JoinSet::new();
        handlers.spawn(claim_ahead(Arc::clone(&shared), sender));
        for _ in 0..shared.settings.concurrency {
            handlers.spawn(slot(Arc::clone(&shared), Arc::clone(&receiver)));
        }
        shutdown.await;
        shared
            .stopping
            .store(true, std::sync::atomic::Ordering::Release);
        shared.wake.notify_waiters();
        shared.taken.notify_waiters();
        let finished = tokio::time::timeout(shared.settings.shutdown_deadline, async {
            while handlers.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            handlers.abort_all();
            while handlers.join_next().await.is_some() {}
        }
        background.abort_all();
        let left: Vec<Lease> = shared.running_leases();
        for lease in &left {
            match shared.store.settle(lease, &Settlement::Release).await {
                Ok(_) => tracing::info!(entry = %lease.id, "released at shutdown"),
                Err(error) => {
                    tracing::warn!(entry = %lease.id, %error, "release at shutdown failed; rescued after its lease");
                }
            }
        }
    }
}

/// How many claimed entries wait for a slot: two per slot. With one per slot the slots
/// starved between claims on a fast store (Redis: 0.44x of a hand-written loop, against 0.76x
/// with two; BENCHMARKS.md).
fn buffer_size(settings: &super::shared::Settings) -> usize {
    settings.concurrency.saturating_mul(2)
}

/// Claims entries for the slots, in batches: whenever at least half of the buffer of claimed
/// entries (two per slot) is free, it claims that many at once (a claim is one commit or one
/// script, shared by the batch). Claimed entries waiting in the buffer are leased like running ones
/// (renewed, released at shutdown).
async fn claim_ahead(shared: Arc<Shared>, buffer: mpsc::Sender<ClaimedEntry>) {
    let size = buffer_size(&shared.settings);
    let stopping = || shared.stopping.load(std::sync::atomic::Ordering::Acquire);
    while !stopping() {
        // Registered before looking, so a wake-up meanwhile is not missed.
        let taken = shared.taken.notified();
        let woken = shared.wake.notified();
        let (mut taken, mut woken) = (std::pin::pin!(taken), std::pin::pin!(woken));
        taken.as_mut().enable();
        woken.as_mut().enable();
        let free = buffer.capacity();
        if free * 2 < size {
            tokio::select! {
                () = taken => {}
                () = woken => {}
            }
            continue;
        }
        let request = ClaimRequest {
            limit: free,
            lease: shared.settings.lease,
            routes: shared.route_keys.clone(),
            token: format!("{:032x}", ClaimToken::random().as_u128()),
        };
        let claimed = match shared.store.claim(&request).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "inbox claim failed; trying again");
                Vec::new()
            }
        };
        let got = claimed.len();
        for entry in claimed {
            shared.hold(&entry.lease);
            if buffer.send(entry).await.is_err() {
                return;
            }
        }
        if got < free {
            let _ = tokio::time::timeout(shared.settings.poll_interval, woken).await;
        }
    }
}

/// One handler slot: runs the claimed entries, one after the other.
async fn slot(shared: Arc<Shared>, buffer: Arc<tokio::sync::Mutex<mpsc::Receiver<ClaimedEntry>>>) {
    loop {
        let next = buffer.lock().await.recv().await;
        let Some(entry) = next else { return };
        shared.taken.notify_one();
        if shared.stopping.load(std::sync::atomic::Ordering::Acquire) {
            // Not started: released with the others at shutdown.
            continue;
        }
        attempt(&shared, entry).await;
    }
}

/// Relays the store's notifications to the idle slots.
async fn listen(shared: Arc<Shared>) {
    loop {
        if shared
            .store
            .wait(shared.settings.poll_interval)
            .await
            .is_err()
        {
            tokio::time::sleep(shared.settings.poll_interval).await;
        }
        shared.wake.notify_waiters();
    }
}

/// Renews the leases of running handlers every third of the lease.
async fn renew_leases(shared: Arc<Shared>) {
    let lease = shared.settings.lease;
    loop {
        tokio::time::sleep(lease / 3).await;
        let leases = shared.running_leases();
        if leases.is_empty() {
            continue;
        }
        match shared.store.renew(&leases, lease).await {
            Ok(renewed) => {
                // An entry settled while its renewal was on the way is not lost.
                let still = shared.running_leases();
                let lost = leases
                    .iter()
                    .filter(|l| !renewed.contains(&l.id) && still.contains(l));
                for lost in lost {
                    metrics::lease_lost();
                    tracing::warn!(entry = %lost.id, "inbox lease lost: the entry's settlement will be refused");
                }
            }
            Err(error) => tracing::warn!(%error, "inbox lease renewal failed; trying again"),
        }
    }
}

/// The rescuer (entries of crashed workers), the retention, and the gauges, every poll
/// interval.
async fn maintain(shared: Arc<Shared>) {
    let settings = shared.settings;
    let mut last_purge: Option<Instant> = None;
    let mut last_gauges: Option<Instant> = None;
    loop {
        match shared.store.rescue(settings.retry.max_attempts()).await {
            Ok(0) => {}
            Ok(rescued) => tracing::info!(rescued, "inbox entries of lost leases back to pending"),
            Err(error) => tracing::warn!(%error, "inbox rescue failed"),
        }
        if let Some(retention) = settings.retention {
            let due = last_purge.is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
            if due {
                last_purge = Some(Instant::now());
                loop {
                    match shared.store.purge(retention, false, PURGE_BATCH).await {
                        Ok(n) if n as usize == PURGE_BATCH => {
                            tokio::time::sleep(settings.poll_interval / 10).await;
                        }
                        Ok(_) => break,
                        Err(error) => {
                            tracing::warn!(%error, "inbox purge failed");
                            break;
                        }
                    }
                }
            }
        }
        // Counting by state reads the whole table in Postgres: not more than every 15 s.
        if last_gauges.is_none_or(|at| at.elapsed() >= GAUGES_EVERY) {
            last_gauges = Some(Instant::now());
            metrics::gauges(&*shared.store).await;
        }
        tokio::time::sleep(settings.poll_interval).await;
    }
}
