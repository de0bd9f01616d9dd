//! [`Renewals`]: the leases of claims whose handlers run, renewed by a task of their own on
//! the runtime's background thread ([`Runtime::background`]), so a handler that blocks its
//! thread (a synchronous call, a CPU-bound loop) or never yields still keeps its claim.
//!
//! One task per receiver, started by its first registration: it sleeps while nothing is
//! registered, and otherwise wakes every [`TICK`] to renew the claims whose third of a lease
//! has passed. Registering a claim is a reference count and a slot in a list under a lock;
//! a handler that answers at once costs no timer, task or store call.

use std::{
    future::poll_fn,
    sync::{Arc, Mutex, PoisonError, Weak},
    task::{Poll, Waker},
    time::Duration,
};

use web_time::Instant;

use super::{
    metrics::{Labels, StoreCall},
    runtime::Runtime,
};
use crate::dedup::{DedupKey, StoreFuture};

/// How often the renewing task looks for claims due a renewal while any is registered.
const TICK: Duration = Duration::from_millis(100);

/// A claim that can be renewed: the held claim of a delivery.
pub(crate) trait Renew: Send + Sync + 'static {
    /// Renews the claim for its lease: `Ok(false)` once it is no longer this owner's.
    fn renew(&self) -> StoreFuture<'_, bool>;
    /// Its lease.
    fn lease(&self) -> Duration;
    /// Its key, for logs.
    fn key(&self) -> &DedupKey;
    /// The metrics' labels of its receiver.
    fn labels(&self) -> &Labels;
}

/// The claims of one receiver whose handlers run.
#[derive(Default)]
pub(crate) struct Renewals {
    registry: Mutex<Registry>,
}

/// The registered claims in slots reused after they are freed; a slot's generation tells a
/// renewal that outlived its claim from one of the claim now in the slot.
#[derive(Default)]
struct Registry {
    slots: Vec<Slot>,
    free: Vec<usize>,
    registered: usize,
    /// The renewing task has been started.
    started: bool,
    /// The renewing task, asleep while nothing is registered.
    asleep: Option<Waker>,
}

#[derive(Default)]
struct Slot {
    generation: u64,
    claim: Option<Claim>,
}

struct Claim {
    held: Arc<dyn Renew>,
    /// When its next renewal is due.
    due: Instant,
    /// A renewal of it is on its way.
    renewing: bool,
}

/// Where a claim is registered.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Place {
    slot: usize,
    generation: u64,
}

/// A registered claim, deregistered when dropped (the handler answered, failed, or was
/// dropped).
pub(crate) struct Registration<'a> {
    renewals: &'a Renewals,
    place: Place,
}

impl Registry {
    fn claim(&mut self, place: Place) -> Option<&mut Claim> {
        let slot = self.slots.get_mut(place.slot)?;
        if slot.generation != place.generation {
            return None;
        }
        slot.claim.as_mut()
    }

    fn remove(&mut self, place: Place) {
        if let Some(slot) = self.slots.get_mut(place.slot)
            && slot.generation == place.generation
            && slot.claim.take().is_some()
        {
            slot.generation += 1;
            self.free.push(place.slot);
            self.registered -= 1;
        }
    }
}

impl Renewals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while the lock was held leaves a consistent list (every change is one call).
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Renews `held` every third of its lease until the registration drops; starts the
    /// receiver's renewing task on `runtime`'s background thread the first time.
    pub(crate) fn register(
        self: &Arc<Self>,
        held: Arc<dyn Renew>,
        runtime: Runtime,
    ) -> Registration<'_> {
        let claim = Claim {
            due: Instant::now() + held.lease() / 3,
            held,
            renewing: false,
        };
        let (place, start, asleep) = {
            let mut registry = self.lock();
            let slot = match registry.free.pop() {
                Some(slot) => slot,
                None => {
                    registry.slots.push(Slot::default());
                    registry.slots.len() - 1
                }
            };
            let generation = registry.slots[slot].generation;
            registry.slots[slot].claim = Some(claim);
            registry.registered += 1;
            let start = !std::mem::replace(&mut registry.started, true);
            (Place { slot, generation }, start, registry.asleep.take())
        };
        if start {
            let renewals = Arc::downgrade(self);
            (runtime.background)(Box::pin(renew_while_registered(renewals, runtime)));
        }
        if let Some(task) = asleep {
            task.wake();
        }
        Registration {
            renewals: self,
            place,
        }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.renewals.lock().remove(self.place);
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
            if registry.registered == 0 {
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
        let due: Vec<(Place, Arc<dyn Renew>)> = {
            let mut registry = receiver.lock();
            let slots = registry.slots.iter_mut().enumerate();
            slots
                .filter_map(|(slot, entry)| {
                    let generation = entry.generation;
                    let claim = entry.claim.as_mut()?;
                    if claim.renewing || claim.due > now {
                        return None;
                    }
                    claim.renewing = true;
                    claim.due = now + claim.held.lease() / 3;
                    Some((Place { slot, generation }, Arc::clone(&claim.held)))
                })
                .collect()
        };
        for (place, held) in due {
            (runtime.spawn)(Box::pin(renew(Arc::clone(&receiver), place, held)));
        }
    }
}

/// One renewal of the claim registered at `place`.
async fn renew(renewals: Arc<Renewals>, place: Place, held: Arc<dyn Renew>) {
    let renewed = held.renew().await;
    let mut registry = renewals.lock();
    let Some(claim) = registry.claim(place) else {
        // The handler answered meanwhile: its claim is settled, nothing to say.
        return;
    };
    claim.renewing = false;
    match renewed {
        Ok(true) => {}
        Ok(false) => {
            registry.remove(place);
            drop(registry);
            held.labels().lease_lost();
            tracing::warn!(key = %held.key(), "claim lost while the handler runs (its lease ran out before a renewal); a retry may run the delivery again");
        }
        Err(error) => {
            drop(registry);
            held.labels().store_error(StoreCall::Renew);
            tracing::warn!(%error, key = %held.key(), "could not renew the claim; trying again at the next interval");
        }
    }
}
