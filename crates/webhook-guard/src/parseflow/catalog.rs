//! ParseFlow in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use super::{Event, ParseFlow, SIGNATURE_HEADER, EVENT_HEADER};
use crate::provider::entry::{Entry, SignRequest, catalog_entry};
use crate::provider::sample::{CONSTRUCTED as C, Fixture, Origin, filled, fixtures};
use crate::{ConfigError, event::WebhookEvent, scheme::SignedHeaders};

/// ParseFlow's catalogue entry.
pub static CATALOG: Entry = catalog_entry! {
    ParseFlow: "ParseFlow", "HMAC-SHA256 of the body, hex",
    secret "PARSEFLOW_WEBHOOK_SECRET" = DEMO_SECRET, "whsec_..., used as given",
    signature [SIGNATURE_HEADER], events Event::TYPES, fixtures FIXTURES, sign sign
};

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    let parseflow = ParseFlow::new(secret)?;
    // `X-ParseFlow-Event` names the body's type; left out when there is none to name.
    let from_body = Event::from_json(request.body).ok();
    let event_type = request
        .event_type
        .or_else(|| from_body.as_ref().map(WebhookEvent::event_type));
    let mut headers = parseflow.sign_headers(
        request.delivery_id,
        event_type.unwrap_or_default(),
        request.body,
    );
    if event_type.is_none() {
        headers.remove(EVENT_HEADER);
    }
    Ok(headers)
}

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = fixtures!("parseflow":
    // ParseFlow. Only `extraction.completed` has an example; the other payloads are
    // undocumented.
    ("extraction.completed", "extraction.completed", filled!(PARSEFLOW_PAGE, "parseflow/extraction.completed")),
    ("extraction.failed", "extraction.failed", C),
    ("batch.completed", "batch.completed", C),
    ("batch.failed", "batch.failed", C),
    ("quota.warning", "quota.warning", Origin::KnownAnswer),
    ("quota.exceeded", "quota.exceeded", C),
);

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";

const PARSEFLOW_PAGE: &str = "parseflow-webhooks.md";
