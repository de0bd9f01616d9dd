//! Stripe in the provider catalogue (feature `fixtures`): its description, signer and sample
//! bodies.

use std::sync::Arc;

use super::{DELIVERY_ID, Event, SIGNATURE_HEADER, Stripe};
use crate::{
    ConfigError,
    catalog::{Config, Entry, SecretInfo, SignRequest},
    fixtures::{Fixture, Origin, fixture},
    provider::AnyProvider,
    scheme::SignedHeaders,
};

/// Stripe's catalogue entry.
pub static CATALOG: Entry = Entry {
    name: Stripe::NAME,
    title: "Stripe",
    scheme: "Stripe-Signature: t=<unix>,v1=<hex>, HMAC-SHA256 of t.body",
    secret: SecretInfo {
        variable: "STRIPE_WEBHOOK_SECRET",
        form: "the endpoint's signing secret, whsec_..., used as given",
        demo: DEMO_SECRET,
    },
    signature_headers: &[SIGNATURE_HEADER],
    signs_timestamp: true,
    key_forms: &[],
    delivery_id: &DELIVERY_ID,
    dedup_id: None,
    event_types: Event::TYPES,
    fixtures: FIXTURES,
    build,
    sign,
};

/// The demo secret (public: tests and demos only).
pub(crate) const DEMO_SECRET: &str = "whsec_test_secret";

fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(true, false, false)?;
    let mut builder = Stripe::builder().secret(config.secret.as_str());
    if let Some(tolerance) = config.tolerance {
        builder = builder.tolerance(tolerance);
    }
    Ok(Arc::new(builder.build()?))
}

/// Signs as Stripe does (the delivery id is the body's `id`, so the request's is not sent).
fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Ok(Stripe::new(secret)?.sign_headers(request.timestamp, request.body))
}

const C: Origin = Origin::Constructed;

/// Every fixture; the first of each event type is its sample. Written from Stripe's
/// documented event object; `customer.created` is the body of the known-answer vector in
/// this module's tests (`stripe::tests`).
const FIXTURES: &[Fixture] = &[
    fixture!("stripe", "customer.created", "customer.created", Origin::KnownAnswer),
    fixture!("stripe", "customer.updated", "customer.updated", C),
    fixture!("stripe", "invoice.paid", "invoice.paid", C),
];
