//! Task API: the `task_run.status` payload.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

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
    pub run_id: String,
    /// The run's state.
    pub status: TaskRunStatus,
    /// Whether the run is still going.
    pub is_active: bool,
    /// The processor that ran the task, for instance `core`.
    pub processor: String,
    /// The user's metadata: string keys, string, number or boolean values.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// When the run was created.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the run last changed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub modified_at: Option<OffsetDateTime>,
    /// Why the run failed.
    #[serde(default)]
    pub error: Option<TaskRunError>,
    /// Warnings about the spec or the input.
    #[serde(default)]
    pub warnings: Option<Vec<TaskRunWarning>>,
    /// The interaction the run belongs to.
    #[serde(default)]
    pub interaction_id: Option<String>,
    /// The task group the run belongs to.
    #[serde(default)]
    pub taskgroup_id: Option<String>,
}

/// The error of a failed task run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRunError {
    /// A human-readable message.
    pub message: String,
    /// A reference to quote to Parallel's support.
    #[serde(default)]
    pub ref_id: Option<String>,
    /// More detail, any JSON. Read from `detail`, or from `details` as the docs' example
    /// spells it; written back as `detail`.
    #[serde(default, alias = "details")]
    pub detail: Option<Value>,
}

/// A warning about a task run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRunWarning {
    /// A human-readable message.
    pub message: String,
    /// The kind of warning.
    #[serde(rename = "type")]
    pub kind: WarningType,
    /// More detail, any JSON.
    #[serde(default)]
    pub detail: Option<Value>,
}
