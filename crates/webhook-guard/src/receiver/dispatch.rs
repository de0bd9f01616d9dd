//! Dispatch: the one place where the modes of a receiver differ.
//!
//! After a delivery is verified and identified, its mode claims it and says how the handler's
//! answer settles it:
//!
//! | mode | claim | the handler | settled by |
//! |---|---|---|---|
//! | [`Dispatch::Inline`] | a lease in a [`DedupStore`], renewed while the handler runs | runs in the request | its status: 2xx completes, anything else releases |
//! | [`Dispatch::Transactional`] | a row in an open transaction of a [`TransactionalStore`] | runs in the request, writing in the transaction | its status: 2xx commits, anything else rolls back |
//! | [`Dispatch::Inbox`] | the entry and its dedup record, written in one step by [`enqueue`] | runs later, in a [worker](crate::inbox) | the worker's settlement; the request is answered 202 after the commit |

use std::sync::Arc;

use super::{
    Rejection, RejectionKind,
    claim::ClaimGuard,
    metrics::StoreCall,
    runtime::Runtime,
    settings::{FailMode, Settings},
    settle::Held,
};
use crate::{
    dedup::{
        Begin, Claim, ClaimToken, DedupKey, DedupStore, StoreError, StoreErrorKind,
        TransactionalStore,
    },
    inbox::{Enqueued, InboxStore, NewEntry},
};

/// How a receiver records and runs its deliveries.
#[derive(Debug, Clone)]
pub(crate) enum Dispatch {
    /// Claims with leases, completed after the handler's 2xx.
    Inline(Arc<dyn DedupStore>),
    /// Claims in a transaction the handler writes in, committed after its 2xx.
    Transactional(Arc<dyn TransactionalStore>),
    /// Stores the delivery for workers and answers 202.
    Inbox(Arc<dyn InboxStore>),
}

impl Dispatch {
    /// Removes the record of `key` from the store, whichever the mode.
    pub(crate) async fn forget(&self, key: &DedupKey) -> Result<bool, StoreError> {
        match self {
            Self::Inline(store) => store.forget(key).await,
            Self::Transactional(store) => store.forget(key).await,
            Self::Inbox(store) => store.forget(key.as_str()).await,
        }
    }

    /// Claims the delivery of `key` in this mode: the guard the handler runs under, or the
    /// answer to send instead (a duplicate, one in flight, the store down).
    pub(crate) async fn claim(
        &self,
        key: DedupKey,
        settings: &Arc<Settings>,
        runtime: Runtime,
    ) -> Result<ClaimGuard, Rejection> {
        // The answers are read by plain functions, so that this future holds no more than
        // the store's (see `tests/sizes.rs` in the adapters).
        if settings.recently_done.contains(&key, &*settings.clock) {
            // Found completed in the store within the last minute: what the store would
            // answer, without a store call (a replay storm costs the store one call).
            return Err(Rejection::new(RejectionKind::Duplicate, None));
        }
        if !settings.breaker.admit(|| settings.clock.unix_millis()) {
            return fail_fast(self, settings, runtime);
        }
        match self {
            Self::Inline(store) => {
                let held = Held {
                    store: Arc::clone(store),
                    key,
                    token: ClaimToken::random(),
                    settings: Arc::clone(settings),
                };
                let claimed = (held.store)
                    .claim(&held.key, &held.token, settings.lease)
                    .await;
                record_health(settings, claimed.as_ref().err().map(StoreError::kind));
                leased(held, claimed, settings, runtime)
            }
            Self::Transactional(store) => {
                let begun = store.begin(&key, settings.retention).await;
                record_health(settings, begun.as_ref().err().map(StoreError::kind));
                transactional(begun, &key, settings, runtime)
            }
            // The flow stores inbox deliveries with `enqueue` and never claims them.
            Self::Inbox(_) => Err(unavailable(
                StoreError::new(StoreErrorKind::Unavailable, "an inbox has no claims"),
                settings,
            )),
        }
    }
}

/// Stores a verified delivery in an inbox: the answer is [`RejectionKind::Queued`] (202) once
/// the entry is committed, [`RejectionKind::Duplicate`] for a copy of a stored one, 503 when
/// the store fails (never a 2xx before the commit).
pub(crate) async fn enqueue(
    store: &dyn InboxStore,
    entry: &NewEntry,
    key: &DedupKey,
    settings: &Settings,
) -> Rejection {
    if settings.recently_done.contains(key, &*settings.clock) {
        return Rejection::new(RejectionKind::Duplicate, None);
    }
    if !settings.breaker.admit(|| settings.clock.unix_millis()) {
        let error = StoreError::new(
            StoreErrorKind::Unavailable,
            "the inbox failed its last writes; not called until a probe succeeds",
        );
        return Rejection::new(
            RejectionKind::StoreUnavailable(error),
            Some(settings.retry_after),
        );
    }
    let stored = store.enqueue(entry).await;
    record_health(settings, stored.as_ref().err().map(StoreError::kind));
    match stored {
        Ok(Enqueued::Stored(id)) => {
            tracing::debug!(entry = %id, "stored in the inbox");
            Rejection::new(RejectionKind::Queued, None)
        }
        Ok(Enqueued::Duplicate(_)) => {
            // Stored already (in any state): its copies for a minute cost no store call.
            let recent = &settings.recently_done;
            recent.insert(key, settings.retention, &*settings.clock);
            Rejection::new(RejectionKind::Duplicate, None)
        }
        Err(error) => unavailable(error, settings),
    }
}

/// A claim while the breaker is open: answered at once, with no store call and no task.
fn fail_fast(
    dispatch: &Dispatch,
    settings: &Arc<Settings>,
    runtime: Runtime,
) -> Result<ClaimGuard, Rejection> {
    let open_for_inline = matches!(dispatch, Dispatch::Inline(_));
    if settings.fail_mode == FailMode::Open && open_for_inline {
        tracing::debug!(
            "dedup store down (breaker open); processing without deduplication (fail-open)"
        );
        return Ok(ClaimGuard::new(None, Arc::clone(settings), runtime));
    }
    let error = StoreError::new(
        StoreErrorKind::Unavailable,
        "the dedup store failed its last claims; not called until a probe succeeds",
    );
    Err(Rejection::new(
        RejectionKind::StoreUnavailable(error),
        Some(settings.retry_after),
    ))
}

/// Tells the breaker how the store answered a claim (`failed`: the error's kind).
fn record_health(settings: &Settings, failed: Option<StoreErrorKind>) {
    match failed {
        None => {
            if settings.breaker.succeeded() {
                settings.labels.store_available(true);
            }
        }
        Some(kind) => {
            if settings.breaker.failed(kind, settings.clock.unix_millis()) {
                settings.labels.store_available(false);
            }
        }
    }
}

/// The guard of a leased claim, from the store's answer.
fn leased(
    held: Held,
    claimed: Result<Claim, StoreError>,
    settings: &Arc<Settings>,
    runtime: Runtime,
) -> Result<ClaimGuard, Rejection> {
    match claimed {
        Ok(Claim::Claimed) => Ok(ClaimGuard::new(
            Some(Arc::new(held)),
            Arc::clone(settings),
            runtime,
        )),
        Ok(Claim::Done) => {
            let recent = &settings.recently_done;
            recent.insert(&held.key, settings.retention, &*settings.clock);
            Err(Rejection::new(RejectionKind::Duplicate, None))
        }
        Ok(Claim::InFlight) => Err(in_flight(settings)),
        Err(error) => {
            // The claim may have been recorded all the same (a time-out after the store
            // applied it): released with its token once the store answers again.
            held.release_orphan(runtime);
            if settings.fail_mode == FailMode::Closed {
                return Err(unavailable(error, settings));
            }
            settings.labels.store_error(StoreCall::Claim);
            tracing::warn!(%error, "dedup store failed; processing without deduplication (fail-open)");
            Ok(ClaimGuard::new(None, Arc::clone(settings), runtime))
        }
    }
}

/// The guard of a claim in an open transaction, from the store's answer.
fn transactional(
    begun: Result<Begin, StoreError>,
    key: &DedupKey,
    settings: &Arc<Settings>,
    runtime: Runtime,
) -> Result<ClaimGuard, Rejection> {
    match begun {
        Ok(Begin::Claimed(transaction)) => Ok(ClaimGuard::transactional(
            transaction,
            Arc::clone(settings),
            runtime,
        )),
        Ok(Begin::Done) => {
            // Committed: its copies for a minute cost no store call (a replay storm would
            // otherwise open a transaction, and hold a pooled connection, per copy).
            settings
                .recently_done
                .insert(key, settings.retention, &*settings.clock);
            Err(Rejection::new(RejectionKind::Duplicate, None))
        }
        Ok(Begin::InFlight) => Err(in_flight(settings)),
        // The store leaves nothing held after an error; fail-open is refused at build time
        // (the handler needs the transaction).
        Err(error) => Err(unavailable(error, settings)),
    }
}

fn in_flight(settings: &Settings) -> Rejection {
    Rejection::new(RejectionKind::InFlight, Some(settings.retry_after))
}

/// Fail-closed: 503, and the store error counted.
fn unavailable(error: StoreError, settings: &Settings) -> Rejection {
    settings.labels.store_error(StoreCall::Claim);
    Rejection::new(
        RejectionKind::StoreUnavailable(error),
        Some(settings.retry_after),
    )
}
