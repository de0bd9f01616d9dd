//! The inbox's metrics, through the `metrics` facade (feature `metrics`; nothing without it).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `webhook_guard_inbox_ack_seconds` | histogram: the inbox write, until its commit | `provider` |
//! | `webhook_guard_inbox_attempts_total` | counter | `provider`, `outcome` (`done`, `retry`, `dead`, `released`, `lost`) |
//! | `webhook_guard_inbox_handler_seconds` | histogram: an attempt, handler and settlement | `provider` |
//! | `webhook_guard_inbox_dead_letters_total` | counter | |
//! | `webhook_guard_inbox_leases_lost_total` | counter | |
//! | `webhook_guard_inbox_entries` | gauge, from each worker every 15 s | `state` |
//! | `webhook_guard_inbox_oldest_pending_seconds` | gauge | |

use std::time::Duration;

#[cfg(feature = "inbox")]
use super::store::InboxStore;

/// Describes the inbox's metrics (with the receiver's, when a receiver is built).
#[cfg(feature = "metrics")]
pub(crate) fn describe() {
    metrics::describe_histogram!(
        "webhook_guard_inbox_ack_seconds",
        metrics::Unit::Seconds,
        "Time to write a verified delivery to the inbox, until its commit."
    );
    metrics::describe_counter!(
        "webhook_guard_inbox_attempts_total",
        "Inbox attempts settled, by provider and outcome (done, retry, dead, released, lost)."
    );
    metrics::describe_histogram!(
        "webhook_guard_inbox_handler_seconds",
        metrics::Unit::Seconds,
        "Time of an inbox attempt: the handler and the settlement."
    );
    metrics::describe_counter!(
        "webhook_guard_inbox_dead_letters_total",
        "Inbox entries dead after their last attempt."
    );
    metrics::describe_counter!(
        "webhook_guard_inbox_leases_lost_total",
        "Inbox leases found taken over by a renewal."
    );
    metrics::describe_gauge!(
        "webhook_guard_inbox_entries",
        "Inbox entries by state, counted by each worker every 15 s."
    );
    metrics::describe_gauge!(
        "webhook_guard_inbox_oldest_pending_seconds",
        metrics::Unit::Seconds,
        "Age of the oldest pending inbox entry."
    );
}

/// The time from receiving a delivery to its entry's commit.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn ack(provider: &str, elapsed: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("webhook_guard_inbox_ack_seconds", "provider" => provider.to_owned())
        .record(elapsed.as_secs_f64());
}

#[cfg(feature = "inbox")]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(super) fn attempt(provider: &str, outcome: &'static str, elapsed: Duration) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!(
            "webhook_guard_inbox_attempts_total",
            "provider" => provider.to_owned(),
            "outcome" => outcome
        )
        .increment(1);
        metrics::histogram!("webhook_guard_inbox_handler_seconds", "provider" => provider.to_owned())
            .record(elapsed.as_secs_f64());
    }
}

#[cfg(feature = "inbox")]
pub(super) fn dead_letter() {
    #[cfg(feature = "metrics")]
    metrics::counter!("webhook_guard_inbox_dead_letters_total").increment(1);
}

#[cfg(feature = "inbox")]
pub(super) fn lease_lost() {
    #[cfg(feature = "metrics")]
    metrics::counter!("webhook_guard_inbox_leases_lost_total").increment(1);
}

/// Sets the gauges from the store's counts (nothing, not even the query, without the feature).
#[cfg(feature = "inbox")]
#[cfg_attr(
    not(feature = "metrics"),
    allow(unused_variables, clippy::unused_async)
)]
pub(super) async fn gauges(store: &dyn InboxStore) {
    #[cfg(feature = "metrics")]
    {
        let Ok(stats) = store.stats().await else {
            return;
        };
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        for (state, count) in [
            ("pending", stats.pending),
            ("running", stats.running),
            ("done", stats.done),
            ("dead", stats.dead),
        ] {
            metrics::gauge!("webhook_guard_inbox_entries", "state" => state).set(count as f64);
        }
        metrics::gauge!("webhook_guard_inbox_oldest_pending_seconds")
            .set(stats.oldest_pending.map_or(0.0, |age| age.as_secs_f64()));
    }
}

#[cfg(all(test, feature = "metrics", feature = "inbox", feature = "parseflow"))]
#[path = "metrics_tests.rs"]
mod tests;
