//! GitHub in the provider catalogue (feature `fixtures`): its description, signer and sample
//! bodies.

use super::{Event, GitHub, SIGNATURE_HEADER};
use crate::provider::entry::{Entry, SignRequest, catalog_entry};
use crate::provider::sample::{CONSTRUCTED as C, Fixture, fixtures};
use crate::{ConfigError, scheme::SignedHeaders};

/// GitHub's catalogue entry.
pub static CATALOG: Entry = catalog_entry! {
    GitHub: "GitHub", "X-Hub-Signature-256: sha256=<hex>, HMAC-SHA256 of the body",
    secret "GITHUB_WEBHOOK_SECRET" = DEMO_SECRET, "the webhook's secret, any string, used as given",
    signature [SIGNATURE_HEADER], events Event::TYPES, fixtures FIXTURES, sign sign
};

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

/// Every fixture; the first of each event type is its sample. Written from GitHub's
/// documented payload fields.
const FIXTURES: &[Fixture] = fixtures!("github":
    ("ping", "ping", C),
    ("push", "push", C),
    ("pull_request", "pull_request.opened", C),
    ("issues", "issues.opened", C),
);

/// The demo secret: GitHub's documented example secret (public: tests and demos only).
pub(crate) const DEMO_SECRET: &str = "It's a Secret to Everybody";
