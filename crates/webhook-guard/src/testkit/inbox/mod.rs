//! The inbox conformance suite: the cases every [`InboxStore`](crate::inbox::InboxStore) must pass, through a receiver
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

mod store_cases;
mod worker_cases;

use std::time::Duration;

use bytes::Bytes;

use crate::{
    Receiver, StandardWebhooks,
    adapter::Runtime,
    generic::GenericStandard,
    inbox::{ClaimRequest, Enqueued, EntryId, EntryState, Inbox, NewEntry, StoredHeaders},
    receiver::Rejection,
};

/// The secret of the suite's sender.
pub(super) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The suite's provider name.
pub(super) const PROVIDER: &str = "conformance";
/// A short lease, so rescues happen within a test.
pub(super) const LEASE: Duration = Duration::from_millis(400);

pub use store_cases::{
    accept_and_duplicate, bulk_replay_cancelled_halfway, claims_are_exclusive, ordering_key,
    pause_and_resume, purge_and_forget, retry_then_dead_then_replay,
    settling_is_fenced_by_the_lease,
};
pub use worker_cases::{
    worker_keeps_order_and_pauses, worker_rescues_a_crashed_claim,
    worker_retries_panics_and_failures, worker_runs_each_entry_once, worker_shutdown_releases,
    worker_survives_a_panic_before_the_future,
};

/// A [`Worker`](crate::inbox::Worker) running in a task of its own until
/// [`stop`](Self::stop)ped, for tests. The stop is a `watch`, not a `Notify`: a worker whose
/// task is first polled after the stop still sees it.
#[derive(Debug)]
pub struct RunningWorker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    /// Spawns `worker` on the current Tokio runtime.
    #[must_use]
    pub fn start(worker: crate::inbox::Worker) -> Self {
        let (stop, mut stopping) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(worker.run_until(async move {
            let _ = stopping.wait_for(|stopped| *stopped).await;
        }));
        Self { stop, task }
    }

    /// Asks the worker to stop; await the handle for its shutdown to end.
    #[must_use]
    pub fn stop(self) -> tokio::task::JoinHandle<()> {
        self.stop.send_replace(true);
        self.task
    }
}

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
    worker_keeps_order_and_pauses(make().await).await;
    worker_survives_a_panic_before_the_future(make().await).await;
}

pub(super) fn receiver(inbox: &Inbox) -> Receiver<GenericStandard> {
    let verifier = StandardWebhooks::new(SECRET).expect("valid secret");
    Receiver::builder(GenericStandard::new(PROVIDER, verifier))
        .inbox(inbox)
        .build()
        .expect("valid receiver")
}

/// Sends a signed delivery `id` through `receiver`, as an adapter would.
pub(super) async fn send(
    receiver: &Receiver<GenericStandard>,
    id: &str,
    event_type: &str,
) -> Rejection {
    let body = format!(r#"{{"type":"{event_type}","data":{{"n":"{id}"}}}}"#);
    send_body(receiver, id, body).await
}

/// Sends `body`, signed, as delivery `id`.
pub(super) async fn send_body(
    receiver: &Receiver<GenericStandard>,
    id: &str,
    body: String,
) -> Rejection {
    let verifier = StandardWebhooks::new(SECRET).expect("valid secret");
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

pub(super) fn entry(key: &str) -> NewEntry {
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

pub(super) fn request(limit: usize, token: &str) -> ClaimRequest {
    ClaimRequest {
        limit,
        lease: LEASE,
        routes: vec![(PROVIDER.to_owned(), "default".to_owned())],
        token: token.to_owned(),
    }
}

pub(super) async fn stored(inbox: &Inbox, new: &NewEntry) -> EntryId {
    match inbox.store().enqueue(new).await.expect("enqueue") {
        Enqueued::Stored(id) => id,
        other => panic!("expected a new entry, got {other:?}"),
    }
}

pub(super) async fn state(inbox: &Inbox, id: EntryId) -> EntryState {
    let entry = inbox.store().get(id).await.expect("get");
    entry.expect("the entry exists").state
}
