//! GitHub: repository, organisation and app webhooks.
//!
//! GitHub signs the raw body with HMAC-SHA256 keyed with the webhook's secret, and sends
//! `X-Hub-Signature-256: sha256=<lowercase hex>`. It sends no timestamp. Each delivery carries
//! `X-GitHub-Delivery` (a GUID, kept on redeliveries) and the event name in `X-GitHub-Event`
//! (`push`, `pull_request`, ...); the body's `action` says what happened (`opened`, ...).
//!
//! Neither header is covered by the signature. So [`GitHub`] keeps `X-GitHub-Delivery` as the
//! delivery id (for logs and handlers) but deduplicates by the SHA-256 of the signed body: a
//! replay of a captured body under a fresh GUID is a duplicate, and a GUID guessed ahead of a
//! real delivery cannot pre-claim it. GitHub does not retry failed deliveries by itself; a
//! redelivery (from the settings page or the API) resends the same body.
//!
//! The event model is the envelope every event shares ([`Payload`]: event name, `action`,
//! `sender`, `repository`, `organization`, `installation`) with the whole body kept raw; the
//! per-event payloads are not modeled here.
//!
//! ```
//! use webhook_guard::{github::{Event, GitHub}, prelude::*};
//!
//! let github = GitHub::new("It's a Secret to Everybody")?;
//! let body = br#"{"zen":"Keep it logically awesome.","hook_id":1,"sender":{"login":"octocat","id":1}}"#;
//! let headers = github.sign_headers("72d3162e-cc78-11e3-81ab-4c9367dc0958", "ping", body);
//! let opened = github.open(&headers, body, 0)?;
//! assert_eq!(opened.delivery_id.as_str(), "72d3162e-cc78-11e3-81ab-4c9367dc0958");
//! let Event::Payload(payload) = &opened.event else { panic!("typed") };
//! assert_eq!(payload.event, "ping");
//! assert_eq!(payload.sender.as_ref().map(|s| s.login.as_str()), Some("octocat"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "fixtures")]
pub(crate) mod catalog;
mod event;

pub use event::{Account, Event, Installation, Payload, Repository};

#[cfg(feature = "fixtures")]
pub use catalog::CATALOG;

use crate::BodyHmac;
use crate::event::ParseError;
use crate::headers::{HeaderEntry, HeaderName, Headers};
use crate::provider::DeliveryIdRule;
use crate::scheme::SignedHeaders;

crate::declare_provider! {
    /// The GitHub provider. See the [module docs](self).
    pub struct GitHub("github") {
        scheme: BodyHmac = |builder| BodyHmac::builder().header(SIGNATURE_HEADER)
            .prefix(SIGNATURE_PREFIX).secrets(builder.keys.secrets).build(),
        /// GitHub's delivery id: the `X-GitHub-Delivery` header.
        delivery_id: DELIVERY_ID = DeliveryIdRule::Header(HeaderName::from_static(DELIVERY_HEADER)),
        /// What GitHub deliveries are deduplicated by: the SHA-256 of the signed body (the delivery
        /// header is outside the signature).
        dedup_id: DEDUP_ID = DeliveryIdRule::BodyDigest,
        event: Event = |headers, body| Event::from_json(event_name(headers)?, body),
    }
    /// Configuration of a [`GitHub`] provider.
    pub struct GitHubBuilder;
}

impl GitHub {
    /// The headers GitHub would send for `body`: the signature (by the first secret: the
    /// header carries one MAC), the delivery GUID and the event name.
    #[must_use]
    pub fn sign_headers(&self, delivery_id: &str, event: &str, body: &[u8]) -> SignedHeaders {
        self.scheme.sign_headers(body).with(DELIVERY_HEADER, delivery_id).with(EVENT_HEADER, event)
    }
}

/// The event name of `X-GitHub-Event`, which names the body's event.
///
/// # Errors
/// [`ParseError::MissingEventType`] without a usable `X-GitHub-Event`.
fn event_name(headers: &dyn Headers) -> Result<&str, ParseError> {
    static EVENT_HEADER_NAME: HeaderName = HeaderName::from_static(EVENT_HEADER);
    let missing = || ParseError::MissingEventType {
        source: EVENT_HEADER,
    };
    let name = match headers.entry(&EVENT_HEADER_NAME) {
        HeaderEntry::Single(value) => std::str::from_utf8(value).map_err(|_| missing())?,
        HeaderEntry::Absent | HeaderEntry::Repeated => return Err(missing()),
    };
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(missing());
    }
    Ok(name)
}

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// The signature's prefix.
pub const SIGNATURE_PREFIX: &str = "sha256=";
/// The delivery GUID header.
pub const DELIVERY_HEADER: &str = "x-github-delivery";
/// The event name header.
pub const EVENT_HEADER: &str = "x-github-event";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Authenticator as _;

    /// GitHub's documented example: secret `It's a Secret to Everybody`, body `Hello, World!`.
    #[test]
    fn github_documented_vector() {
        let github = GitHub::new("It's a Secret to Everybody").expect("secret");
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let headers = [
            ("x-hub-signature-256", signature),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("x-github-event", "ping"),
        ];
        assert!(github.authenticate(&headers, b"Hello, World!", 0).is_ok());
        assert_eq!(
            github
                .sign_headers("d", "ping", b"Hello, World!")
                .get("x-hub-signature-256"),
            Some(signature)
        );
        assert!(github.authenticate(&headers, b"Hello, World?", 0).is_err());
    }
}
