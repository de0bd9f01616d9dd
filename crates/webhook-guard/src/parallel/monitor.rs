//! Monitor API: payloads of `monitor.*` events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::event::lenient::{self, Lenient};

/// The `data` of every `monitor.*` event; `E` is the event record, whose shape depends on the
/// event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "E: serde::de::DeserializeOwned"))]
#[non_exhaustive]
pub struct MonitorData<E> {
    /// The monitor's id, `monitor_...`.
    #[serde(deserialize_with = "lenient::text")]
    pub monitor_id: String,
    /// The event record of this run, kept raw with the reason if it does not fit.
    pub event: Lenient<E>,
    /// The monitor's user metadata, if any (anything but an object reads as absent).
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// The event record of `monitor.event.detected`: a pointer to the detected events, which are
/// fetched from the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DetectedEvents {
    /// The group of detected events, `mevtgrp_...`.
    #[serde(deserialize_with = "lenient::text")]
    pub event_group_id: String,
}

/// The event record of `monitor.execution.completed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecutionCompleted {
    /// The record's kind, `completion`.
    #[serde(rename = "type", deserialize_with = "lenient::text")]
    pub kind: String,
    /// The run's marker, `completed_<RFC 3339 time>`; see [`completed_at`](Self::completed_at).
    #[serde(deserialize_with = "lenient::text")]
    pub monitor_ts: String,
}

impl ExecutionCompleted {
    /// The time in [`monitor_ts`](Self::monitor_ts), if it has the documented form.
    #[must_use]
    pub fn completed_at(&self) -> Option<OffsetDateTime> {
        let time = self.monitor_ts.strip_prefix("completed_")?;
        OffsetDateTime::parse(time, &Rfc3339).ok()
    }
}

/// The event record of `monitor.execution.failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecutionFailed {
    /// The record's kind, `error`.
    #[serde(rename = "type", deserialize_with = "lenient::text")]
    pub kind: String,
    /// What went wrong.
    #[serde(deserialize_with = "lenient::text")]
    pub error: String,
    /// The error's id, `error_<time>`.
    #[serde(deserialize_with = "lenient::text")]
    pub id: String,
    /// When the error happened.
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
}
