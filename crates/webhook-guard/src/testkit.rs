//! For tests: [`FaultyStore`], a dedup store that injects faults into another, so a receiver,
//! an adapter or your own handlers can be tried against a store that fails, stalls, times out
//! after applying a call, or never answers, on a schedule of calls or switched on and off by
//! the test; and [`skipped`], which lists a check a test could not run.
//!
//! ```
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! use std::time::Duration;
//! use webhook_guard::dedup::{ClaimToken, DedupKey, DedupStore, MemoryStore, StoreErrorKind};
//! use webhook_guard::testkit::{Call, Fault, FaultyStore};
//!
//! // The first two claims time out; the third reaches the memory store.
//! let store = FaultyStore::new(MemoryStore::new())
//!     .on_calls(Call::Claim, 0..2, Fault::Fail(StoreErrorKind::Timeout));
//! let key = DedupKey::new("test", "d-1");
//! let lease = Duration::from_secs(10);
//! for _ in 0..2 {
//!     assert!(block_on(store.claim(&key, &ClaimToken::random(), lease)).is_err());
//! }
//! assert!(block_on(store.claim(&key, &ClaimToken::random(), lease)).is_ok());
//! // Down from now on, until switched back.
//! store.set(Call::Claim, Some(Fault::Fail(StoreErrorKind::Unavailable)));
//! assert!(block_on(store.claim(&key, &ClaimToken::random(), lease)).is_err());
//! store.set(Call::Claim, None);
//! assert_eq!(store.calls(Call::Claim), 4);
//! ```

use std::{
    future::Future,
    ops::Range,
    pin::Pin,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use crate::dedup::{
    Claim, ClaimToken, DedupKey, DedupStore, Record, StoreError, StoreErrorKind, StoreFuture,
};

/// A timer: a future ready after the duration (`|d| Box::pin(tokio::time::sleep(d))`).
pub type Sleep = fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A call of the [`DedupStore`] trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Call {
    /// [`DedupStore::claim`].
    Claim,
    /// [`DedupStore::renew`].
    Renew,
    /// [`DedupStore::complete`].
    Complete,
    /// [`DedupStore::release`].
    Release,
}

/// What happens to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Fails at once, without reaching the store.
    Fail(StoreErrorKind),
    /// Reaches the store, then answers a time-out: applied, and the caller does not know.
    TimeoutAfterApply,
    /// Waits this long (on the [`with_sleep`](FaultyStore::with_sleep) timer), then reaches
    /// the store: a stall the caller's own time limit may cut short.
    Stall(Duration),
    /// Reaches the store and never answers: only the caller's time limit ends the call.
    DropReply,
}

/// A fault for a range of one call's numbers (0 is the first call of that kind).
#[derive(Debug, Clone)]
struct Scheduled {
    call: Call,
    calls: Range<usize>,
    fault: Fault,
}

/// A [`DedupStore`] that passes calls to `S` except where a fault applies: scheduled by call
/// number ([`on_calls`](Self::on_calls)) or switched by the test ([`set`](Self::set)). It
/// counts every call, faulty or not.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    scheduled: Vec<Scheduled>,
    /// The switched fault of each kind of call, in the order of [`Call`].
    switched: Mutex<[Option<Fault>; 4]>,
    counts: [AtomicUsize; 4],
    sleep: Option<Sleep>,
}

impl<S: DedupStore> FaultyStore<S> {
    /// `inner` with no fault yet.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            scheduled: Vec::new(),
            switched: Mutex::new([None, None, None, None]),
            counts: std::array::from_fn(|_| AtomicUsize::new(0)),
            sleep: None,
        }
    }

    /// `fault` for the calls of kind `call` whose numbers are in `calls` (0 is the first).
    #[must_use]
    pub fn on_calls(mut self, call: Call, calls: Range<usize>, fault: Fault) -> Self {
        self.scheduled.push(Scheduled { call, calls, fault });
        self
    }

    /// The timer of [`Fault::Stall`] (without one, a stall never ends, as
    /// [`Fault::DropReply`]).
    #[must_use]
    pub fn with_sleep(mut self, sleep: Sleep) -> Self {
        self.sleep = Some(sleep);
        self
    }

    /// `fault` for every call of kind `call` from now on (`None`: none), before the schedule.
    pub fn set(&self, call: Call, fault: Option<Fault>) {
        self.switched.lock().unwrap_or_else(|e| e.into_inner())[call as usize] = fault;
    }

    /// How many calls of kind `call` were made.
    #[must_use]
    pub fn calls(&self, call: Call) -> usize {
        self.counts[call as usize].load(Ordering::Acquire)
    }

    /// The store the faults are injected into.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The fault of this call, counting it.
    fn fault(&self, call: Call) -> Option<Fault> {
        let number = self.counts[call as usize].fetch_add(1, Ordering::AcqRel);
        let switched = self.switched.lock().unwrap_or_else(|e| e.into_inner());
        switched[call as usize].clone().or_else(|| {
            self.scheduled
                .iter()
                .find(|s| s.call == call && s.calls.contains(&number))
                .map(|s| s.fault.clone())
        })
    }

    /// Runs `apply` (the inner store's call) under this call's fault.
    fn run<'a, T: Send + 'a>(
        &'a self,
        call: Call,
        apply: StoreFuture<'a, T>,
    ) -> StoreFuture<'a, T> {
        let Some(fault) = self.fault(call) else {
            return apply;
        };
        let sleep = self.sleep;
        Box::pin(async move {
            match fault {
                Fault::Fail(kind) => Err(StoreError::new(kind, "injected fault")),
                Fault::TimeoutAfterApply => {
                    let _ = apply.await;
                    Err(StoreError::new(
                        StoreErrorKind::Timeout,
                        "injected fault: applied, no answer in time",
                    ))
                }
                Fault::Stall(duration) => {
                    match sleep {
                        Some(sleep) => sleep(duration).await,
                        None => std::future::pending().await,
                    }
                    apply.await
                }
                Fault::DropReply => {
                    let _ = apply.await;
                    std::future::pending().await
                }
            }
        })
    }
}

/// The [`DedupStore`] impl: each call passed to the inner store under its fault. Written by a
/// macro because the four methods differ only in their names and arguments.
macro_rules! faulty_calls {
    ($($call:ident: $name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        impl<S: DedupStore> DedupStore for FaultyStore<S> {
            $(fn $name<'a>(&'a self, $($arg: $ty),*) -> StoreFuture<'a, $out> {
                self.run(Call::$call, self.inner.$name($($arg),*))
            })*

            // The operators' calls go to the inner store without faults.
            fn inspect<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, Option<Record>> {
                self.inner.inspect(key)
            }

            fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
                self.inner.forget(key)
            }
        }
    };
}

faulty_calls! {
    Claim: claim(key: &'a DedupKey, token: &'a ClaimToken, lease: Duration) -> Claim;
    Renew: renew(key: &'a DedupKey, token: &'a ClaimToken, lease: Duration) -> bool;
    Complete: complete(key: &'a DedupKey, token: &'a ClaimToken, retention: Duration) -> ();
    Release: release(key: &'a DedupKey, token: &'a ClaimToken) -> ();
}

#[cfg(feature = "inbox")]
pub mod inbox;
mod skip;

pub use skip::{SKIPPED_LIST, skipped};

#[cfg(test)]
mod tests;
