//! [`Fixture`]: one sample delivery body of a provider, and where it comes from ([`Origin`])
//! (feature `fixtures`). The [`fixtures`](crate::fixtures) module lists and finds them.

/// Where a fixture comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A JSON example of a provider page, byte for byte (indentation of the page's code block
    /// removed).
    Verbatim {
        /// The sender's documentation page (its name in `docs/providers.md`).
        page: &'static str,
    },
    /// An example of a provider page that elides parts with `...` (so it is not JSON), with
    /// those parts filled in and every other byte unchanged.
    PlaceholdersFilled {
        /// The sender's documentation page (its name in `docs/providers.md`).
        page: &'static str,
        /// The example as the page shows it.
        original: &'static [u8],
    },
    /// The body of a known-answer vector (`tests/vectors/known_answers.json`, `tests/known_answers.rs`).
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

/// A [`Fixture`] of `crates/webhook-guard/fixtures/<provider>/<name>.json`.
#[allow(unused_macros)] // With no provider feature on, nothing uses it.
macro_rules! fixture {
    ($provider:literal, $event_type:literal, $name:literal, $origin:expr) => {
        $crate::provider::sample::Fixture {
            provider: $provider,
            event_type: $event_type,
            name: $name,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/",
                $provider,
                "/",
                $name,
                ".json"
            )),
            origin: $origin,
        }
    };
}
#[allow(unused_imports)]
pub(crate) use fixture;

/// [`Origin::PlaceholdersFilled`] from `page`, whose example as the page shows it is
/// `crates/webhook-guard/fixtures/docs/<example>.json`.
#[allow(unused_macros)] // With no provider feature on, nothing uses it.
macro_rules! filled {
    ($page:expr, $example:literal) => {
        $crate::provider::sample::Origin::PlaceholdersFilled {
            page: $page,
            original: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/docs/",
                $example,
                ".json"
            )),
        }
    };
}
#[allow(unused_imports)]
pub(crate) use filled;

/// The [`Fixture`]s of one provider, one `(event type, name, origin)` a line.
#[allow(unused_macros)] // With no provider feature on, nothing uses it.
macro_rules! fixtures {
    ($provider:literal: $(($event_type:literal, $name:literal, $origin:expr)),* $(,)?) => {
        &[$($crate::provider::sample::fixture!($provider, $event_type, $name, $origin)),*]
    };
}
#[allow(unused_imports)]
pub(crate) use fixtures;

/// [`Origin::Constructed`], short: most fixtures are.
#[allow(dead_code)] // With no provider feature on, nothing uses it.
pub(crate) const CONSTRUCTED: Origin = Origin::Constructed;
