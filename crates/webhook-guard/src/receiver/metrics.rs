//! What the receiver counts and measures through the `metrics` facade (feature `metrics`):
//! the one owner of the metric names, their labels and their descriptions.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | [`DELIVERIES`] | counter | `provider`, `endpoint`, `outcome` |
//! | [`HANDLER_SECONDS`] | histogram (seconds) | `provider`, `endpoint`, `outcome` |
//! | [`STORE_ERRORS`] | counter | `provider`, `endpoint`, `operation` (`claim`, `complete`, `release`, `renew`) |
//! | [`STORE_AVAILABLE`] | gauge (set when the circuit breaker opens or closes) | `provider`, `endpoint` |
//! | [`LEASES_LOST`] | counter | `provider`, `endpoint` |
//!
//! The descriptions (`# HELP` in Prometheus) are registered with the recorder installed when a
//! [`Receiver`](crate::Receiver) is built: install yours first.

use std::sync::Arc;

use super::outcome::Outcome;

/// Deliveries by outcome (`processed`, `duplicate`, `unauthorized`, ...).
pub const DELIVERIES: &str = "webhook_guard_deliveries_total";
/// How long handlers ran, from the claim to their answer (or to the request's end).
pub const HANDLER_SECONDS: &str = "webhook_guard_handler_duration_seconds";
/// Dedup store calls that failed or timed out.
pub const STORE_ERRORS: &str = "webhook_guard_store_errors_total";
/// 1 while the store answers claims, 0 while the circuit breaker is open.
pub const STORE_AVAILABLE: &str = "webhook_guard_store_available";

/// Claims found taken or expired by a renewal while their handler still ran (a retry may
/// run the delivery again): the store was unreachable for a whole lease, or the lease is
/// shorter than the store's time-outs.
pub const LEASES_LOST: &str = "webhook_guard_leases_lost_total";

/// A store call, as the `operation` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreCall {
    Claim,
    Complete,
    Release,
    Renew,
}

impl StoreCall {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Self::Claim => "claim",
            Self::Complete => "complete",
            Self::Release => "release",
            Self::Renew => "renew",
        }
    }
}

/// The labels every metric of one receiver carries.
#[derive(Debug)]
pub(crate) struct Labels {
    pub(crate) provider: Arc<str>,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) endpoint: Arc<str>,
}

impl Labels {
    /// Records a delivery's outcome on the current span (field `outcome`) and counts it.
    pub(crate) fn outcome(&self, outcome: Outcome) {
        tracing::Span::current().record("outcome", tracing::field::display(outcome.as_str()));
        #[cfg(feature = "metrics")]
        {
            metrics::counter!(
                DELIVERIES,
                "provider" => Arc::clone(&self.provider),
                "endpoint" => Arc::clone(&self.endpoint),
                "outcome" => outcome.as_str()
            )
            .increment(1);
        }
    }

    /// Records how long a handler ran, with the outcome it ended in.
    #[cfg(feature = "metrics")]
    pub(crate) fn handler_time(&self, started: web_time::Instant, outcome: Outcome) {
        metrics::histogram!(
            HANDLER_SECONDS,
            "provider" => Arc::clone(&self.provider),
            "endpoint" => Arc::clone(&self.endpoint),
            "outcome" => outcome.as_str()
        )
        .record(started.elapsed().as_secs_f64());
    }

    /// Counts a failed store call.
    pub(crate) fn store_error(&self, call: StoreCall) {
        #[cfg(feature = "metrics")]
        {
            metrics::counter!(
                STORE_ERRORS,
                "provider" => Arc::clone(&self.provider),
                "endpoint" => Arc::clone(&self.endpoint),
                "operation" => call.as_str()
            )
            .increment(1);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = call;
    }
}

impl Labels {
    /// Counts a claim lost while its handler ran.
    pub(crate) fn lease_lost(&self) {
        #[cfg(feature = "metrics")]
        metrics::counter!(
            LEASES_LOST,
            "provider" => Arc::clone(&self.provider),
            "endpoint" => Arc::clone(&self.endpoint)
        )
        .increment(1);
    }

    /// Records whether the store answers claims (the circuit breaker closed or opened).
    pub(crate) fn store_available(&self, available: bool) {
        #[cfg(feature = "metrics")]
        {
            metrics::gauge!(
                STORE_AVAILABLE,
                "provider" => Arc::clone(&self.provider),
                "endpoint" => Arc::clone(&self.endpoint)
            )
            .set(if available { 1.0 } else { 0.0 });
        }
        #[cfg(not(feature = "metrics"))]
        let _ = available;
    }
}

/// Registers the descriptions with the installed recorder (at each receiver's build).
#[cfg(feature = "metrics")]
pub(crate) fn describe() {
    metrics::describe_counter!(
        DELIVERIES,
        "Webhook deliveries received, by provider, endpoint and outcome."
    );
    metrics::describe_histogram!(
        HANDLER_SECONDS,
        metrics::Unit::Seconds,
        "Time from a delivery's claim to its handler's answer, by outcome."
    );
    metrics::describe_counter!(
        STORE_ERRORS,
        "Dedup store calls that failed or timed out, by operation."
    );
    metrics::describe_gauge!(
        STORE_AVAILABLE,
        "1 while the dedup store answers claims, 0 while the circuit breaker is open."
    );
    metrics::describe_counter!(
        LEASES_LOST,
        "Claims lost while their handler ran (found taken or expired by a renewal)."
    );
    crate::inbox::metrics::describe();
}

/// What a debugging recorder saw, one line per metric, for tests:
/// `name labels value unit=… described=…`.
#[cfg(all(test, feature = "metrics"))]
pub(crate) fn snapshot_lines(snapshotter: &metrics_util::debugging::Snapshotter) -> Vec<String> {
    use metrics_util::debugging::DebugValue;
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, description, value)| {
            let labels: Vec<String> = key
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let value = match value {
                DebugValue::Counter(count) => count.to_string(),
                DebugValue::Histogram(values) => format!("{} samples", values.len()),
                DebugValue::Gauge(_) => "gauge".to_owned(),
            };
            format!(
                "{} {} {value} unit={unit:?} described={}",
                key.key().name(),
                labels.join(","),
                description.is_some()
            )
        })
        .collect()
}

/// Runs `f` with `recorder` as the recorder of this thread, for tests.
#[cfg(all(test, feature = "metrics"))]
pub(crate) fn describe_test_scope(recorder: &dyn metrics::Recorder, f: impl FnOnce()) {
    metrics::with_local_recorder(recorder, f);
}
