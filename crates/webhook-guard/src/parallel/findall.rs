//! FindAll API: candidate and run payloads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::event::lenient::{self, Lenient};

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
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub findall_id: Option<String>,
    /// The candidate's id, `candidate_...`.
    #[serde(deserialize_with = "lenient::text")]
    pub candidate_id: String,
    /// The entity's name.
    #[serde(deserialize_with = "lenient::text")]
    pub name: String,
    /// The entity's main URL.
    #[serde(deserialize_with = "lenient::text")]
    pub url: String,
    /// A short description.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub description: Option<String>,
    /// Where the candidate stands.
    pub match_status: MatchStatus,
    /// Output fields by name: match conditions and enrichments. Absent or null until evaluated
    /// (anything but an object reads as absent). An entry that does not fit is kept raw, with
    /// the reason.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub output: Option<BTreeMap<String, Lenient<CandidateOutput>>>,
    /// The research behind each output field. Array elements may have their own entry, named
    /// like `key_executives.0`. Absent or null until evaluated (anything but a list reads as
    /// absent). An entry that does not fit is kept raw, with the reason.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub basis: Option<Vec<Lenient<FieldBasis>>>,
}

impl Candidate {
    /// The output field `name`, if it is there and fits the model.
    #[must_use]
    pub fn output(&self, name: &str) -> Option<&CandidateOutput> {
        self.output.as_ref()?.get(name)?.typed()
    }
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
    #[serde(default, deserialize_with = "lenient::flag_or_none")]
    pub is_matched: Option<bool>,
}

/// The research behind one output field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldBasis {
    /// The output field, or an element of it (`key_executives.0`).
    #[serde(deserialize_with = "lenient::text")]
    pub field: String,
    /// The sources (`null` reads as none).
    #[serde(default, deserialize_with = "lenient::list_or_null")]
    pub citations: Vec<Citation>,
    /// Why the value was chosen.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
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
    #[serde(deserialize_with = "lenient::text")]
    pub url: String,
    /// The source's title.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub title: Option<String>,
    /// Quoted passages.
    #[serde(default, deserialize_with = "lenient::texts_or_none")]
    pub excerpts: Option<Vec<String>>,
}

/// The `data` of every `findall.run.*` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindAllRun {
    /// The run's id, `findall_...`.
    #[serde(deserialize_with = "lenient::text")]
    pub findall_id: String,
    /// The run's state, counters and termination reason.
    pub status: FindAllRunStatus,
    /// The generator the run uses.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub generator: Option<Generator>,
    /// The user's metadata (anything but an object reads as absent).
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub metadata: Option<Map<String, Value>>,
    /// When the run was created.
    #[serde(default, with = "lenient::rfc3339")]
    pub created_at: Option<OffsetDateTime>,
    /// When the run last changed.
    #[serde(default, with = "lenient::rfc3339")]
    pub modified_at: Option<OffsetDateTime>,
}

/// The `status` object of a FindAll run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindAllRunStatus {
    /// The run's state.
    pub status: FindAllStatus,
    /// Whether the run is still going.
    #[serde(deserialize_with = "lenient::flag")]
    pub is_active: bool,
    /// Candidate counters (`null`, or anything but an object, reads as no counters).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub metrics: RunMetrics,
    /// Why the run stopped; null while it runs.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub termination_reason: Option<TerminationReason>,
}

/// Candidate counters of a FindAll run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunMetrics {
    /// Candidates found so far.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub generated_candidates_count: Option<u64>,
    /// Candidates that matched so far.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub matched_candidates_count: Option<u64>,
}
