//! [`Renewals`]: the leases of claims whose handlers run, renewed by a task of their own on
//! the runtime's background thread ([`Runtime::background`]), so a handler that blocks its
//! thread (a synchronous call, a CPU-bound loop) or never yields still keeps its claim.
//!
//! One task per receiver, started by its first registration: it sleeps while nothing is
//! registered, and otherwise wakes every [`TICK`] to renew the claims whose third of a lease
//! has passed. Registering and deregistering a claim is an entry in a map under a lock: a
//! handler that answers at once costs no timer, task or store call.

use std::{
    collections::HashMap,
    future::poll_fn,
    sync::{Arc, Mutex, PoisonError, Weak},
    task::{Poll, Waker},
    time::{Duration, Instant},
};

use super::{
    metrics::{Labels, StoreCall},
    runtime::Runtime,
};
use crate::dedup::{ClaimToken, DedupKey, DedupStore};

/// A claim to renew: where it is, whose it is, for how long.
#[derive(Clone)]
pub(crate) struct Lease {
    pub(crate) store: Arc<dyn DedupStore>,
    pub(crate) key: DedupKey,
    pub(crate) token: ClaimToken,
    pub(crate) lease: Duration,
    pub(crate) labels: Arc<Labels>,
}

/// How often the renewing task looks for claims due a renewal while any is registered.
const TICK: Duration = Duration::from_millis(100);

/// The claims of one receiver whose handlers run.
#[derive(Default)]
pub(crate) struct Renewals {
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    claims: HashMap<u64, Claim>,
    next_id: u64,
    /// The renewing task has been started.
    started: bool,
    /// The renewing task, asleep while nothing is registered.
    asleep: Option<Waker>,
}

struct Claim {
    held: Lease,
    /// When its next renewal is due.
    due: Instant,
    /// A renewal of it is on its way.
    renewing: bool,
}

/// A registered claim, deregistered when dropped (the handler answered, failed, or was
/// dropped).
pub(crate) struct Registration<'a> {
    renewals: &'a Renewals,
    id: u64,
}

impl Renewals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while the lock was held leaves a consistent map (every change is one call).
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Renews `held` every third of its lease until the registration drops; starts the
    /// receiver's renewing task on `runtime`'s background thread the first time.
    pub(crate) fn register(self: &Arc<Self>, held: Lease, runtime: Runtime) -> Registration<'_> {
        let due = Instant::now() + held.lease / 3;
        let (id, start, asleep) = {
            let mut registry = self.lock();
            let id = registry.next_id;
            registry.next_id += 1;
            let claim = Claim {
                held,
                due,
                renewing: false,
            };
            registry.claims.insert(id, claim);
            let start = !std::mem::replace(&mut registry.started, true);
            (id, start, registry.asleep.take())
        };
        if start {
            let renewals = Arc::downgrade(self);
            (runtime.background)(Box::pin(renew_while_registered(renewals, runtime)));
        }
        if let Some(task) = asleep {
            task.wake();
        }
        Registration { renewals: self, id }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.renewals.lock().claims.remove(&self.id);
    }
}

/// The renewing task of one receiver: ends when the receiver is gone.
async fn renew_while_registered(renewals: Weak<Renewals>, runtime: Runtime) {
    loop {
        let any = poll_fn(|cx| {
            let Some(renewals) = renewals.upgrade() else {
                return Poll::Ready(false);
            };
            let mut registry = renewals.lock();
            if registry.claims.is_empty() {
                registry.asleep = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(true)
        })
        .await;
        if !any {
            return;
        }
        (runtime.sleep)(TICK).await;
        let Some(receiver) = renewals.upgrade() else {
            return;
        };
        let now = Instant::now();
        let due: Vec<(u64, Lease)> = {
            let mut registry = receiver.lock();
            registry
                .claims
                .iter_mut()
                .filter(|(_, claim)| !claim.renewing && claim.due <= now)
                .map(|(id, claim)| {
                    claim.renewing = true;
                    claim.due = now + claim.held.lease / 3;
                    (*id, claim.held.clone())
                })
                .collect()
        };
        for (id, held) in due {
            (runtime.spawn)(Box::pin(renew(Arc::clone(&receiver), id, held)));
        }
    }
}

/// One renewal of the claim registered as `id`.
async fn renew(renewals: Arc<Renewals>, id: u64, held: Lease) {
    let renewed = held.store.renew(&held.key, &held.token, held.lease).await;
    let mut registry = renewals.lock();
    let Some(claim) = registry.claims.get_mut(&id) else {
        // The handler answered meanwhile: its claim is settled, nothing to say.
        return;
    };
    claim.renewing = false;
    match renewed {
        Ok(true) => {}
        Ok(false) => {
            registry.claims.remove(&id);
            drop(registry);
            held.labels.lease_lost();
            tracing::warn!(key = %held.key, "claim lost while the handler runs (its lease ran out before a renewal); a retry may run the delivery again");
        }
        Err(error) => {
            drop(registry);
            held.labels.store_error(StoreCall::Renew);
            tracing::warn!(%error, key = %held.key, "could not renew the claim; trying again at the next interval");
        }
    }
}
