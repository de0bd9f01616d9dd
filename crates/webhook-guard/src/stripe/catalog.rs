//! Stripe in the provider catalogue (feature `fixtures`): its description, signer and sample
//! bodies.

use super::{Event, SIGNATURE_HEADER, Stripe};
use crate::provider::entry::{Entry, SignRequest, catalog_entry};
use crate::provider::sample::{CONSTRUCTED as C, Fixture, Origin, fixtures};
use crate::{ConfigError, scheme::SignedHeaders};

/// Stripe's catalogue entry.
pub static CATALOG: Entry = catalog_entry! {
    Stripe: "Stripe", "Stripe-Signature: t=<unix>,v1=<hex>, HMAC-SHA256 of t.body",
    secret "STRIPE_WEBHOOK_SECRET" = DEMO_SECRET, "the endpoint's signing secret, whsec_..., used as given",
    signature [SIGNATURE_HEADER], events Event::TYPES, fixtures FIXTURES, sign sign
};

/// Signs as Stripe does (the delivery id is the body's `id`, so the request's is not sent).
fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Ok(Stripe::new(secret)?.sign_headers(request.timestamp, request.body))
}

/// Every fixture; the first of each event type is its sample. Written from Stripe's
/// documented event object; `customer.created` is the body of the known-answer vector in
/// this module's tests (`stripe::tests`).
const FIXTURES: &[Fixture] = fixtures!("stripe":
    ("customer.created", "customer.created", Origin::KnownAnswer),
    ("customer.updated", "customer.updated", C),
    ("invoice.paid", "invoice.paid", C),
);

/// The demo secret (public: tests and demos only).
pub(crate) const DEMO_SECRET: &str = "whsec_test_secret";
