//! What a worker's tasks share: its settings, the store, the routes, the leases held.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, atomic::AtomicBool},
    time::Duration,
};

use tokio::sync::Notify;

use super::{
    entry::{EntryId, Lease},
    retry::RetryPolicy,
    route::Route,
    store::InboxStore,
};

/// A worker's settings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub(super) concurrency: usize,
    pub(super) lease: Duration,
    pub(super) poll_interval: Duration,
    pub(super) retry: RetryPolicy,
    pub(super) retention: Option<Duration>,
    pub(super) shutdown_deadline: Duration,
}

/// What a worker's tasks share.
pub(super) struct Shared {
    pub(super) store: Arc<dyn InboxStore>,
    pub(super) routes: HashMap<(String, String), Arc<dyn Route>>,
    pub(super) settings: Settings,
    /// The leases of the entries whose handlers run, for the renewals.
    pub(super) running: Mutex<HashMap<EntryId, Lease>>,
    /// The routes, as claims name them.
    pub(super) route_keys: Vec<(String, String)>,
    /// Wakes the claimer: a notification from the store, or the shutdown.
    pub(super) wake: Notify,
    /// Tells the claimer that a slot took an entry from the buffer.
    pub(super) taken: Notify,
    /// Set when the worker is asked to stop: slots claim nothing more.
    pub(super) stopping: AtomicBool,
}

impl Shared {
    pub(super) fn hold(&self, lease: &Lease) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.insert(lease.id, lease.clone());
    }

    pub(super) fn let_go(&self, id: EntryId) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.remove(&id);
    }

    pub(super) fn running_leases(&self) -> Vec<Lease> {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.values().cloned().collect()
    }
}
