//! Task API: the `task_run.status` payload.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::event::lenient::{self, Lenient};

wire_enum! {
    /// The state of a task run.
    pub enum TaskRunStatus {
        /// Waiting to start.
        Queued => "queued",
        /// Waiting for the user.
        ActionRequired => "action_required",
        /// Running.
        Running => "running",
        /// Finished successfully; fetch the output from the API.
        Completed => "completed",
        /// Finished with an error.
        Failed => "failed",
        /// Being cancelled.
        Cancelling => "cancelling",
        /// Cancelled.
        Cancelled => "cancelled",
    }
}

wire_enum! {
    /// The kind of a task run warning.
    pub enum WarningType {
        /// The task spec did not validate.
        SpecValidationWarning => "spec_validation_warning",
        /// The input did not validate.
        InputValidationWarning => "input_validation_warning",
        /// Any other warning.
        Warning => "warning",
    }
}

/// The `data` of a `task_run.status` event: the run, without its output (fetch that from the
/// API with [`run_id`](Self::run_id)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRun {
    /// The run's id, `trun_...`.
    #[serde(deserialize_with = "lenient::text")]
    pub run_id: String,
    /// The run's state.
    pub status: TaskRunStatus,
    /// Whether the run is still going.
    #[serde(deserialize_with = "lenient::flag")]
    pub is_active: bool,
    /// The processor that ran the task, for instance `core`.
    #[serde(deserialize_with = "lenient::text")]
    pub processor: String,
    /// The user's metadata: string keys, string, number or boolean values (anything but an
    /// object reads as absent).
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub metadata: Option<Map<String, Value>>,
    /// When the run was created.
    #[serde(default, with = "lenient::rfc3339")]
    pub created_at: Option<OffsetDateTime>,
    /// When the run last changed.
    #[serde(default, with = "lenient::rfc3339")]
    pub modified_at: Option<OffsetDateTime>,
    /// Why the run failed; kept raw with the reason if it does not fit.
    #[serde(default)]
    pub error: Option<Lenient<TaskRunError>>,
    /// Warnings about the spec or the input, each kept raw with the reason if it does not fit
    /// (anything but a list reads as absent).
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub warnings: Option<Vec<Lenient<TaskRunWarning>>>,
    /// The interaction the run belongs to.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub interaction_id: Option<String>,
    /// The task group the run belongs to.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub taskgroup_id: Option<String>,
}

/// The error of a failed task run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "WireError")]
#[non_exhaustive]
pub struct TaskRunError {
    /// A human-readable message.
    pub message: String,
    /// A reference to quote to Parallel's support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    /// More detail, any JSON. Read from `detail`, or from `details` (as the docs' example
    /// spells it) when only that is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
    /// `details`, when sent beside `detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// The error as sent: both spellings of the detail may come.
#[derive(Deserialize)]
struct WireError {
    #[serde(deserialize_with = "lenient::text")]
    message: String,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    ref_id: Option<String>,
    #[serde(default)]
    detail: Option<Value>,
    #[serde(default)]
    details: Option<Value>,
}

impl From<WireError> for TaskRunError {
    fn from(wire: WireError) -> Self {
        let (detail, details) = match (wire.detail, wire.details) {
            (None, details) => (details, None),
            both => both,
        };
        Self {
            message: wire.message,
            ref_id: wire.ref_id,
            detail,
            details,
        }
    }
}

/// A warning about a task run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRunWarning {
    /// A human-readable message.
    #[serde(deserialize_with = "lenient::text")]
    pub message: String,
    /// The kind of warning.
    #[serde(rename = "type")]
    pub kind: WarningType,
    /// More detail, any JSON.
    #[serde(default)]
    pub detail: Option<Value>,
}
