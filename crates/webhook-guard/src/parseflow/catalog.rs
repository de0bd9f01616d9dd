//! ParseFlow in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use std::sync::Arc;

use super::{DELIVERY_ID, Event, ParseFlow, SIGNATURE_HEADER, DEDUP_ID, EVENT_HEADER};
use crate::{
    ConfigError,
    catalog::{Config, Entry, SecretInfo, SignRequest},
    event::WebhookEvent,
    fixtures::{Fixture, Origin, fixture},
    provider::AnyProvider,
    scheme::SignedHeaders,
};

/// ParseFlow's catalogue entry.
pub static CATALOG: Entry = Entry {
    name: ParseFlow::NAME,
    title: "ParseFlow",
    scheme: "HMAC-SHA256 of the body, hex",
    secret: SecretInfo {
        variable: "PARSEFLOW_WEBHOOK_SECRET",
        form: "whsec_..., used as given",
        demo: DEMO_SECRET,
    },
    signature_headers: &[SIGNATURE_HEADER],
    signs_timestamp: false,
    key_forms: &[],
    delivery_id: &DELIVERY_ID,
    dedup_id: Some(&DEDUP_ID),
    event_types: Event::TYPES,
    fixtures: FIXTURES,
    build,
    sign,
};

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";

fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(false, false, false)?;
    Ok(Arc::new(ParseFlow::new(config.secret.as_str())?))
}

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

const PARSEFLOW_PAGE: &str = "parseflow-webhooks.md";
const C: Origin = Origin::Constructed;

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = &[
    // ParseFlow. Only `extraction.completed` has an example; the other payloads are
    // undocumented.
    fixture!(
        "parseflow",
        "extraction.completed",
        "extraction.completed",
        Origin::PlaceholdersFilled {
            page: PARSEFLOW_PAGE,
            original: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/docs/parseflow/extraction.completed.json")),
        }
    ),
    fixture!("parseflow", "extraction.failed", "extraction.failed", C),
    fixture!("parseflow", "batch.completed", "batch.completed", C),
    fixture!("parseflow", "batch.failed", "batch.failed", C),
    fixture!(
        "parseflow",
        "quota.warning",
        "quota.warning",
        Origin::KnownAnswer
    ),
    fixture!("parseflow", "quota.exceeded", "quota.exceeded", C),
];
