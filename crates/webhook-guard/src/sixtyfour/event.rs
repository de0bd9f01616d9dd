//! The Sixtyfour job-completion payload.

use serde::{Deserialize, Serialize, Serializer, ser::SerializeStruct};
use serde_json::Value;
use std::borrow::Cow;

use crate::event::{ParseError, UnknownEvent, UnparsedEvent, raw_body};

wire_enum! {
    /// The kind of job, also sent in the `Sixtyfour-Event-Type` header. The list is not closed.
    pub enum TaskType {
        /// `/find-email-async`.
        FindEmail => "find_email",
        /// `/find-phone-async`.
        FindPhone => "find_phone",
        /// `/find-email-bulk-async`.
        FindEmailBulk => "find_email_bulk",
        /// `/find-phone-bulk-async`.
        FindPhoneBulk => "find_phone_bulk",
        /// `/enrich-lead-async` (older).
        EnrichLead => "enrich_lead",
        /// `/enrich-company-async` (older).
        EnrichCompany => "enrich_company",
        /// `/people-intelligence-async`.
        PeopleIntelligence => "people_intelligence",
        /// `/company-intelligence-async`.
        CompanyIntelligence => "company_intelligence",
        /// `/research-agent-async`.
        ResearchAgent => "research_agent",
        /// `/qa-agent-async`.
        QaAgent => "qa_agent",
    }
}

wire_enum! {
    /// The verdict on a found email address.
    pub enum EmailVerdict {
        /// The address was verified.
        Ok => "OK",
    }
}

/// A job that completed, with its result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobCompleted {
    /// The job's id (a UUID), as returned when the job was started.
    pub task_id: String,
    /// The kind of job.
    pub task_type: TaskType,
    /// The job's result.
    pub result: JobResult,
}

/// A job that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFailed {
    /// The job's id (a UUID).
    pub task_id: String,
    /// The kind of job.
    pub task_type: TaskType,
    /// What went wrong.
    pub error: String,
}

/// The result of a completed job. Its shape depends on the task type; only `find_email` is
/// documented.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JobResult {
    /// The result of a `find_email` job.
    FindEmail(FindEmailResult),
    /// The result of any other job, as JSON.
    Other(Value),
}

/// The result of a `find_email` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindEmailResult {
    /// The person's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The person's company.
    #[serde(default)]
    pub company: Option<String>,
    /// The addresses found, each with a verdict.
    #[serde(default)]
    pub email: Vec<FoundEmail>,
}

/// One address found by `find_email`: sent as `["john.doe@acme.com", "OK"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FoundEmail(pub String, pub EmailVerdict);

impl FoundEmail {
    /// The address.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.0
    }

    /// The verdict.
    #[must_use]
    pub fn verdict(&self) -> &EmailVerdict {
        &self.1
    }
}

/// A Sixtyfour job-completion delivery.
///
/// Sixtyfour sends no event type name: the variants are named after the body's `status`, which
/// [`event_type`](crate::event::WebhookEvent::event_type) returns (`"completed"` or `"failed"`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `status: "completed"`.
    Completed(JobCompleted),
    /// `status: "failed"`.
    Failed(JobFailed),
    /// A status this version does not know.
    Unknown(UnknownEvent),
    /// A known status whose payload does not fit the model.
    Unparsed(UnparsedEvent),
}

/// The fields every Sixtyfour body has, read without copying the result.
#[derive(Deserialize)]
struct Wire<'a> {
    // Only `status` must have its type for the body to be an event at all; the other fields
    // are checked by `completed` and `failed`, so a documented event whose fields do not fit
    // is delivered `Unparsed` instead of refused.
    #[serde(default)]
    task_id: Option<Value>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(default)]
    task_type: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

impl Event {
    /// The type of a completed job.
    pub const COMPLETED: &'static str = "completed";
    /// The type of a failed job.
    pub const FAILED: &'static str = "failed";
    /// Every documented event type.
    pub const TYPES: &'static [&'static str] = &[Self::COMPLETED, Self::FAILED];

    /// The job's id, whatever the variant (from the raw JSON for `Unknown` and `Unparsed`).
    #[must_use]
    pub fn task_id(&self) -> Option<String> {
        match self {
            Self::Completed(job) => Some(job.task_id.clone()),
            Self::Failed(job) => Some(job.task_id.clone()),
            Self::Unknown(UnknownEvent { raw, .. }) | Self::Unparsed(UnparsedEvent { raw, .. }) => {
                task_id(raw.get().as_bytes())
            }
        }
    }

    /// Parses a body.
    ///
    /// # Errors
    /// [`ParseError::InvalidJson`] if the body is not a JSON object with a string `status`.
    pub fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        let wire: Wire<'_> =
            serde_json::from_slice(body).map_err(|e| ParseError::invalid_json(&e))?;
        let status = wire.status.clone();
        let parsed = match &*status {
            Self::COMPLETED => completed(wire).map(Self::Completed),
            Self::FAILED => failed(&wire).map(Self::Failed),
            other => return Ok(Self::Unknown(UnknownEvent::new(other, raw_body(body)?))),
        };
        match parsed {
            Ok(event) => Ok(event),
            Err(error) => Ok(Self::Unparsed(UnparsedEvent::new(
                status,
                raw_body(body)?,
                error,
            ))),
        }
    }
}

fn required<'w>(value: &'w Option<Value>, field: &str) -> Result<&'w Value, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("missing field `{field}`"))
}

fn string(value: &Option<Value>, field: &str) -> Result<String, String> {
    match required(value, field)? {
        Value::String(text) => Ok(text.clone()),
        _ => Err(format!("field `{field}` is not a string")),
    }
}

fn task_type(value: &Option<Value>) -> Result<TaskType, String> {
    TaskType::deserialize(required(value, "task_type")?).map_err(|e| format!("task_type: {e}"))
}

fn completed(wire: Wire<'_>) -> Result<JobCompleted, String> {
    let task_type = task_type(&wire.task_type)?;
    let task_id = string(&wire.task_id, "task_id")?;
    let result = wire.result.ok_or("missing field `result`")?;
    let result = match task_type {
        TaskType::FindEmail => serde_json::from_value(result)
            .map(JobResult::FindEmail)
            .map_err(|e| format!("result: {e}"))?,
        _ => JobResult::Other(result),
    };
    Ok(JobCompleted {
        task_id,
        task_type,
        result,
    })
}

fn failed(wire: &Wire<'_>) -> Result<JobFailed, String> {
    Ok(JobFailed {
        task_id: string(&wire.task_id, "task_id")?,
        task_type: task_type(&wire.task_type)?,
        error: string(&wire.error, "error")?,
    })
}

/// The `task_id` of a body, if it has one.
pub(crate) fn task_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct TaskId<'a> {
        #[serde(borrow)]
        task_id: Cow<'a, str>,
    }
    serde_json::from_slice::<TaskId<'_>>(body)
        .ok()
        .map(|t| t.task_id.into_owned())
}

impl crate::event::WebhookEvent for Event {
    fn event_type(&self) -> &str {
        match self {
            Self::Completed(_) => Self::COMPLETED,
            Self::Failed(_) => Self::FAILED,
            Self::Unknown(event) => &event.event_type,
            Self::Unparsed(event) => &event.event_type,
        }
    }

    fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

impl Serialize for JobResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::FindEmail(result) => result.serialize(serializer),
            Self::Other(value) => value.serialize(serializer),
        }
    }
}

/// Writes the body in its wire form; parsing the output gives an equal event.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Completed(job) => {
                let mut out = serializer.serialize_struct("Job", 4)?;
                out.serialize_field("task_id", &job.task_id)?;
                out.serialize_field("status", Self::COMPLETED)?;
                out.serialize_field("task_type", &job.task_type)?;
                out.serialize_field("result", &job.result)?;
                out.end()
            }
            Self::Failed(job) => {
                let mut out = serializer.serialize_struct("Job", 4)?;
                out.serialize_field("task_id", &job.task_id)?;
                out.serialize_field("status", Self::FAILED)?;
                out.serialize_field("task_type", &job.task_type)?;
                out.serialize_field("error", &job.error)?;
                out.end()
            }
            Self::Unknown(UnknownEvent { raw, .. }) | Self::Unparsed(UnparsedEvent { raw, .. }) => {
                raw.serialize(serializer)
            }
        }
    }
}
