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
