//! FullEnrich in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use std::sync::Arc;

use super::{DELIVERY_ID, Event, FullEnrich, SIGNATURE_HEADER};
use crate::{
    ConfigError,
    catalog::{Config, Entry, SecretInfo, SignRequest},
    fixtures::{Fixture, Origin, fixture},
    provider::AnyProvider,
    scheme::SignedHeaders,
};

/// FullEnrich's catalogue entry.
pub static CATALOG: Entry = Entry {
    name: FullEnrich::NAME,
    title: "FullEnrich",
    scheme: "HMAC-SHA1 of the body, hex, keyed with the API key",
    secret: SecretInfo {
        variable: "FULLENRICH_API_KEY",
        form: "the account API key, used as given",
        demo: DEMO_SECRET,
    },
    signature_headers: &[SIGNATURE_HEADER],
    signs_timestamp: false,
    key_forms: &[],
    delivery_id: &DELIVERY_ID,
    dedup_id: None,
    event_types: Event::TYPES,
    fixtures: FIXTURES,
    build,
    sign,
};

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "fe_test_api_key";

fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(false, false, false)?;
    Ok(Arc::new(FullEnrich::new(config.secret.as_str())?))
}

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Ok(FullEnrich::new(secret)?.sign_headers(request.body))
}

const FULLENRICH_PAGE: &str = "fullenrich-webhooks.md";
const C: Origin = Origin::Constructed;

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = &[
    // FullEnrich.
    fixture!("fullenrich", "batch_completed", "batch_completed", C),
    fixture!(
        "fullenrich",
        "batch_completed",
        "batch_completed.credits_insufficient",
        C
    ),
    fixture!(
        "fullenrich",
        "batch_completed",
        "batch_completed.empty",
        Origin::KnownAnswer
    ),
    // A batch that differs from the docs in small places: one record's work email not found
    // (`"email": null`), one record's `work_emails` sent as an object (kept raw in its place),
    // and a `cost` without `credits`.
    fixture!(
        "fullenrich",
        "batch_completed",
        "batch_completed.one_odd_record",
        C
    ),
    fixture!(
        "fullenrich",
        "contact_finished",
        "contact_finished",
        Origin::PlaceholdersFilled {
            page: FULLENRICH_PAGE,
            original: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/docs/fullenrich/contact_finished.json")),
        }
    ),
    fixture!(
        "fullenrich",
        "contact_finished",
        "contact_finished.one_record",
        C
    ),
    fixture!(
        "fullenrich",
        "reverse_email_lookup",
        "reverse_email_lookup",
        C
    ),
];
