//! Stripe: account and Connect event notifications.
//!
//! Stripe signs each delivery with `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`: each
//! `v1` is the lowercase hex HMAC-SHA256 of `<t>.<raw body>`, keyed with the endpoint's
//! signing secret string as it is (`whsec_...`, not decoded). While a secret is being rolled,
//! Stripe signs with both and sends two `v1` entries; any `v0` entry (test-mode legacy) is
//! ignored. Deliveries older than the tolerance (300 s by default, as Stripe's own libraries)
//! are refused.
//!
//! The delivery id is the event's `id` in the signed body (`evt_...`): Stripe retries a failed
//! delivery with the same event for up to three days.
//!
//! The model is Stripe's event envelope ([`EventEnvelope`]: `id`, `object`, `type`,
//! `created`, `livemode`, `api_version`, `data.object`, `data.previous_attributes`, ...); the
//! objects in `data` are kept raw.
//!
//! ```
//! use webhook_guard::{prelude::*, stripe::{Event, Stripe}};
//!
//! let stripe = Stripe::new("whsec_test_secret")?;
//! let body = br#"{"id":"evt_1","object":"event","type":"customer.created","created":1700000000,"livemode":false,"api_version":"2024-06-20","data":{"object":{"id":"cus_1","object":"customer"}}}"#;
//! let headers = stripe.sign_headers(1_700_000_000, body);
//! let opened = stripe.open(&headers, body, 1_700_000_010)?;
//! assert_eq!(opened.delivery_id.as_str(), "evt_1");
//! let Event::Envelope(envelope) = &opened.event else { panic!("typed") };
//! assert_eq!(envelope.event_type, "customer.created");
//! assert_eq!(envelope.data.object.parse::<serde_json::Value>()?["id"], "cus_1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "fixtures")]
pub(crate) mod catalog;
mod event;
#[cfg(all(test, feature = "fixtures"))]
mod sdk_tests;

use std::time::Duration;

pub use event::{Event, EventData, EventEnvelope, EventRequest};

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::{
    ConfigError, Secret, TimestampedHmac, VerifyError,
    event::ParseError,
    headers::Headers,
    provider::{self, Authenticator, Authenticity, DeliveryIdRule, Provider},
    scheme::{DEFAULT_TOLERANCE, SignedHeaders},
};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// Stripe's delivery id: the event's `id`, in the signed body.
pub static DELIVERY_ID: DeliveryIdRule = DeliveryIdRule::BodyField("id");

/// The Stripe provider. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Stripe {
    verifier: TimestampedHmac,
}

/// Configuration of a [`Stripe`] provider.
#[derive(Debug, Clone)]
#[must_use]
pub struct StripeBuilder {
    secrets: Vec<Secret>,
    tolerance: Duration,
}

impl Stripe {
    /// The provider's name, `"stripe"`.
    pub const NAME: &'static str = "stripe";

    /// A provider for one endpoint signing secret (`whsec_...`), with a 300 s tolerance.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty secret.
    pub fn new(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().secret(secret).build()
    }

    /// Starts a configuration.
    pub fn builder() -> StripeBuilder {
        StripeBuilder {
            secrets: Vec::new(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// The header Stripe would send for `body` signed at `timestamp`: one `v1` per secret, as
    /// during a roll.
    #[must_use]
    pub fn sign_headers(&self, timestamp: i64, body: &[u8]) -> SignedHeaders {
        self.verifier.sign_headers(timestamp, body)
    }
}

impl StripeBuilder {
    /// Adds an endpoint signing secret, used as given (call again while rolling it):
    /// signatures by any are accepted.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// The largest accepted clock difference, in either direction (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] without a secret; [`ConfigError::EmptySecret`] for an empty one.
    pub fn build(self) -> Result<Stripe, ConfigError> {
        let verifier = TimestampedHmac::builder()
            .header(SIGNATURE_HEADER)
            .tolerance(self.tolerance)
            .secrets(self.secrets)
            .build()?;
        Ok(Stripe { verifier })
    }
}

impl Authenticator for Stripe {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn authenticate(
        &self,
        headers: &dyn Headers,
        body: &[u8],
        now: i64,
    ) -> Result<Authenticity, VerifyError> {
        provider::signed(&self.verifier, headers, body, now)
    }

    fn delivery_id_rule(&self) -> &DeliveryIdRule {
        &DELIVERY_ID
    }
}

impl Provider for Stripe {
    type Event = Event;

    fn parse(&self, _headers: &dyn Headers, body: &[u8]) -> Result<Event, ParseError> {
        Event::from_json(body)
    }
}

#[cfg(all(test, feature = "fixtures"))]
mod tests {
    use super::*;

    /// Stripe: the `customer.created` fixture signed at t=1700000000 with `whsec_test_secret`,
    /// computed with Python's `hmac`:
    ///
    /// ```text
    /// python3 -c "import hmac,hashlib; body=open('crates/webhook-guard/fixtures/stripe/customer.created.json','rb').read(); print(hmac.new(b'whsec_test_secret', b'1700000000.'+body, hashlib.sha256).hexdigest())"
    /// ```
    #[test]
    fn stripe_python_hmac_vector() {
        let body = crate::fixtures::get("stripe", "customer.created")
            .expect("fixture")
            .body;
        let expected = "0e9e467d18832f25fee8f0150faa7d1368d004101edf6260f243b48b803ff952";
        let stripe = Stripe::new("whsec_test_secret").expect("secret");
        let header = format!("t=1700000000,v1={expected}");
        let headers = [("stripe-signature", header.as_str())];
        let opened = stripe
            .open(&headers, body, 1_700_000_100)
            .expect("verifies");
        assert_eq!(opened.delivery_id.as_str(), "evt_1NG8Du2eZvKYlo2CUI79vXWy");
        assert_eq!(
            stripe
                .sign_headers(1_700_000_000, body)
                .get("stripe-signature"),
            Some(header.as_str())
        );
        // A rolled secret: two v1 entries, and a v0 that is ignored.
        let rolled = format!("t=1700000000,v1={},v1={expected},v0=00", "ab".repeat(32));
        assert!(
            stripe
                .authenticate(
                    &[("stripe-signature", rolled.as_str())],
                    body,
                    1_700_000_000
                )
                .is_ok()
        );
        // Stale past the 300 s tolerance.
        assert!(stripe.authenticate(&headers, body, 1_700_000_301).is_err());
    }
}
