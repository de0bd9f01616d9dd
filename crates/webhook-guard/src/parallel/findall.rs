//! FindAll API: candidate and run payloads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

wire_enum! {
    /// Where a candidate stands against the match conditions.
    pub enum MatchStatus {
        /// Found, not evaluated yet.
        Generated => "generated",
        /// Meets every match condition.
        Matched => "matched",
        /// Fails a match condition.
        Unmatched => "unmatched",
        /// Dropped without an evaluation (for instance when the run stopped).
        Discarded => "discarded",
    }
}

wire_enum! {
    /// What produced an output field.
    pub enum OutputType {
        /// A match condition; the field has [`is_matched`](CandidateOutput::is_matched).
        MatchCondition => "match_condition",
        /// An enrichment.
        Enrichment => "enrichment",
    }
}

wire_enum! {
    /// How sure the research is about a field.
    pub enum Confidence {
        /// High.
        High => "high",
        /// Medium.
        Medium => "medium",
        /// Low.
        Low => "low",
    }
}

wire_enum! {
    /// The state of a FindAll run.
    pub enum FindAllStatus {
        /// Waiting to start.
        Queued => "queued",
        /// Running.
        Running => "running",
        /// Being cancelled.
        Cancelling => "cancelling",
        /// Waiting for the user.
        ActionRequired => "action_required",
        /// Finished.
        Completed => "completed",
        /// Finished with an error.
        Failed => "failed",
        /// Cancelled.
        Cancelled => "cancelled",
    }
}

wire_enum! {
    /// Why a FindAll run stopped.
    pub enum TerminationReason {
        /// The requested number of matches was found.
        MatchLimitMet => "match_limit_met",
        /// Too few candidates matched to go on.
        LowMatchRate => "low_match_rate",
        /// No candidates were left.
        CandidatesExhausted => "candidates_exhausted",
        /// An error stopped the run.
        ErrorOccurred => "error_occurred",
        /// The run ran out of time.
        Timeout => "timeout",
        /// The user cancelled the run.
        UserCancelled => "user_cancelled",
        /// The account ran out of funds.
        InsufficientFunds => "insufficient_funds",
    }
}

wire_enum! {
    /// The generator a FindAll run uses.
    pub enum Generator {
        /// `base`.
        Base => "base",
        /// `core`.
        Core => "core",
        /// `pro`.
        Pro => "pro",
        /// `preview`.
        Preview => "preview",
    }
}

/// The `data` of every `findall.candidate.*` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Candidate {
    /// The run the candidate belongs to; older payloads omit it.
    #[serde(default)]
    pub findall_id: Option<String>,
    /// The candidate's id, `candidate_...`.
    pub candidate_id: String,
    /// The entity's name.
    pub name: String,
    /// The entity's main URL.
    pub url: String,
    /// A short description.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the candidate stands.
    pub match_status: MatchStatus,
    /// Output fields by name: match conditions and enrichments. Absent or null until evaluated.
    #[serde(default)]
    pub output: Option<BTreeMap<String, CandidateOutput>>,
    /// The research behind each output field. Array elements may have their own entry, named
    /// like `key_executives.0`. Absent or null until evaluated.
    #[serde(default)]
    pub basis: Option<Vec<FieldBasis>>,
}

/// One output field of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CandidateOutput {
    /// The value: usually a string, but any JSON.
    pub value: Value,
    /// What produced the field.
    #[serde(rename = "type")]
    pub kind: OutputType,
    /// For match conditions: whether the condition holds.
    #[serde(default)]
    pub is_matched: Option<bool>,
}

/// The research behind one output field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldBasis {
    /// The output field, or an element of it (`key_executives.0`).
    pub field: String,
    /// The sources.
    #[serde(default)]
    pub citations: Vec<Citation>,
    /// Why the value was chosen.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// How sure the research is; null when not assessed.
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

/// A source behind a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Citation {
    /// The source's URL.
    pub url: String,
    /// The source's title.
    #[serde(default)]
    pub title: Option<String>,
    /// Quoted passages.
    #[serde(default)]
    pub excerpts: Option<Vec<String>>,
}

/// The `data` of every `findall.run.*` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindAllRun {
    /// The run's id, `findall_...`.
    pub findall_id: String,
    /// The run's state, counters and termination reason.
    pub status: FindAllRunStatus,
    /// The generator the run uses.
    #[serde(default)]
    pub generator: Option<Generator>,
    /// The user's metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// When the run was created.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the run last changed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub modified_at: Option<OffsetDateTime>,
}

/// The `status` object of a FindAll run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindAllRunStatus {
    /// The run's state.
    pub status: FindAllStatus,
    /// Whether the run is still going.
    pub is_active: bool,
    /// Candidate counters.
    #[serde(default)]
    pub metrics: RunMetrics,
    /// Why the run stopped; null while it runs.
    #[serde(default)]
    pub termination_reason: Option<TerminationReason>,
}

/// Candidate counters of a FindAll run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunMetrics {
    /// Candidates found so far.
    #[serde(default)]
    pub generated_candidates_count: Option<u64>,
    /// Candidates that matched so far.
    #[serde(default)]
    pub matched_candidates_count: Option<u64>,
}
