//! Sixtyfour in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use std::sync::Arc;

use super::{DELIVERY_ID, Event, Sixtyfour, SIGNATURE_HEADER, DEDUP_ID};
use crate::{
    ConfigError,
    catalog::{Config, Entry, SecretInfo, SignRequest},
    fixtures::{Fixture, Origin, fixture},
    provider::AnyProvider,
    scheme::SignedHeaders,
};

/// Sixtyfour's catalogue entry.
pub static CATALOG: Entry = Entry {
    name: Sixtyfour::NAME,
    title: "Sixtyfour",
    scheme: "t=<unix>,v1=<hex>: HMAC-SHA256 of t.body",
    secret: SecretInfo {
        variable: "SIXTYFOUR_WEBHOOK_SECRET",
        form: "sk_whsec_ + 64 hex digits, used as given",
        demo: DEMO_SECRET,
    },
    signature_headers: &[SIGNATURE_HEADER],
    signs_timestamp: true,
    key_forms: &[],
    delivery_id: &DELIVERY_ID,
    dedup_id: Some(&DEDUP_ID),
    event_types: Event::TYPES,
    fixtures: FIXTURES,
    build,
    sign,
};

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(true, false, true)?;
    let mut builder = Sixtyfour::builder()
        .secret(config.secret.as_str())
        .allow_unsigned(config.allow_unsigned);
    if let Some(tolerance) = config.tolerance {
        builder = builder.tolerance(tolerance);
    }
    Ok(Arc::new(builder.build()?))
}

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Ok(Sixtyfour::new(secret)?.sign_headers(request.delivery_id, request.timestamp, request.body))
}

const C: Origin = Origin::Constructed;

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = &[
    // Sixtyfour. The page's examples did not survive; the failed body is the known-answer one.
    fixture!("sixtyfour", "completed", "completed.find_email", C),
    // The find-email API reference's shape: three-element tuples with the validation status
    // (`OK`, `UNKNOWN`) and the email type, and `PERSONAL` mode's `personal_email` list.
    fixture!(
        "sixtyfour",
        "completed",
        "completed.find_email.three_tuple",
        C
    ),
    fixture!(
        "sixtyfour",
        "completed",
        "completed.find_email.personal",
        C
    ),
    fixture!(
        "sixtyfour",
        "completed",
        "completed.company_intelligence",
        C
    ),
    fixture!("sixtyfour", "failed", "failed", Origin::KnownAnswer),
];
