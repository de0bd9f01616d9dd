//! Sixtyfour in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use std::sync::Arc;

use super::{Event, SIGNATURE_HEADER, Sixtyfour};
use crate::provider::entry::{Config, Entry, SignRequest, catalog_entry};
use crate::provider::sample::{CONSTRUCTED as C, Fixture, Origin, fixtures};
use crate::{ConfigError, provider::AnyProvider, scheme::SignedHeaders};

/// Sixtyfour's catalogue entry.
pub static CATALOG: Entry = catalog_entry! {
    Sixtyfour: "Sixtyfour", "t=<unix>,v1=<hex>: HMAC-SHA256 of t.body",
    secret "SIXTYFOUR_WEBHOOK_SECRET" = DEMO_SECRET, "sk_whsec_ + 64 hex digits, used as given",
    signature [SIGNATURE_HEADER], events Event::TYPES, fixtures FIXTURES, sign sign, build build
};

/// Sixtyfour's options: unsigned deliveries, and the tolerance.
fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(true, false, true)?;
    let secret = config.secret.as_str();
    let builder = Sixtyfour::builder().allow_unsigned(config.allow_unsigned);
    let builder = match config.tolerance {
        Some(tolerance) => builder.tolerance(tolerance),
        None => builder,
    };
    Ok(Arc::new(builder.secret(secret).build()?))
}

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Ok(Sixtyfour::new(secret)?.sign_headers(request.delivery_id, request.timestamp, request.body))
}

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = fixtures!("sixtyfour":
    // Sixtyfour. The page's examples did not survive; the failed body is the known-answer one.
    ("completed", "completed.find_email", C),
    // The find-email API reference's shape: three-element tuples with the validation status
    // (`OK`, `UNKNOWN`) and the email type, and `PERSONAL` mode's `personal_email` list.
    ("completed", "completed.find_email.three_tuple", C),
    ("completed", "completed.find_email.personal", C),
    ("completed", "completed.company_intelligence", C),
    ("failed", "failed", Origin::KnownAnswer),
);

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
