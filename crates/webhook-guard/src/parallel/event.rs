//! The Parallel event enum.

use super::{
    findall::{Candidate, FindAllRun},
    monitor::{DetectedEvents, ExecutionCompleted, ExecutionFailed, MonitorData},
    task::TaskRun,
};

envelope_events! {
    type_field: "type",
    /// Every event Parallel sends: Task, FindAll and Monitor.
    ///
    /// ```
    /// use webhook_guard::{event::WebhookEvent as _, parallel::Event};
    ///
    /// let body = br#"{"type":"findall.run.completed","timestamp":"2025-10-27T14:58:39.421087Z",
    ///   "data":{"findall_id":"findall_1","status":{"status":"completed","is_active":false,
    ///   "metrics":{"matched_candidates_count":1},"termination_reason":"match_limit_met"}}}"#;
    /// match Event::from_json(body)? {
    ///     Event::FindAllRunCompleted(run) => {
    ///         assert_eq!(run.data.status.metrics.matched_candidates_count, Some(1));
    ///     }
    ///     other => panic!("unexpected {}", other.event_type()),
    /// }
    /// # Ok::<(), webhook_guard::event::ParseError>(())
    /// ```
    pub enum Event {
        /// A task run completed or failed.
        TaskRunStatus(TaskRun) => TASK_RUN_STATUS = "task_run.status",
        /// A FindAll candidate was found and queued for evaluation.
        FindAllCandidateGenerated(Candidate) => FINDALL_CANDIDATE_GENERATED = "findall.candidate.generated",
        /// A FindAll candidate meets every match condition.
        FindAllCandidateMatched(Candidate) => FINDALL_CANDIDATE_MATCHED = "findall.candidate.matched",
        /// A FindAll candidate fails a match condition.
        FindAllCandidateUnmatched(Candidate) => FINDALL_CANDIDATE_UNMATCHED = "findall.candidate.unmatched",
        /// Enrichment data was extracted for a FindAll candidate.
        FindAllCandidateEnriched(Candidate) => FINDALL_CANDIDATE_ENRICHED = "findall.candidate.enriched",
        /// A FindAll candidate was dropped because its run was cancelled.
        FindAllCandidateCancelled(Candidate) => FINDALL_CANDIDATE_CANCELLED = "findall.candidate.cancelled",
        /// A FindAll run completed.
        FindAllRunCompleted(FindAllRun) => FINDALL_RUN_COMPLETED = "findall.run.completed",
        /// A FindAll run was cancelled.
        FindAllRunCancelled(FindAllRun) => FINDALL_RUN_CANCELLED = "findall.run.cancelled",
        /// A FindAll run failed.
        FindAllRunFailed(FindAllRun) => FINDALL_RUN_FAILED = "findall.run.failed",
        /// A monitor run detected events; fetch them with the event group id.
        MonitorEventDetected(MonitorData<DetectedEvents>) => MONITOR_EVENT_DETECTED = "monitor.event.detected",
        /// A monitor run completed without detecting events.
        MonitorExecutionCompleted(MonitorData<ExecutionCompleted>) => MONITOR_EXECUTION_COMPLETED = "monitor.execution.completed",
        /// A monitor run failed.
        MonitorExecutionFailed(MonitorData<ExecutionFailed>) => MONITOR_EXECUTION_FAILED = "monitor.execution.failed",
    }
}
