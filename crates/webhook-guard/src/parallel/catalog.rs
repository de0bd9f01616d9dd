//! Parallel in the provider catalogue (feature `fixtures`): its description, signer and
//! sample bodies.

use std::sync::Arc;

use super::{DELIVERY_ID, Event, Parallel};
use crate::{
    ConfigError,
    catalog::{Config, Entry, SecretInfo, SignRequest},
    fixtures::{Fixture, Origin, fixture},
    provider::AnyProvider,
    scheme::SignedHeaders,
};

/// Parallel's catalogue entry.
pub static CATALOG: Entry = Entry {
    name: Parallel::NAME,
    title: "Parallel",
    scheme: "Standard Webhooks v1: HMAC-SHA256 of id.timestamp.body, base64",
    secret: SecretInfo {
        variable: "PARALLEL_WEBHOOK_SECRET",
        form: "whsec_ + base64 (current form), or the whole string as the key (legacy form)",
        demo: DEMO_SECRET,
    },
    signature_headers: &["webhook-signature"],
    signs_timestamp: true,
    key_forms: super::DEFAULT_KEY_FORMS.as_slice(),
    delivery_id: &DELIVERY_ID,
    dedup_id: None,
    event_types: Event::TYPES,
    fixtures: FIXTURES,
    build,
    sign,
};

/// The demo secret (public: for tests and demos only).
pub(crate) const DEMO_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn build(config: &Config) -> Result<Arc<dyn AnyProvider>, ConfigError> {
    config.check(true, true, false)?;
    let mut builder = Parallel::builder().secret(config.secret.as_str());
    if let Some(tolerance) = config.tolerance {
        builder = builder.tolerance(tolerance);
    }
    if let Some(forms) = &config.key_forms {
        builder = builder.key_forms(forms.iter().copied());
    }
    Ok(Arc::new(builder.build()?))
}

fn sign(secret: &str, request: &SignRequest<'_>) -> Result<SignedHeaders, ConfigError> {
    Parallel::new(secret)?.sign_headers(request.delivery_id, request.timestamp, request.body)
}

const FINDALL_PAGE: &str = "parallel-findall-webhooks.md";
const MONITOR_PAGE: &str = "parallel-monitor-webhooks.md";
const C: Origin = Origin::Constructed;

/// Every fixture; the first of each event type is its sample.
const FIXTURES: &[Fixture] = &[
    // Parallel: Task API.
    fixture!("parallel", "task_run.status", "task_run.status", C),
    fixture!(
        "parallel",
        "task_run.status",
        "task_run.status.failed_details",
        C
    ),
    // Parallel: FindAll API. The page's `generated` example is the older candidate form: no
    // `findall_id`, `output` and `basis` null.
    fixture!(
        "parallel",
        "findall.candidate.generated",
        "findall.candidate.generated",
        Origin::Verbatim { page: FINDALL_PAGE }
    ),
    fixture!(
        "parallel",
        "findall.candidate.generated",
        "findall.candidate.generated.current",
        C
    ),
    fixture!(
        "parallel",
        "findall.candidate.matched",
        "findall.candidate.matched",
        Origin::Verbatim { page: FINDALL_PAGE }
    ),
    fixture!(
        "parallel",
        "findall.candidate.unmatched",
        "findall.candidate.unmatched",
        Origin::PlaceholdersFilled {
            page: FINDALL_PAGE,
            original: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/docs/parallel/findall.candidate.unmatched.json")),
        }
    ),
    fixture!(
        "parallel",
        "findall.candidate.enriched",
        "findall.candidate.enriched",
        C
    ),
    fixture!(
        "parallel",
        "findall.candidate.cancelled",
        "findall.candidate.cancelled",
        C
    ),
    fixture!(
        "parallel",
        "findall.run.completed",
        "findall.run.completed",
        Origin::Verbatim { page: FINDALL_PAGE }
    ),
    fixture!(
        "parallel",
        "findall.run.cancelled",
        "findall.run.cancelled",
        Origin::Verbatim { page: FINDALL_PAGE }
    ),
    fixture!(
        "parallel",
        "findall.run.failed",
        "findall.run.failed",
        Origin::Verbatim { page: FINDALL_PAGE }
    ),
    // Parallel: Monitor API.
    fixture!(
        "parallel",
        "monitor.event.detected",
        "monitor.event.detected",
        Origin::Verbatim { page: MONITOR_PAGE }
    ),
    fixture!(
        "parallel",
        "monitor.execution.completed",
        "monitor.execution.completed",
        Origin::Verbatim { page: MONITOR_PAGE }
    ),
    fixture!(
        "parallel",
        "monitor.execution.failed",
        "monitor.execution.failed",
        Origin::Verbatim { page: MONITOR_PAGE }
    ),
];
