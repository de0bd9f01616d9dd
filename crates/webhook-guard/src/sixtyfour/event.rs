//! The Sixtyfour job-completion payload.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, DeserializeOwned, SeqAccess, Visitor},
    ser::{SerializeSeq, SerializeStruct},
};
use serde_json::{Value, value::RawValue};

use crate::event::{
    ParseError, UnknownEvent, UnparsedEvent,
    lenient::{self, Lenient},
    raw_body,
};

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
    /// The validation status of a found email address.
    pub enum EmailVerdict {
        /// Validated: likely deliverable.
        Ok => "OK",
        /// Could not be validated, typically because the domain accepts every address.
        Unknown => "UNKNOWN",
    }
}

wire_enum! {
    /// Whether a found address is a company or a personal one.
    pub enum EmailType {
        /// A company address.
        Company => "COMPANY",
        /// A personal address (the `PERSONAL` mode's `personal_email` list).
        Personal => "PERSONAL",
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
    /// What went wrong: the text, or the JSON text of an error sent as another value.
    pub error: String,
}

/// The result of a completed job. Its shape depends on the task type; only `find_email` is
/// documented.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JobResult {
    /// The result of a `find_email` job: typed, or kept raw with the reason when it does not
    /// fit (a result that is absent or `null` is such a misfit).
    FindEmail(Lenient<FindEmailResult>),
    /// The result of any other job, as JSON (`null` when absent).
    Other(Value),
}

impl JobResult {
    /// The `find_email` result, if this is one and it fits the model.
    #[must_use]
    pub fn find_email(&self) -> Option<&FindEmailResult> {
        match self {
            Self::FindEmail(result) => result.typed(),
            Self::Other(_) => None,
        }
    }
}

/// The result of a `find_email` job.
///
/// Each list holds the addresses found, one [`FoundEmail`] per address; an entry that does not
/// fit is kept raw in its place. `null` lists read as empty.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindEmailResult {
    /// The person's name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub name: Option<String>,
    /// The person's company.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub company: Option<String>,
    /// The addresses found (in `PERSONAL` mode: the company addresses, if any).
    #[serde(default, deserialize_with = "lenient::list_or_null")]
    pub email: Vec<Lenient<FoundEmail>>,
    /// `PERSONAL` mode: the personal addresses found.
    #[serde(
        default,
        deserialize_with = "lenient::list_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub personal_email: Vec<Lenient<FoundEmail>>,
}

impl FindEmailResult {
    /// Every address that fits the model, company addresses first, then personal ones.
    pub fn addresses(&self) -> impl Iterator<Item = &FoundEmail> {
        self.email
            .iter()
            .chain(&self.personal_email)
            .filter_map(Lenient::typed)
    }
}

/// One address found by `find_email`: sent as `["john.doe@acme.com", "OK", "COMPANY"]`, or,
/// in older results, without the type (`["john.doe@acme.com", "OK"]`). Elements after the
/// third are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FoundEmail {
    /// The address.
    pub address: String,
    /// Its validation status.
    pub status: EmailVerdict,
    /// Company or personal; `None` in two-element results.
    pub kind: Option<EmailType>,
}

impl FoundEmail {
    /// An address with its status and type.
    pub fn new(address: impl Into<String>, status: EmailVerdict, kind: Option<EmailType>) -> Self {
        Self {
            address: address.into(),
            status,
            kind,
        }
    }

    /// The address.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The validation status.
    #[must_use]
    pub fn verdict(&self) -> &EmailVerdict {
        &self.status
    }
}

impl Serialize for FoundEmail {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_seq(Some(2 + usize::from(self.kind.is_some())))?;
        tuple.serialize_element(&self.address)?;
        tuple.serialize_element(&self.status)?;
        if let Some(kind) = &self.kind {
            tuple.serialize_element(kind)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for FoundEmail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Tuple;

        impl<'de> Visitor<'de> for Tuple {
            type Value = FoundEmail;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list [address, status] or [address, status, type]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FoundEmail, A::Error> {
                #[derive(Deserialize)]
                #[serde(transparent)]
                struct Address(#[serde(deserialize_with = "lenient::text")] String);

                let address = seq
                    .next_element::<Address>()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let status = seq
                    .next_element::<EmailVerdict>()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let kind = seq.next_element::<Option<EmailType>>()?.flatten();
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(FoundEmail {
                    address: address.0,
                    status,
                    kind,
                })
            }
        }

        deserializer.deserialize_seq(Tuple)
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

/// The fields every Sixtyfour body has, read without copying them.
#[derive(Deserialize)]
struct Wire<'a> {
    // Only `status` must have its type for the body to be an event at all; the other fields
    // are read by `completed` and `failed`, so a documented event whose fields do not fit is
    // delivered `Unparsed` instead of refused.
    #[serde(default, borrow)]
    task_id: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(default, borrow)]
    task_type: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
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
                body_task_id(raw.get().as_bytes())
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
            Self::COMPLETED => completed(&wire).map(Self::Completed),
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

/// Reads a field of the envelope with `read`, naming it in the error.
fn field<'a, T>(
    raw: Option<&'a RawValue>,
    name: &str,
    read: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'a>>) -> Result<T, serde_json::Error>,
) -> Result<T, String> {
    let raw = raw.ok_or_else(|| format!("missing field `{name}`"))?;
    read(&mut serde_json::Deserializer::from_str(raw.get())).map_err(|e| format!("{name}: {e}"))
}

fn task_id(raw: Option<&RawValue>) -> Result<String, String> {
    field(raw, "task_id", |de| lenient::text(de))
}

fn task_type(raw: Option<&RawValue>) -> Result<TaskType, String> {
    field(raw, "task_type", |de| TaskType::deserialize(de))
}

fn completed(wire: &Wire<'_>) -> Result<JobCompleted, String> {
    let task_type = task_type(wire.task_type)?;
    let task_id = task_id(wire.task_id)?;
    let result = match task_type {
        TaskType::FindEmail => JobResult::FindEmail(match wire.result {
            Some(raw) => lenient::from_raw(raw),
            None => Lenient::Misfit(lenient::Misfit::new(
                crate::event::RawJson::null(),
                "missing field `result`",
            )),
        }),
        _ => JobResult::Other(match wire.result {
            Some(raw) => parse(raw).map_err(|e| format!("result: {e}"))?,
            None => Value::Null,
        }),
    };
    Ok(JobCompleted {
        task_id,
        task_type,
        result,
    })
}

fn parse<T: DeserializeOwned>(raw: &RawValue) -> Result<T, serde_json::Error> {
    serde_json::from_str(raw.get())
}

fn failed(wire: &Wire<'_>) -> Result<JobFailed, String> {
    let error = match wire.error {
        Some(raw) => parse::<String>(raw).unwrap_or_else(|_| raw.get().to_owned()),
        None => return Err("missing field `error`".to_owned()),
    };
    Ok(JobFailed {
        task_id: task_id(wire.task_id)?,
        task_type: task_type(wire.task_type)?,
        error,
    })
}

/// The `task_id` of a body, if it has one.
pub(crate) fn body_task_id(body: &[u8]) -> Option<String> {
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
