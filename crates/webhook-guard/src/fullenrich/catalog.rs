//! FullEnrich in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use super::{Event, FullEnrich, SIGNATURE_HEADER};
use crate::provider::entry::{Entry, SignRequest, catalog_entry};
use crate::provider::sample::{CONSTRUCTED as C, Fixture, Origin, filled, fixtures};
use crate::{ConfigError, scheme::SignedHeaders};

/// FullEnrich's catalogue entry.
pub static CATALOG: Entry = catalog_entry! {
    FullEnrich: "FullEnrich", "HMAC-SHA1 of the body, hex, keyed with the API key",
    secret "FULLENRICH_API_KEY" = DEMO_SECRET, "the account API key, used as given",
    signature [SIGNATURE_HEADER], events Event::TYPES, fixtures FIXTURES, sign sign
};

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Ok(FullEnrich::new(secret)?.sign_headers(request.body))
}

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = fixtures!("fullenrich":
    // FullEnrich.
    ("batch_completed", "batch_completed", C),
    ("batch_completed", "batch_completed.credits_insufficient", C),
    ("batch_completed", "batch_completed.empty", Origin::KnownAnswer),
    // A batch that differs from the docs in small places: one record's work email not found
    // (`"email": null`), one record's `work_emails` sent as an object (kept raw in its place),
    // and a `cost` without `credits`.
    ("batch_completed", "batch_completed.one_odd_record", C),
    ("contact_finished", "contact_finished", filled!(FULLENRICH_PAGE, "fullenrich/contact_finished")),
    ("contact_finished", "contact_finished.one_record", C),
    ("reverse_email_lookup", "reverse_email_lookup", C),
);

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "fe_test_api_key";

const FULLENRICH_PAGE: &str = "fullenrich-webhooks.md";
