//! FullEnrich deliveries: batch completion, `contact_finished` and reverse email lookup.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use super::person::Person;
use crate::event::{
    ParseError, UnparsedEvent,
    lenient::{self, Lenient},
    raw_body,
};

wire_enum! {
    /// The state of a batch.
    pub enum BatchStatus {
        /// Created, not started.
        Created => "CREATED",
        /// Running; `contact_finished` deliveries carry this status.
        InProgress => "IN_PROGRESS",
        /// Cancelled.
        Canceled => "CANCELED",
        /// Stopped: the account ran out of credits.
        CreditsInsufficient => "CREDITS_INSUFFICIENT",
        /// Finished.
        Finished => "FINISHED",
        /// Slowed down by rate limiting.
        RateLimit => "RATE_LIMIT",
        /// Unknown to FullEnrich itself.
        Unknown => "UNKNOWN",
    }
}

wire_enum! {
    /// How deliverable an email address is.
    pub enum EmailStatus {
        /// Verified deliverable.
        Deliverable => "DELIVERABLE",
        /// Probably deliverable.
        HighProbability => "HIGH_PROBABILITY",
        /// The domain accepts every address.
        CatchAll => "CATCH_ALL",
        /// Not deliverable.
        Invalid => "INVALID",
        /// The domain does not receive email.
        InvalidDomain => "INVALID_DOMAIN",
    }
}

/// The envelope of every FullEnrich delivery: a batch and its records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: serde::de::DeserializeOwned + 'static"))]
#[non_exhaustive]
pub struct Batch<R> {
    /// The batch id (a UUID). The same in every delivery of a batch: not a delivery id.
    #[serde(deserialize_with = "lenient::text")]
    pub id: String,
    /// The name given when the batch was started.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub name: Option<String>,
    /// The batch's state.
    pub status: BatchStatus,
    /// Credits spent.
    #[serde(default, deserialize_with = "lenient::or_none")]
    pub cost: Option<Cost>,
    /// The records: one in a `contact_finished` delivery, all of them at the end of a batch
    /// (`null` reads as none). A record that does not fit the model is kept raw in its place,
    /// with the reason; [`records`](Self::records) skips it.
    #[serde(default, deserialize_with = "lenient::records_or_null")]
    pub data: Vec<Lenient<R>>,
}

impl<R> Batch<R> {
    /// The records that fit the model, in order.
    pub fn records(&self) -> impl Iterator<Item = &R> {
        self.data.iter().filter_map(Lenient::typed)
    }

    /// The records that do not fit the model, as sent, with the reasons.
    pub fn misfits(&self) -> impl Iterator<Item = &lenient::Misfit> {
        self.data.iter().filter_map(Lenient::misfit)
    }
}

/// Credits spent on a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cost {
    /// Credits; `None` when the cost object comes without them.
    #[serde(default, deserialize_with = "lenient::number_or_none")]
    pub credits: Option<i64>,
}

/// One contact of an enrichment batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnrichmentRecord {
    /// The contact as submitted.
    #[serde(default)]
    pub input: EnrichmentInput,
    /// The caller's own identifiers, echoed back unchanged (a number is read as its text).
    #[serde(default, deserialize_with = "custom")]
    pub custom: Option<BTreeMap<String, String>>,
    /// What was found.
    #[serde(default)]
    pub contact_info: Option<ContactInfo>,
    /// The person's profile.
    #[serde(default)]
    pub profile: Option<Person>,
}

/// A contact as submitted for enrichment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnrichmentInput {
    /// First name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub full_name: Option<String>,
    /// Company domain.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub company_domain: Option<String>,
    /// Company name.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub company_name: Option<String>,
    /// Professional network profile URL.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub professional_network_url: Option<String>,
}

/// Contact details found for a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactInfo {
    /// The likeliest work address.
    #[serde(default)]
    pub most_probable_work_email: Option<Email>,
    /// The likeliest personal address.
    #[serde(default)]
    pub most_probable_personal_email: Option<Email>,
    /// The likeliest phone number.
    #[serde(default)]
    pub most_probable_phone: Option<Phone>,
    /// Every work address found.
    #[serde(default)]
    pub work_emails: Option<Vec<Email>>,
    /// Every personal address found.
    #[serde(default)]
    pub personal_emails: Option<Vec<Email>>,
    /// Every phone number found.
    #[serde(default)]
    pub phones: Option<Vec<Phone>>,
}

/// An email address and how deliverable it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Email {
    /// The address; `None` when sent as `null`.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub email: Option<String>,
    /// Deliverability.
    #[serde(default)]
    pub status: Option<EmailStatus>,
}

/// A phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Phone {
    /// The number; `None` when sent as `null`.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub number: Option<String>,
    /// Its region, for instance `US`.
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    pub region: Option<String>,
}

/// One address of a reverse email lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReverseLookupRecord {
    /// The address looked up.
    pub input: ReverseLookupInput,
    /// The caller's own identifiers, echoed back unchanged (a number is read as its text).
    #[serde(default, deserialize_with = "custom")]
    pub custom: Option<BTreeMap<String, String>>,
    /// The person found.
    #[serde(default)]
    pub profile: Option<Person>,
}

/// An address submitted for reverse lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReverseLookupInput {
    /// The address.
    #[serde(deserialize_with = "lenient::text")]
    pub email: String,
}

/// A FullEnrich delivery.
///
/// FullEnrich sends no event type: the endpoint learns what it got from the body alone. The
/// variant is chosen from the records and the batch status, and
/// [`event_type`](crate::event::WebhookEvent::event_type) names it:
///
/// | variant | event type | how it is recognized |
/// |---|---|---|
/// | [`ReverseEmailLookup`](Self::ReverseEmailLookup) | `reverse_email_lookup` | records whose `input` has an `email` |
/// | [`ContactFinished`](Self::ContactFinished) | `contact_finished` | status `IN_PROGRESS` |
/// | [`BatchCompleted`](Self::BatchCompleted) | `batch_completed` | any other status (finished, out of credits, cancelled) |
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The whole batch is done (`webhook_url`): finished, out of credits or cancelled.
    BatchCompleted(Batch<EnrichmentRecord>),
    /// One contact is done (`webhook_events.contact_finished`): one record, status
    /// `IN_PROGRESS`.
    ContactFinished(Batch<EnrichmentRecord>),
    /// A reverse email lookup result.
    ReverseEmailLookup(Batch<ReverseLookupRecord>),
    /// A body that does not fit the model.
    Unparsed(UnparsedEvent),
}

/// Both kinds of record, read in one pass and split afterwards.
#[derive(Deserialize)]
struct WireRecord {
    #[serde(default)]
    input: WireInput,
    #[serde(default, deserialize_with = "custom")]
    custom: Option<BTreeMap<String, String>>,
    #[serde(default)]
    contact_info: Option<ContactInfo>,
    #[serde(default)]
    profile: Option<Person>,
}

#[derive(Default, Deserialize)]
struct WireInput {
    // Any value: its presence is what makes a reverse lookup record.
    #[serde(default)]
    email: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    last_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    full_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    company_domain: Option<String>,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    company_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    professional_network_url: Option<String>,
}

impl WireInput {
    fn into_enrichment(self) -> EnrichmentInput {
        EnrichmentInput {
            first_name: self.first_name,
            last_name: self.last_name,
            full_name: self.full_name,
            company_domain: self.company_domain,
            company_name: self.company_name,
            professional_network_url: self.professional_network_url,
        }
    }
}

impl Event {
    /// A finished, cancelled or out-of-credits batch.
    pub const BATCH_COMPLETED: &'static str = "batch_completed";
    /// One enriched contact.
    pub const CONTACT_FINISHED: &'static str = "contact_finished";
    /// A reverse email lookup result.
    pub const REVERSE_EMAIL_LOOKUP: &'static str = "reverse_email_lookup";
    /// Every event type.
    pub const TYPES: &'static [&'static str] = &[
        Self::BATCH_COMPLETED,
        Self::CONTACT_FINISHED,
        Self::REVERSE_EMAIL_LOOKUP,
    ];

    /// Parses a body.
    ///
    /// # Errors
    /// [`ParseError::InvalidJson`] if the body is not JSON.
    pub fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        // One strict pass; a body with a record that does not fit is read again, keeping that
        // record aside (see `event::lenient`), without reading the records before it twice.
        let parsed = lenient::two_pass(|| serde_json::from_slice::<Batch<WireRecord>>(body));
        match parsed {
            Ok(batch) => Ok(Self::classify(batch)),
            Err(error) => {
                let raw = raw_body(body)?;
                let event_type = Shape::of(&raw).event_type();
                // The error's line and column point into `raw` (the body without the
                // whitespace around it), which is what the event keeps and writes back.
                let error = serde_json::from_str::<Batch<WireRecord>>(raw.get())
                    .err()
                    .map_or_else(|| error.to_string(), |e| e.to_string());
                Ok(Self::Unparsed(UnparsedEvent::new(event_type, raw, error)))
            }
        }
    }

    fn classify(batch: Batch<WireRecord>) -> Self {
        let Batch {
            id,
            name,
            status,
            cost,
            data,
        } = batch;
        // Reverse lookup records are those whose input has an address.
        let reverse = !data.is_empty()
            && data.iter().all(|record| match record {
                Lenient::Typed(record) => record.input.email.is_some(),
                Lenient::Misfit(misfit) => has_input_email(&misfit.raw),
            });
        if reverse {
            let data = data
                .into_iter()
                .map(|record| match record {
                    Lenient::Typed(record) => Lenient::Typed(ReverseLookupRecord {
                        input: ReverseLookupInput {
                            // A number or another value where the address belongs is kept as
                            // its JSON text.
                            email: match record.input.email {
                                Some(serde_json::Value::String(email)) => email,
                                Some(other) => other.to_string(),
                                None => String::new(),
                            },
                        },
                        custom: record.custom,
                        profile: record.profile,
                    }),
                    Lenient::Misfit(misfit) => Lenient::Misfit(misfit),
                })
                .collect();
            return Self::ReverseEmailLookup(Batch {
                id,
                name,
                status,
                cost,
                data,
            });
        }
        let data = data
            .into_iter()
            .map(|record| match record {
                Lenient::Typed(record) => Lenient::Typed(EnrichmentRecord {
                    input: record.input.into_enrichment(),
                    custom: record.custom,
                    contact_info: record.contact_info,
                    profile: record.profile,
                }),
                Lenient::Misfit(misfit) => Lenient::Misfit(misfit),
            })
            .collect();
        let batch = Batch {
            id,
            name,
            status,
            cost,
            data,
        };
        if batch.status == BatchStatus::InProgress {
            Self::ContactFinished(batch)
        } else {
            Self::BatchCompleted(batch)
        }
    }
}

/// Whether a record that does not fit the model has an `input.email` (not `null`).
fn has_input_email(raw: &crate::event::RawJson) -> bool {
    raw.parse::<RecordShape>()
        .is_ok_and(|record| record.has_email())
}

/// The caller's identifiers: strings, or numbers read as their text.
fn custom<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(transparent)]
    struct Text(#[serde(deserialize_with = "lenient::text")] String);

    let map = Option::<BTreeMap<String, Text>>::deserialize(deserializer)?;
    Ok(map.map(|map| map.into_iter().map(|(k, v)| (k, v.0)).collect()))
}

/// What tells the deliveries apart, read from a body that does not fit the model.
#[derive(Default, Deserialize)]
struct Shape {
    #[serde(default, deserialize_with = "lenient::or_none")]
    status: Option<BatchStatus>,
    #[serde(default, deserialize_with = "lenient::or_none")]
    data: Option<Vec<RecordShape>>,
}

#[derive(Deserialize)]
struct RecordShape {
    #[serde(default, deserialize_with = "lenient::or_none")]
    input: Option<InputShape>,
}

#[derive(Deserialize)]
struct InputShape {
    #[serde(default)]
    email: Option<serde::de::IgnoredAny>,
}

impl RecordShape {
    fn has_email(&self) -> bool {
        self.input.as_ref().is_some_and(|input| input.email.is_some())
    }
}

impl Shape {
    fn of(raw: &crate::event::RawJson) -> Self {
        raw.parse().unwrap_or_default()
    }

    /// The event type `classify` would give a body of this shape.
    fn event_type(&self) -> &'static str {
        match (&self.data, &self.status) {
            (Some(data), _) if !data.is_empty() && data.iter().all(RecordShape::has_email) => {
                Event::REVERSE_EMAIL_LOOKUP
            }
            (_, Some(BatchStatus::InProgress)) => Event::CONTACT_FINISHED,
            _ => Event::BATCH_COMPLETED,
        }
    }
}

impl crate::event::WebhookEvent for Event {
    fn event_type(&self) -> &str {
        match self {
            Self::BatchCompleted(_) => Self::BATCH_COMPLETED,
            Self::ContactFinished(_) => Self::CONTACT_FINISHED,
            Self::ReverseEmailLookup(_) => Self::REVERSE_EMAIL_LOOKUP,
            Self::Unparsed(event) => &event.event_type,
        }
    }

    fn is_known(&self) -> bool {
        true
    }
}

/// Writes the body in its wire form; parsing the output gives an equal event.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::BatchCompleted(batch) | Self::ContactFinished(batch) => {
                batch.serialize(serializer)
            }
            Self::ReverseEmailLookup(batch) => batch.serialize(serializer),
            Self::Unparsed(event) => event.raw.serialize(serializer),
        }
    }
}
