//! Every documented sample payload of every provider, byte for byte, plus the variants the
//! documentation implies (feature `fixtures`).
//!
//! Shared by the tests, the CLI's `demo` and `send`, and the benchmarks. Each fixture says where
//! it comes from ([`Origin`]): copied verbatim from a provider page, copied with the page's
//! `...` placeholders filled in (the page's text is not JSON), taken from a known-answer vector,
//! or written for this crate after the documented field list. The pages are the senders'
//! documentation pages, named as the repository's `docs/providers.md` lists them.
//!
//! ```
//! use webhook_guard::fixtures;
//!
//! let sample = fixtures::sample("parallel", "findall.run.completed").expect("documented");
//! assert!(sample.body.starts_with(b"{"));
//! assert!(fixtures::all().any(|f| f.provider == "fullenrich"));
//! ```

pub use crate::provider::sample::{Fixture, Origin};

/// Every fixture of every provider of the [catalogue](crate::catalog), in its order. The first
/// fixture of each event type of a provider is its [`sample`].
pub fn all() -> impl Iterator<Item = &'static Fixture> {
    crate::catalog::all()
        .iter()
        .flat_map(|entry| entry.fixtures.iter())
}

/// The names of the providers, in the order of [`all`].
pub fn providers() -> impl Iterator<Item = &'static str> {
    crate::catalog::names()
}

/// The fixtures of one provider (none for a name the catalogue does not know).
pub fn of(provider: &str) -> impl Iterator<Item = &'static Fixture> {
    crate::catalog::get(provider)
        .map(|entry| entry.fixtures)
        .unwrap_or_default()
        .iter()
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

/// The demo secrets of the example receivers. For tests and demos only: they are public.
/// Every provider's is in its [catalogue entry](crate::catalog::SecretInfo::demo).
pub mod demo {
    /// Parallel (`whsec_` + base64).
    #[cfg(feature = "parallel")]
    pub const PARALLEL_SECRET: &str = crate::parallel::catalog::DEMO_SECRET;
    /// Sixtyfour (`sk_whsec_` + 64 hex).
    #[cfg(feature = "sixtyfour")]
    pub const SIXTYFOUR_SECRET: &str = crate::sixtyfour::catalog::DEMO_SECRET;
    /// FullEnrich (the API key).
    #[cfg(feature = "fullenrich")]
    pub const FULLENRICH_API_KEY: &str = crate::fullenrich::catalog::DEMO_SECRET;
    /// ParseFlow (`whsec_`, used as given).
    #[cfg(feature = "parseflow")]
    pub const PARSEFLOW_SECRET: &str = crate::parseflow::catalog::DEMO_SECRET;
    /// GitHub (any string, used as given).
    #[cfg(feature = "github")]
    pub const GITHUB_SECRET: &str = crate::github::catalog::DEMO_SECRET;
    /// Stripe (`whsec_`, used as given).
    #[cfg(feature = "stripe")]
    pub const STRIPE_SECRET: &str = crate::stripe::catalog::DEMO_SECRET;

    /// The demo secret of a provider of the catalogue.
    #[must_use]
    pub fn secret(provider: &str) -> Option<&'static str> {
        crate::catalog::get(provider).map(|entry| entry.secret.demo)
    }
}

/// The headers `provider` sends with `body`, signed with `secret` at `timestamp`: what the
/// tests, the examples and the CLI send to a receiver. The provider's catalogue entry signs
/// ([`Entry::sign`](crate::catalog::Entry::sign)); the event type, where a provider sends it
/// in a header, comes from the body.
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
    let entry = crate::catalog::get(provider).ok_or_else(|| crate::ConfigError::InvalidName {
        name: provider.to_owned(),
    })?;
    (entry.sign)(
        secret,
        &crate::catalog::SignRequest::body(delivery_id, timestamp, body),
    )
}
