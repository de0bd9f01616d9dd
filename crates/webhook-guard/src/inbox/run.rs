//! One attempt at an entry: the handler run (panics caught), then the settlement (retried
//! within half the lease).

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use futures_util::FutureExt as _;

use super::{
    attempt::{AfterDone, Attempt},
    entry::{ClaimedEntry, Lease},
    metrics,
    retry::Verdict,
    shared::{Settings, Shared},
    store::Settlement,
};
use crate::dedup::Transaction;

/// One attempt at one entry: its handler, then its settlement.
pub(super) async fn attempt(shared: &Shared, entry: ClaimedEntry) {
    let lease = entry.lease.clone();
    let span = tracing::info_span!(
        "webhook_inbox_attempt",
        provider = %entry.provider,
        endpoint = %entry.endpoint,
        entry = %lease.id,
        attempt = entry.attempt,
        event_type = %entry.event_type,
        outcome = tracing::field::Empty,
    );
    let run = async {
        let started = Instant::now();
        let settlement = run_handler(shared, &entry).await;
        let outcome = settle(shared, &lease, settlement).await;
        metrics::attempt(&entry.provider, outcome, started.elapsed());
        tracing::Span::current().record("outcome", outcome);
        tracing::debug!(elapsed = ?started.elapsed(), "inbox attempt settled");
    };
    tracing::Instrument::instrument(run, span).await;
    shared.let_go(lease.id);
}

/// What the handler's run settles: a verdict, and with `Done` the transaction to commit and
/// what to run after.
enum Ran {
    Done(Option<Box<dyn Transaction>>, Option<AfterDone>),
    Other(Settlement),
}

async fn run_handler(shared: &Shared, entry: &ClaimedEntry) -> Ran {
    let settings = &shared.settings;
    let key = (entry.provider.clone(), entry.endpoint.clone());
    let Some(route) = shared.routes.get(&key) else {
        return Ran::Other(Settlement::Release);
    };
    let transaction = match shared.store.begin(&entry.lease).await {
        Ok(transaction) => transaction,
        Err(error) => {
            return Ran::Other(retry_or_dead(
                settings,
                entry.attempt,
                None,
                format!("could not open the attempt's transaction: {error}"),
            ));
        }
    };
    let after_done = Arc::new(Mutex::new(None));
    let attempt = Attempt {
        entry: entry.lease.id,
        number: entry.attempt,
        max_attempts: settings.retry.max_attempts(),
        received_at_ms: entry.received_at_ms,
        transaction: transaction.as_ref().map(|t| t.handle()),
        on_done: Arc::clone(&after_done),
    };
    // A handler may panic before it returns its future (a plain `fn` doing work up front):
    // caught here too, so the slot lives on and the entry is settled.
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| route.start(entry, attempt)));
    let run = match started {
        Ok(Ok(run)) => run,
        Err(panic) => {
            rollback(transaction).await;
            let error = format!("the handler panicked: {}", panic_message(&*panic));
            return Ran::Other(retry_or_dead(settings, entry.attempt, None, error));
        }
        Ok(Err(error)) => {
            rollback(transaction).await;
            return Ran::Other(Settlement::Dead {
                error: format!("the stored delivery cannot be parsed: {error}"),
            });
        }
    };
    let verdict = match AssertUnwindSafe(run).catch_unwind().await {
        Ok(verdict) => verdict,
        Err(panic) => Verdict::retry(format!("the handler panicked: {}", panic_message(&*panic))),
    };
    match verdict {
        Verdict::Done => {
            let then = after_done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            Ran::Done(transaction, then)
        }
        Verdict::Retry { after, error } => {
            rollback(transaction).await;
            Ran::Other(retry_or_dead(settings, entry.attempt, after, error))
        }
        Verdict::Fail { error } => {
            rollback(transaction).await;
            Ran::Other(Settlement::Dead { error })
        }
    }
}

fn retry_or_dead(
    settings: &Settings,
    attempt: u32,
    after: Option<Duration>,
    error: String,
) -> Settlement {
    if attempt >= settings.retry.max_attempts() {
        return Settlement::Dead { error };
    }
    let after = after.unwrap_or_else(|| settings.retry.delay(attempt));
    Settlement::Retry { after, error }
}

async fn rollback(transaction: Option<Box<dyn Transaction>>) {
    if let Some(transaction) = transaction
        && let Err(error) = transaction.rollback().await
    {
        tracing::debug!(%error, "rollback of a failed attempt's transaction failed (dropped, so rolled back)");
    }
}

/// Settles an attempt, retrying a failed store call a few times within half the lease (after
/// that the lease expires and the rescuer returns the entry). Returns the outcome's name.
async fn settle(shared: &Shared, lease: &Lease, ran: Ran) -> &'static str {
    let (settlement, then) = match ran {
        Ran::Done(Some(transaction), then) => {
            // The done mark is fenced by the lease inside the handler's transaction: a lease
            // taken over fails the commit, and the handler's writes roll back with it.
            return match transaction.commit().await {
                Ok(()) => {
                    if let Some(then) = then {
                        then();
                    }
                    "done"
                }
                Err(error) => {
                    tracing::warn!(%error, "inbox attempt not committed (lease lost or database failure): the entry runs again after its lease");
                    "lost"
                }
            };
        }
        Ran::Done(None, then) => (Settlement::Done, then),
        Ran::Other(settlement) => (settlement, None),
    };
    let outcome = settlement.outcome();
    let deadline = Instant::now() + shared.settings.lease / 2;
    let mut pause = Duration::from_millis(50);
    loop {
        match shared.store.settle(lease, &settlement).await {
            Ok(true) => {
                if let Settlement::Dead { error } = &settlement {
                    metrics::dead_letter();
                    tracing::warn!(entry = %lease.id, %error, "inbox entry dead after its last attempt");
                } else if let Some(error) = settlement.error() {
                    tracing::info!(entry = %lease.id, %error, "inbox attempt failed; retried later");
                }
                if let Some(then) = then {
                    then();
                }
                return outcome;
            }
            Ok(false) => {
                tracing::warn!(entry = %lease.id, "inbox lease lost before settling: another worker has the entry");
                return "lost";
            }
            Err(error) if Instant::now() + pause < deadline => {
                tracing::debug!(%error, "inbox settle failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(error) => {
                tracing::warn!(entry = %lease.id, %error, "inbox settle failed; the entry is rescued after its lease");
                return "lost";
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
