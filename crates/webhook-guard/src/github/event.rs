//! GitHub's event envelope.

use serde::{Deserialize, Serialize};

use crate::event::{
    ParseError, RawJson, UnparsedEvent, WebhookEvent,
    lenient::{self, strictly},
    raw_body,
};

/// A GitHub delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The envelope fits the model (every well-formed GitHub event).
    Payload(Box<Payload>),
    /// The body is a JSON object that repeats one of the shared fields (a shared field of
    /// another shape reads as absent instead).
    Unparsed(UnparsedEvent),
}

/// The fields every GitHub event shares, and the whole body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Payload {
    /// The event name, from `X-GitHub-Event`: `push`, `pull_request`, `issues`, ...
    pub event: String,
    /// What happened, for events that have actions: `opened`, `closed`, `created`, ...
    pub action: Option<String>,
    /// Who triggered the event.
    pub sender: Option<Account>,
    /// The repository, for repository events.
    pub repository: Option<Repository>,
    /// The organisation, for events in one.
    pub organization: Option<Account>,
    /// The GitHub App installation, for app webhooks.
    pub installation: Option<Installation>,
    /// The whole body, for the event-specific fields.
    pub raw: RawJson,
}

/// A user, bot or organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Account {
    /// The login (`octocat`).
    #[serde(deserialize_with = "lenient::text")]
    pub login: String,
    /// The numeric id.
    #[serde(deserialize_with = "lenient::number")]
    pub id: u64,
}

/// A repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Repository {
    /// The numeric id.
    #[serde(deserialize_with = "lenient::number")]
    pub id: u64,
    /// `owner/name`.
    #[serde(deserialize_with = "lenient::text")]
    pub full_name: String,
    /// Whether it is private.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub private: bool,
}

/// A GitHub App installation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Installation {
    /// The installation id.
    #[serde(deserialize_with = "lenient::number")]
    pub id: u64,
}

/// The shared fields; one of another shape reads as absent (the whole body is kept).
#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "lenient::text_or_none")]
    action: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_none")]
    sender: Option<Account>,
    #[serde(default, deserialize_with = "lenient::or_none")]
    repository: Option<Repository>,
    #[serde(default, deserialize_with = "lenient::or_none")]
    organization: Option<Account>,
    #[serde(default, deserialize_with = "lenient::or_none")]
    installation: Option<Installation>,
}

impl Event {
    /// Event names GitHub documents (a selection: the envelope is the same for every name,
    /// so a name outside this list is parsed all the same, only not [known](WebhookEvent::is_known)).
    pub const TYPES: &'static [&'static str] = &[
        "ping",
        "push",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "issues",
        "issue_comment",
        "create",
        "delete",
        "release",
        "workflow_run",
        "workflow_job",
        "check_run",
        "check_suite",
        "installation",
        "star",
        "fork",
    ];

    /// Parses a body of the event `name`.
    ///
    /// # Errors
    /// [`ParseError::InvalidJson`] if the body is not a JSON object.
    pub fn from_json(name: &str, body: &[u8]) -> Result<Self, ParseError> {
        let raw = raw_body(body)?;
        if !raw.get().starts_with('{') {
            return Err(ParseError::InvalidJson {
                reason: "a GitHub body is a JSON object".to_owned(),
            });
        }
        let wire = strictly(|| serde_json::from_str::<Wire>(raw.get()))
            .or_else(|_| serde_json::from_str::<Wire>(raw.get()));
        Ok(match wire {
            Ok(wire) => Self::Payload(Box::new(Payload {
                event: name.to_owned(),
                action: wire.action,
                sender: wire.sender,
                repository: wire.repository,
                organization: wire.organization,
                installation: wire.installation,
                raw,
            })),
            Err(error) => Self::Unparsed(UnparsedEvent::new(name, raw, error)),
        })
    }

    /// The body's `action`, if the envelope fits and has one.
    #[must_use]
    pub fn action(&self) -> Option<&str> {
        match self {
            Self::Payload(payload) => payload.action.as_deref(),
            Self::Unparsed(_) => None,
        }
    }
}

impl WebhookEvent for Event {
    /// The `X-GitHub-Event` name.
    fn event_type(&self) -> &str {
        match self {
            Self::Payload(payload) => &payload.event,
            Self::Unparsed(event) => &event.event_type,
        }
    }

    fn is_known(&self) -> bool {
        Self::TYPES.contains(&self.event_type())
    }
}

/// Writes the body back as it was.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Payload(payload) => payload.raw.serialize(serializer),
            Self::Unparsed(event) => event.raw.serialize(serializer),
        }
    }
}

#[cfg(all(test, feature = "fixtures"))]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_typed_and_round_trips() {
        for fixture in crate::fixtures::of("github") {
            let event = Event::from_json(fixture.event_type, fixture.body).expect("parses");
            assert!(matches!(event, Event::Payload(_)), "{}", fixture.name);
            assert_eq!(event.event_type(), fixture.event_type);
            assert!(event.is_known());
            let written = serde_json::to_vec(&event).expect("serializes");
            let again = Event::from_json(fixture.event_type, &written).expect("own output parses");
            assert_eq!(again, event, "{}: round trip", fixture.name);
        }
    }

    #[test]
    fn the_envelope_bends_and_only_non_objects_fail() {
        let odd = Event::from_json(
            "push",
            br#"{"sender":"not an account","action":7,"repository":{"id":1,"full_name":"a/b"}}"#,
        )
        .expect("kept");
        let Event::Payload(payload) = &odd else {
            panic!("typed: {odd:?}")
        };
        assert!(payload.sender.is_none() && odd.is_known());
        assert_eq!(payload.action.as_deref(), Some("7"));
        assert_eq!(payload.repository.as_ref().map(|r| r.id), Some(1));
        let new = Event::from_json("merge_group", br#"{"action":"checks_requested"}"#).expect("kept");
        assert_eq!(new.action(), Some("checks_requested"));
        assert!(!new.is_known());
        assert!(Event::from_json("push", b"[1]").is_err());
        assert!(Event::from_json("push", b"nope").is_err());
    }
}
