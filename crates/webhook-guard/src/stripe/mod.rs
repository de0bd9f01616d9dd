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
// Runs Stripe's Python SDK in a child process: not on WebAssembly, which starts no processes
// (the native run of the same tests is the cross-check).
#[cfg(all(test, feature = "fixtures", not(target_family = "wasm")))]
mod sdk_tests;

pub use event::{Event, EventData, EventEnvelope, EventRequest};

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::TimestampedHmac;
use crate::provider::DeliveryIdRule;
use crate::scheme::{DEFAULT_TOLERANCE, SignedHeaders};

crate::declare_provider! {
    /// The Stripe provider. See the [module docs](self).
    pub struct Stripe("stripe") {
        scheme: TimestampedHmac = |builder| TimestampedHmac::builder().header(SIGNATURE_HEADER)
            .tolerance(builder.keys.tolerance).secrets(builder.keys.secrets).build(),
        tolerance: DEFAULT_TOLERANCE,
        /// Stripe's delivery id: the event's `id`, in the signed body.
        delivery_id: DELIVERY_ID = DeliveryIdRule::BodyField("id"),
        event: Event = |_, body| Event::from_json(body),
    }
    /// Configuration of a [`Stripe`] provider.
    pub struct StripeBuilder;
}

impl Stripe {
    /// The header Stripe would send for `body` signed at `timestamp`: one `v1` per secret, as
    /// during a roll.
    #[must_use]
    pub fn sign_headers(&self, timestamp: i64, body: &[u8]) -> SignedHeaders {
        self.scheme.sign_headers(timestamp, body)
    }
}

/// The signature header.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

#[cfg(all(test, feature = "fixtures"))]
mod tests {
    use super::*;
    use crate::{Authenticator as _, Provider as _};

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
