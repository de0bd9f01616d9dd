//! Parallel in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use std::sync::Arc;

use super::{DEFAULT_KEY_FORMS, Event, Parallel};
use crate::provider::entry::{Config, Entry, SignRequest, catalog_entry};
use crate::provider::sample::{CONSTRUCTED as C, Fixture, Origin, filled, fixtures};
use crate::{ConfigError, provider::AnyProvider, scheme::SignedHeaders};

/// Parallel's catalogue entry.
pub static CATALOG: Entry = catalog_entry! {
    Parallel: "Parallel", "Standard Webhooks v1: HMAC-SHA256 of id.timestamp.body, base64",
    secret "PARALLEL_WEBHOOK_SECRET" = DEMO_SECRET, "whsec_ + base64 (current form), or the whole string as the key (legacy form)",
    signature ["webhook-signature"], events Event::TYPES, fixtures FIXTURES, sign sign,
    build build, key forms DEFAULT_KEY_FORMS.as_slice()
};

/// Parallel's options: the key forms and the tolerance.
fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(true, true, false)?;
    let forms = config.key_forms.clone();
    let forms = forms.unwrap_or_else(|| DEFAULT_KEY_FORMS.to_vec());
    let mut builder = Parallel::builder().key_forms(forms);
    if let Some(tolerance) = config.tolerance {
        builder = builder.tolerance(tolerance);
    }
    Ok(Arc::new(builder.secret(config.secret.as_str()).build()?))
}

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Parallel::new(secret)?.sign_headers(request.delivery_id, request.timestamp, request.body)
}

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = fixtures!("parallel":
    // Parallel: Task API.
    ("task_run.status", "task_run.status", C),
    ("task_run.status", "task_run.status.failed_details", C),
    // Parallel: FindAll API. The page's `generated` example is the older candidate form: no
    // `findall_id`, `output` and `basis` null.
    ("findall.candidate.generated", "findall.candidate.generated", FINDALL),
    ("findall.candidate.generated", "findall.candidate.generated.current", C),
    ("findall.candidate.matched", "findall.candidate.matched", FINDALL),
    ("findall.candidate.unmatched", "findall.candidate.unmatched", filled!(FINDALL_PAGE, "parallel/findall.candidate.unmatched")),
    ("findall.candidate.enriched", "findall.candidate.enriched", C),
    ("findall.candidate.cancelled", "findall.candidate.cancelled", C),
    ("findall.run.completed", "findall.run.completed", FINDALL),
    ("findall.run.cancelled", "findall.run.cancelled", FINDALL),
    ("findall.run.failed", "findall.run.failed", FINDALL),
    // Parallel: Monitor API.
    ("monitor.event.detected", "monitor.event.detected", MONITOR),
    ("monitor.execution.completed", "monitor.execution.completed", MONITOR),
    ("monitor.execution.failed", "monitor.execution.failed", MONITOR),
);

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const FINDALL_PAGE: &str = "parallel-findall-webhooks.md";
const MONITOR_PAGE: &str = "parallel-monitor-webhooks.md";
const FINDALL: Origin = Origin::Verbatim { page: FINDALL_PAGE };
const MONITOR: Origin = Origin::Verbatim { page: MONITOR_PAGE };
