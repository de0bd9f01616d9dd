//! The provider catalogue (feature `fixtures`): every built-in provider described once, as
//! data, for the tools that work with any of them — the CLI's `sign`, `send`, `verify`,
//! `samples` and `demo`, the fixtures, the conformance harness and the fuzz targets.
//!
//! Each provider's entry lives in its own module (`parallel::CATALOG`, ...); the one list of
//! providers is the `with_providers!` list in the crate root, which this module reads. A
//! receiver never needs the catalogue: it is built from a provider value, as in the
//! [crate docs](crate).
//!
//! ```
//! use webhook_guard::{catalog, provider::Authenticator as _};
//!
//! let github = catalog::get("github").expect("built in");
//! assert_eq!(github.signature_headers, ["x-hub-signature-256"]);
//! let provider = (github.build)(&catalog::Config::new(github.secret.demo))?;
//! let fixture = github.fixtures.first().expect("samples");
//! let headers = (github.sign)(github.secret.demo, &catalog::SignRequest::new("d-1", 0, fixture))?;
//! assert!(provider.authenticate(&headers, fixture.body, 0).is_ok());
//! assert_eq!(provider.delivery_id(&headers, fixture.body)?.as_str(), "d-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::provider::entry::{Config, Entry, SecretInfo, SignRequest, build_declared};

/// Every built-in provider, in the order of the registry.
#[must_use]
pub fn all() -> &'static [&'static Entry] {
    REGISTRY
}

/// The entry named `name`.
#[must_use]
pub fn get(name: &str) -> Option<&'static Entry> {
    all().iter().copied().find(|entry| entry.name == name)
}

/// The names of every built-in provider, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    all().iter().map(|entry| entry.name)
}

/// Lists each built-in provider's catalogue entry, from the crate root's list of providers.
macro_rules! registry {
    ($($module:ident: $feature:literal),+ $(,)?) => {
        /// Every built-in provider's catalogue entry, in order.
        const REGISTRY: &[&Entry] = &[$(#[cfg(feature = $feature)] &crate::$module::CATALOG,)+];
    };
}
crate::with_providers!(registry);
