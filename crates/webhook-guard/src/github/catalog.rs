//! GitHub in the provider catalogue (feature `fixtures`): its description, signer and sample
//! bodies.

use std::sync::Arc;

use super::{DEDUP_ID, DELIVERY_ID, Event, GitHub, SIGNATURE_HEADER};
use crate::{
    ConfigError,
    catalog::{Config, Entry, SecretInfo, SignRequest},
    fixtures::{Fixture, Origin, fixture},
    provider::AnyProvider,
    scheme::SignedHeaders,
};

/// GitHub's catalogue entry.
pub static CATALOG: Entry = Entry {
    name: GitHub::NAME,
    title: "GitHub",
    scheme: "X-Hub-Signature-256: sha256=<hex>, HMAC-SHA256 of the body",
    secret: SecretInfo {
        variable: "GITHUB_WEBHOOK_SECRET",
        form: "the webhook's secret, any string, used as given",
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

/// The demo secret: GitHub's documented example secret (public: tests and demos only).
pub(crate) const DEMO_SECRET: &str = "It's a Secret to Everybody";

fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(false, false, false)?;
    Ok(Arc::new(GitHub::new(config.secret.as_str())?))
}

/// Signs as GitHub does. A body does not name its event: the name is the request's, else the
/// fixture's whose body this is, else `ping`.
fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    let event = request
        .event_type
        .or_else(|| {
            FIXTURES
                .iter()
                .find(|fixture| request.body.starts_with(fixture.body))
                .map(|fixture| fixture.event_type)
        })
        .unwrap_or("ping");
    Ok(GitHub::new(secret)?.sign_headers(request.delivery_id, event, request.body))
}

const C: Origin = Origin::Constructed;

/// Every fixture; the first of each event type is its sample. Written from GitHub's
/// documented payload fields.
const FIXTURES: &[Fixture] = &[
    fixture!("github", "ping", "ping", C),
    fixture!("github", "push", "push", C),
    fixture!("github", "pull_request", "pull_request.opened", C),
    fixture!("github", "issues", "issues.opened", C),
];
