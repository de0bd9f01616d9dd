//! Any Standard Webhooks sender (Svix, Clerk, Resend, Supabase, ...), parsed into
//! [`serde_json::Value`] or a type of your own.
//!
//! ```
//! use serde::Deserialize;
//! use webhook_guard::{StandardWebhooks, event::WebhookEvent as _, generic::{GenericEvent, GenericStandard}, provider::Provider};
//!
//! #[derive(Debug, Deserialize)]
//! struct UserCreated { data: User }
//! #[derive(Debug, Deserialize)]
//! struct User { id: String }
//!
//! let verifier = StandardWebhooks::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let provider = GenericStandard::<UserCreated>::typed("clerk", verifier.clone());
//! let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
//! let headers = verifier.sign_headers("msg_1", 1_700_000_000, body)?;
//!
//! let opened = provider.open(&headers, body, 1_700_000_000)?;
//! assert_eq!(opened.event.event_type(), "user.created");
//! let GenericEvent::Parsed { payload, .. } = opened.event else { panic!() };
//! assert_eq!(payload.data.id, "user_1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{borrow::Cow, fmt, marker::PhantomData};

use serde::{Deserialize, Serialize, Serializer, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    StandardWebhooks, VerifyError,
    event::{ParseError, UnparsedEvent, WebhookEvent, raw_body},
    headers::Headers,
    provider::{Authenticator, Authenticity, DeliveryIdRule, Provider},
    scheme::Scheme as _,
};

/// A Standard Webhooks sender whose bodies parse into `T`.
pub struct GenericStandard<T = Value> {
    name: String,
    verifier: StandardWebhooks,
    delivery_id: DeliveryIdRule,
    model: PhantomData<fn() -> T>,
}

/// A delivery of a [`GenericStandard`] sender.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GenericEvent<T> {
    /// The body parsed into `T`.
    Parsed {
        /// The body's top-level `type` field, if it has one (the Standard Webhooks convention).
        event_type: Option<String>,
        /// The body.
        payload: T,
    },
    /// The body is JSON but does not fit `T`.
    Unparsed(UnparsedEvent),
}

impl GenericStandard<Value> {
    /// A sender named `name` (used to namespace delivery ids), verified by `verifier`, whose
    /// bodies are kept as [`serde_json::Value`].
    pub fn new(name: impl Into<String>, verifier: StandardWebhooks) -> Self {
        Self::typed(name, verifier)
    }
}

impl<T> GenericStandard<T> {
    /// A sender whose bodies parse into `T`.
    pub fn typed(name: impl Into<String>, verifier: StandardWebhooks) -> Self {
        Self {
            name: name.into(),
            delivery_id: DeliveryIdRule::Header(verifier.id_header().clone()),
            verifier,
            model: PhantomData,
        }
    }
}

impl<T> Clone for GenericStandard<T> {
    fn clone(&self) -> Self {
        Self::typed(self.name.clone(), self.verifier.clone())
    }
}

impl<T> fmt::Debug for GenericStandard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericStandard")
            .field("name", &self.name)
            .field("verifier", &self.verifier)
            .field("model", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: fmt::Debug + Send + Sync + 'static> WebhookEvent for GenericEvent<T> {
    /// The body's `type`, or `""` if it has none.
    fn event_type(&self) -> &str {
        match self {
            Self::Parsed { event_type, .. } => event_type.as_deref().unwrap_or(""),
            Self::Unparsed(event) => &event.event_type,
        }
    }

    fn is_known(&self) -> bool {
        true
    }
}

impl<T: Serialize> Serialize for GenericEvent<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Parsed { payload, .. } => payload.serialize(serializer),
            Self::Unparsed(event) => event.raw.serialize(serializer),
        }
    }
}

impl<T> Authenticator for GenericStandard<T>
where
    T: DeserializeOwned + fmt::Debug + Send + Sync + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError> {
        self.verifier
            .verify_at(headers, body, now)
            .map(Authenticity::Signed)
    }

    fn delivery_id_rule(&self) -> &DeliveryIdRule {
        &self.delivery_id
    }
}

impl<T> Provider for GenericStandard<T>
where
    T: DeserializeOwned + fmt::Debug + Send + Sync + 'static,
{
    type Event = GenericEvent<T>;

    fn parse(&self, _headers: &dyn Headers, body: &[u8]) -> Result<GenericEvent<T>, ParseError> {
        #[derive(Deserialize)]
        struct TypeField<'a> {
            #[serde(rename = "type", borrow, default)]
            event_type: Option<Cow<'a, str>>,
        }
        // Any JSON value is accepted here; only objects can carry a type.
        let event_type = match serde_json::from_slice::<TypeField<'_>>(body) {
            Ok(field) => field.event_type.map(Cow::into_owned),
            Err(_) => {
                raw_body(body)?;
                None
            }
        };
        match serde_json::from_slice::<T>(body) {
            Ok(payload) => Ok(GenericEvent::Parsed {
                event_type,
                payload,
            }),
            Err(error) => Ok(GenericEvent::Unparsed(UnparsedEvent::new(
                event_type.unwrap_or_default(),
                raw_body(body)?,
                error,
            ))),
        }
    }
}
