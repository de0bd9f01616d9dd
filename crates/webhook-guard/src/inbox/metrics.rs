//! The inbox's metrics, through the `metrics` facade (feature `metrics`; nothing without it).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `webhook_guard_inbox_ack_seconds` | histogram: receiving to the entry's commit | `provider` |
//! | `webhook_guard_inbox_attempts_total` | counter | `provider`, `outcome` (`done`, `retry`, `dead`, `released`, `lost`) |
//! | `webhook_guard_inbox_handler_seconds` | histogram: an attempt, handler and settlement | `provider` |
//! | `webhook_guard_inbox_dead_letters_total` | counter | |
//! | `webhook_guard_inbox_leases_lost_total` | counter | |
//! | `webhook_guard_inbox_entries` | gauge, from each worker every poll interval | `state` |
//! | `webhook_guard_inbox_oldest_pending_seconds` | gauge | |

use std::time::Duration;

#[cfg(feature = "inbox")]
use super::store::InboxStore;

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
