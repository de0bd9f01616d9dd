//! Every documented sample payload of every provider, byte for byte, plus the variants the
//! documentation implies (feature `fixtures`).
//!
//! Shared by the tests, the CLI's `demo` and `send`, and the benchmarks. Each fixture says where
//! it comes from ([`Origin`]): copied verbatim from a provider page, copied with the page's
//! `...` placeholders filled in (the page's text is not JSON), taken from a known-answer vector
//! in `PROVIDERS.md`, or written for this crate after the documented field list.
//!
//! ```
//! use webhook_guard::fixtures;
//!
//! let sample = fixtures::sample("parallel", "findall.run.completed").expect("documented");
//! assert!(sample.body.starts_with(b"{"));
//! assert!(fixtures::ALL.iter().any(|f| f.provider == "fullenrich"));
//! ```

/// Where a fixture comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A JSON example of a provider page, byte for byte (indentation of the page's code block
    /// removed).
    Verbatim {
        /// The page, as named in `shared/seeds/`.
        page: &'static str,
    },
    /// An example of a provider page that elides parts with `...` (so it is not JSON), with
    /// those parts filled in and every other byte unchanged.
    PlaceholdersFilled {
        /// The page, as named in `shared/seeds/`.
        page: &'static str,
        /// The example as the page shows it.
        original: &'static [u8],
    },
    /// The body of a known-answer vector in `PROVIDERS.md`.
    KnownAnswer,
    /// Written for this crate from the documented field list, for an event the pages list
    /// without an example, or for a variant the documentation implies.
    Constructed,
}

/// One sample delivery body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fixture {
    /// The provider's name: `parallel`, `sixtyfour`, `fullenrich` or `parseflow`.
    pub provider: &'static str,
    /// The event type the body parses into.
    pub event_type: &'static str,
    /// A unique name within the provider (the file name without `.json`).
    pub name: &'static str,
    /// The body, byte for byte.
    pub body: &'static [u8],
    /// Where it comes from.
    pub origin: Origin,
}

macro_rules! fixture {
    ($provider:literal, $event_type:literal, $name:literal, $origin:expr) => {
        Fixture {
            provider: $provider,
            event_type: $event_type,
            name: $name,
            body: include_bytes!(concat!("../fixtures/", $provider, "/", $name, ".json")),
            origin: $origin,
        }
    };
}

const FINDALL_PAGE: &str = "parallel-findall-webhooks.md";
const MONITOR_PAGE: &str = "parallel-monitor-webhooks.md";
const FULLENRICH_PAGE: &str = "fullenrich-webhooks.md";
const PARSEFLOW_PAGE: &str = "parseflow-webhooks.md";
const C: Origin = Origin::Constructed;

/// Every fixture. The first fixture of each event type is its [`sample`].
pub const ALL: &[Fixture] = &[
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
            original: include_bytes!("../fixtures/docs/parallel/findall.candidate.unmatched.json"),
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
    // Sixtyfour. The page's examples did not survive; the failed body is the known-answer one.
    fixture!("sixtyfour", "completed", "completed.find_email", C),
    fixture!(
        "sixtyfour",
        "completed",
        "completed.company_intelligence",
        C
    ),
    fixture!("sixtyfour", "failed", "failed", Origin::KnownAnswer),
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
    fixture!(
        "fullenrich",
        "contact_finished",
        "contact_finished",
        Origin::PlaceholdersFilled {
            page: FULLENRICH_PAGE,
            original: include_bytes!("../fixtures/docs/fullenrich/contact_finished.json"),
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
    // ParseFlow. Only `extraction.completed` has an example; the other payloads are
    // undocumented.
    fixture!(
        "parseflow",
        "extraction.completed",
        "extraction.completed",
        Origin::PlaceholdersFilled {
            page: PARSEFLOW_PAGE,
            original: include_bytes!("../fixtures/docs/parseflow/extraction.completed.json"),
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

/// The providers that have fixtures, in the order of [`ALL`].
pub const PROVIDERS: &[&str] = &["parallel", "sixtyfour", "fullenrich", "parseflow"];

/// The fixtures of one provider.
pub fn of(provider: &str) -> impl Iterator<Item = &'static Fixture> + '_ {
    ALL.iter().filter(move |f| f.provider == provider)
}

/// The sample body of an event type: its first fixture.
#[must_use]
pub fn sample(provider: &str, event_type: &str) -> Option<&'static Fixture> {
    of(provider).find(|f| f.event_type == event_type)
}

/// A fixture by provider and name.
#[must_use]
pub fn get(provider: &str, name: &str) -> Option<&'static Fixture> {
    of(provider).find(|f| f.name == name)
}

/// The event types that have a sample, for one provider, in order and without repeats.
pub fn event_types(provider: &str) -> Vec<&'static str> {
    let mut types: Vec<&'static str> = Vec::new();
    for fixture in of(provider) {
        if !types.contains(&fixture.event_type) {
            types.push(fixture.event_type);
        }
    }
    types
}

/// A FullEnrich `batch_completed` body of `records` full enrichment records, compact JSON of
/// about 3 KiB per record (350 records make about 1 MiB), for benchmarks and load tests. Every
/// record differs in its custom id and work address.
#[must_use]
pub fn large_fullenrich_batch(records: usize) -> Vec<u8> {
    let template: serde_json::Value = get("fullenrich", "batch_completed")
        .and_then(|f| serde_json::from_slice(f.body).ok())
        .unwrap_or_default();
    let record = template["data"][0].clone();
    let data: Vec<serde_json::Value> = (0..records)
        .map(|i| {
            let mut record = record.clone();
            record["custom"]["user_id"] = serde_json::Value::from(format!("u{i:06}"));
            record["contact_info"]["most_probable_work_email"]["email"] =
                serde_json::Value::from(format!("contact.{i}@northwind.example"));
            record
        })
        .collect();
    let mut batch = template;
    batch["data"] = serde_json::Value::Array(data);
    serde_json::to_vec(&batch).unwrap_or_default()
}

/// The demo secrets of the example receivers (the known-answer secrets of `PROVIDERS.md`).
/// For tests and demos only: they are public.
pub mod demo {
    /// Parallel (`whsec_` + base64).
    pub const PARALLEL_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /// Sixtyfour (`sk_whsec_` + 64 hex).
    pub const SIXTYFOUR_SECRET: &str =
        "sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    /// FullEnrich (the API key).
    pub const FULLENRICH_API_KEY: &str = "fe_test_api_key";
    /// ParseFlow (`whsec_`, used as given).
    pub const PARSEFLOW_SECRET: &str = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";

    /// The demo secret of a provider.
    #[must_use]
    pub fn secret(provider: &str) -> Option<&'static str> {
        match provider {
            "parallel" => Some(PARALLEL_SECRET),
            "sixtyfour" => Some(SIXTYFOUR_SECRET),
            "fullenrich" => Some(FULLENRICH_API_KEY),
            "parseflow" => Some(PARSEFLOW_SECRET),
            _ => None,
        }
    }
}

/// The headers `provider` sends with `body`, signed with `secret` at `timestamp`: what the
/// tests, the examples and the CLI send to a receiver.
///
/// `delivery_id` becomes `webhook-id` (Parallel), `Sixtyfour-Event-Id` or
/// `X-ParseFlow-Delivery`; FullEnrich sends none. ParseFlow's `X-ParseFlow-Event` is read from
/// the body (left out if the body has no event type).
///
/// # Errors
/// [`ConfigError::InvalidName`](crate::ConfigError::InvalidName) for an unknown provider; the
/// provider's [`ConfigError`](crate::ConfigError) for an unusable secret.
pub fn sign(
    provider: &str,
    secret: &str,
    delivery_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<crate::SignedHeaders, crate::ConfigError> {
    use crate::event::WebhookEvent as _;
    Ok(match provider {
        "parallel" => {
            crate::parallel::Parallel::new(secret)?.sign_headers(delivery_id, timestamp, body)
        }
        "sixtyfour" => {
            crate::sixtyfour::Sixtyfour::new(secret)?.sign_headers(delivery_id, timestamp, body)
        }
        "fullenrich" => crate::fullenrich::FullEnrich::new(secret)?.sign_headers(body),
        "parseflow" => {
            let parseflow = crate::parseflow::ParseFlow::new(secret)?;
            match crate::parseflow::Event::from_json(body) {
                Ok(event) => parseflow.sign_headers(delivery_id, event.event_type(), body),
                Err(_) => {
                    let mut headers = parseflow.sign_headers(delivery_id, "", body);
                    headers.remove(crate::parseflow::EVENT_HEADER);
                    headers
                }
            }
        }
        other => {
            return Err(crate::ConfigError::InvalidName {
                name: other.to_owned(),
            });
        }
    })
}
