//! A provider is one sender: its signature scheme, its headers, its delivery-id rule and its
//! event model.
//!
//! | provider | scheme | delivery id | event type |
//! |---|---|---|---|
//! | [`Parallel`](crate::parallel::Parallel) | Standard Webhooks v1, current and legacy key forms | `webhook-id` | body `type` |
//! | [`Sixtyfour`](crate::sixtyfour::Sixtyfour) | `t=,v1=` over `t.body`, or unsigned when allowed | `Sixtyfour-Event-Id`, else body `task_id` | body `status` |
//! | [`FullEnrich`](crate::fullenrich::FullEnrich) | HMAC-SHA1 hex of the body | SHA-256 of the raw body | from the body's shape |
//! | [`ParseFlow`](crate::parseflow::ParseFlow) | HMAC-SHA256 hex of the body | `X-ParseFlow-Delivery` | body `event` |
//! | [`GitHub`](crate::github::GitHub) | HMAC-SHA256 hex of the body, `sha256=` prefix | `X-GitHub-Delivery` (deduplicated by the body's SHA-256) | `X-GitHub-Event` |
//! | [`Stripe`](crate::stripe::Stripe) | `t=,v1=` over `t.body` | body `id` | body `type` |
//! | [`GenericStandard`](crate::generic::GenericStandard) | Standard Webhooks v1/v1a | `webhook-id` | body `type`, if any |
//!
//! A provider implements two traits: [`Authenticator`], the object-safe part (name,
//! authentication, the [`DeliveryIdRule`]s), and [`Provider`], which adds the event model.
//! [`AnyProvider`] erases the event type, for tools that hold any provider.
//!
//! The steps are separate methods because a receiver runs them in order with deduplication in
//! between (verify, take the delivery id, claim it, then parse); [`Provider::open`] runs them all
//! without deduplication, for tests and tools.

use std::fmt;

mod any;
mod declare;
#[cfg(feature = "fixtures")]
pub(crate) mod entry;
mod id;
#[cfg(feature = "fixtures")]
pub(crate) mod sample;

pub use any::{AnyEvent, AnyProvider};
pub use declare::{Declared, Keys};
pub use id::{DeliveryId, DeliveryIdRule};

use crate::{
    VerifyError,
    event::{ParseError, WebhookEvent},
    headers::Headers,
    scheme::Verified,
};

/// How a delivery was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authenticity {
    /// The signature matched; which key and key form matched is recorded.
    Signed(Verified),
    /// The delivery carried no signature and the provider is configured to accept that
    /// (Sixtyfour before the organisation has created a signing secret).
    UnsignedAllowed,
}

impl Authenticity {
    /// What the signature check established, if the delivery was signed.
    #[must_use]
    pub fn verified(&self) -> Option<&Verified> {
        match self {
            Self::Signed(verified) => Some(verified),
            Self::UnsignedAllowed => None,
        }
    }
}

/// A delivery that passed every check of [`Provider::open`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Opened<E> {
    /// The typed event.
    pub event: E,
    /// The id to deduplicate on.
    pub delivery_id: DeliveryId,
    /// How the delivery was authenticated.
    pub authenticity: Authenticity,
}

/// Why [`Provider::open`] refused a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// The delivery is not authentic (HTTP 401).
    Verify(VerifyError),
    /// The delivery is authentic but its body or delivery id cannot be read (HTTP 400).
    Parse(ParseError),
}

impl OpenError {
    /// The HTTP status: 401 for a failed verification, 400 for an unreadable body.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Verify(e) => e.status(),
            Self::Parse(e) => e.status(),
        }
    }

    /// A short text safe to send back to the client.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::Verify(e) => e.public_message(),
            Self::Parse(e) => e.public_message(),
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verify(e) => e.fmt(f),
            Self::Parse(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Verify(e) => Some(e),
            Self::Parse(e) => Some(e),
        }
    }
}

impl From<VerifyError> for OpenError {
    fn from(e: VerifyError) -> Self {
        Self::Verify(e)
    }
}

impl From<ParseError> for OpenError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

/// The object-safe part of a provider: who it is, whether a delivery is authentic, and which
/// delivery it is. Tools hold any provider as a `dyn Authenticator` (or a
/// [`dyn AnyProvider`](AnyProvider), which can also parse).
///
/// A provider outside this crate implements this trait and [`Provider`]; see
/// `examples/custom_provider.rs` for a complete one.
pub trait Authenticator: fmt::Debug + Send + Sync + 'static {
    /// A short lowercase name (`"parallel"`), used to namespace delivery ids and in logs.
    fn name(&self) -> &str;

    /// Checks that the delivery comes from the sender, against the time `now` in Unix seconds.
    ///
    /// # Errors
    /// A [`VerifyError`] saying why the delivery is not authentic.
    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError>;

    /// Where the delivery id is read.
    fn delivery_id_rule(&self) -> &DeliveryIdRule;

    /// Where the id the receiver deduplicates by is read, when it is not the delivery id.
    ///
    /// `None` (the default) deduplicates by the delivery id. A provider whose delivery id is
    /// outside the signature returns a rule over signed content, such as
    /// [`DeliveryIdRule::BodyDigest`]: anyone holding one captured delivery could otherwise
    /// replay it under fresh ids, or pre-claim an id guessed ahead of a real delivery.
    fn dedup_id_rule(&self) -> Option<&DeliveryIdRule> {
        None
    }

    /// `true` when every authentic delivery carries a signed timestamp checked against a
    /// tolerance, so a captured delivery cannot be replayed once the tolerance is past.
    /// `false` (the default, the safe answer) makes the receiver remember completed
    /// deliveries for its [`replay_horizon`](crate::ReceiverBuilder::replay_horizon) instead
    /// of its retention alone.
    fn signs_timestamp(&self) -> bool {
        false
    }

    /// The delivery id, by [`delivery_id_rule`](Self::delivery_id_rule). Call it only on an
    /// authenticated delivery: unverified ids must never reach a dedup store.
    ///
    /// # Errors
    /// A [`ParseError`] if the id is absent or unusable.
    fn delivery_id(&self, headers: &dyn Headers, body: &[u8]) -> Result<DeliveryId, ParseError> {
        self.delivery_id_rule().read(headers, body)
    }

    /// The id the receiver deduplicates by, given the delivery id: by
    /// [`dedup_id_rule`](Self::dedup_id_rule), else the delivery id itself.
    ///
    /// # Errors
    /// A [`ParseError`] if the rule finds no usable id.
    fn dedup_id(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        delivery_id: &DeliveryId,
    ) -> Result<DeliveryId, ParseError> {
        match self.dedup_id_rule() {
            Some(rule) => rule.read(headers, body),
            None => Ok(delivery_id.clone()),
        }
    }
}

/// One webhook sender: an [`Authenticator`] with a typed event model.
///
/// The steps are separate methods because a receiver runs them in order with deduplication in
/// between (verify, take the delivery id, claim it, then parse); [`Provider::open`] runs them
/// all without deduplication, for tests and tools.
pub trait Provider: Authenticator {
    /// The provider's event type.
    type Event: WebhookEvent;

    /// Parses the body into the typed event. Never fails on content the model does not know
    /// (see [`crate::event`]); fails only on a body that is not the JSON the sender sends.
    ///
    /// # Errors
    /// A [`ParseError`] if the body is not the JSON the provider sends.
    fn parse(&self, headers: &dyn Headers, body: &[u8]) -> Result<Self::Event, ParseError>;

    /// Runs every step on one delivery, without deduplication: authenticate, delivery id, parse.
    ///
    /// # Errors
    /// The first step that failed.
    fn open(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Opened<Self::Event>, OpenError> {
        let authenticity = self.authenticate(headers, body, now)?;
        let delivery_id = self.delivery_id(headers, body)?;
        let event = self.parse(headers, body)?;
        Ok(Opened {
            event,
            delivery_id,
            authenticity,
        })
    }
}
