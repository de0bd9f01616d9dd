//! A provider defined outside webhook-guard, from its public API only: a Slack-style sender.
//!
//! The sender signs `v0:<timestamp>:<body>` with HMAC-SHA256 and sends
//! `X-Slack-Signature: v0=<hex>` with the timestamp in `X-Slack-Request-Timestamp`; deliveries
//! more than 300 s from the receiver's clock are refused. The delivery id is the body's
//! `event_id` (signed), or the body's SHA-256 for bodies without one (the URL check). Its
//! events get the same forward-compatibility rules as the built-in providers: unknown types
//! are kept in `Unknown`, known ones that do not fit in `Unparsed`.
//!
//! Run it with `cargo run -p webhook-guard-examples --example custom_provider`: it serves the
//! provider behind the tower layer on a loopback port, sends itself one signed event twice
//! and a forged one, and prints the answers. `cargo test -p webhook-guard-examples --example
//! custom_provider` runs its tests.

use axum::{Router, http::StatusCode, routing::post};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use webhook_guard::{
    Authenticity, ConfigError, ParseError, Receiver, Secret, SignedHeaders, VerifyError,
    WebhookEvent,
    event::{RawJson, UnknownEvent, UnparsedEvent, raw_body},
    headers::{HeaderEntry, HeaderName, Headers},
    provider::DeliveryIdRule,
    scheme::{KeyForm, Verified},
};
use webhook_guard_tower::{Webhook, WebhookGuardLayer};

static SIGNATURE: HeaderName = HeaderName::from_static("x-slack-signature");
static TIMESTAMP: HeaderName = HeaderName::from_static("x-slack-request-timestamp");
const TOLERANCE_SECONDS: i64 = 300;

/// The keys: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` with any of the secrets.
#[derive(Debug, Clone)]
pub struct SlackScheme {
    secrets: Vec<Secret>,
}

impl SlackScheme {
    /// The keys of `secrets`, first to last.
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] without a secret, [`ConfigError::EmptySecret`] for an empty one.
    fn new(secrets: Vec<Secret>) -> Result<Self, ConfigError> {
        if secrets.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        if secrets.iter().any(Secret::is_empty) {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Self { secrets })
    }

    /// The MAC of one delivery; `None` only if the key were refused, which HMAC never does
    /// (it takes keys of any length).
    fn mac(secret: &Secret, timestamp: &[u8], body: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose()).ok()?;
        mac.update(b"v0:");
        mac.update(timestamp);
        mac.update(b":");
        mac.update(body);
        Some(mac)
    }
}

/// One header's value, or why it is unusable.
fn single<'a>(headers: &'a dyn Headers, name: &HeaderName) -> Result<&'a [u8], VerifyError> {
    match headers.entry(name) {
        HeaderEntry::Single(value) => Ok(value),
        HeaderEntry::Absent => Err(VerifyError::MissingHeader {
            name: name.as_str().to_owned(),
        }),
        HeaderEntry::Repeated => Err(VerifyError::RepeatedHeader {
            name: name.as_str().to_owned(),
        }),
    }
}

/// Whether a delivery is authentic: the provider's `authenticate` (its keys are not one of
/// the crate's schemes). A stale timestamp, a missing or malformed header and a wrong MAC are
/// each refused with their own [`VerifyError`].
fn authenticate(
    scheme: &SlackScheme,
    headers: &dyn Headers,
    body: &[u8],
    now: i64,
) -> Result<Authenticity, VerifyError> {
    let raw_timestamp = single(headers, &TIMESTAMP)?;
    let timestamp: i64 = std::str::from_utf8(raw_timestamp)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
        .ok_or(VerifyError::InvalidTimestamp)?;
    let skew = now.saturating_sub(timestamp);
    if skew.unsigned_abs() > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(VerifyError::TimestampOutOfTolerance {
            skew_seconds: skew,
            tolerance_seconds: TOLERANCE_SECONDS.unsigned_abs(),
        });
    }
    let signature = single(headers, &SIGNATURE)?;
    let hex_mac = signature
        .strip_prefix(b"v0=")
        .ok_or(VerifyError::NoSupportedSignature)?;
    let mut candidate = [0_u8; 32];
    hex::decode_to_slice(hex_mac, &mut candidate).map_err(|_| VerifyError::MalformedHeader {
        name: SIGNATURE.as_str().to_owned(),
        reason: "not 64 hex digits after v0=",
    })?;
    scheme
        .secrets
        .iter()
        .position(|secret| {
            // `verify_slice` compares in constant time.
            SlackScheme::mac(secret, raw_timestamp, body)
                .is_some_and(|mac| mac.verify_slice(&candidate).is_ok())
        })
        .map(|index| Authenticity::Signed(Verified::new(index, KeyForm::Raw, Some(timestamp))))
        .ok_or(VerifyError::SignatureMismatch)
}

webhook_guard::declare_provider! {
    /// The Slack-style provider: what is its own (name, keys, id rule, event model), declared
    /// as the built-in providers are; the builder (`Slack::builder().secret(..).build()`,
    /// secrets added during a rotation) and the traits are written by the macro.
    pub struct Slack("slack") {
        scheme: SlackScheme = |builder| SlackScheme::new(builder.keys.secrets),
        authenticate: authenticate,
        /// The delivery id: the body's `event_id` (signed), or for the URL check, which has
        /// none, the SHA-256 of the body.
        delivery_id: EVENT_ID = DeliveryIdRule::BodyFieldOrDigest("event_id"),
        event: SlackEvent = |_, body| SlackEvent::from_json(body),
    }
    /// Configuration of a [`Slack`] provider.
    pub struct SlackBuilder;
}

/// An event callback: the envelope, the inner event kept raw.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventCallback {
    /// The workspace.
    pub team_id: String,
    /// The event id (the delivery id).
    pub event_id: String,
    /// When the event happened, Unix seconds.
    pub event_time: i64,
    /// The inner event (`{"type":"app_mention",...}`).
    pub event: RawJson,
}

/// The URL check the sender makes when the endpoint is configured.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UrlVerification {
    /// The value to answer with.
    pub challenge: String,
}

/// The sender's events, with the crate's forward-compatibility variants.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SlackEvent {
    /// `event_callback`.
    EventCallback(EventCallback),
    /// `url_verification`.
    UrlVerification(UrlVerification),
    /// A type this model does not know.
    Unknown(UnknownEvent),
    /// A known type whose payload does not fit.
    Unparsed(UnparsedEvent),
}

impl SlackEvent {
    /// Parses a body: only a body that is not a JSON object with a string `type` fails.
    ///
    /// # Errors
    /// [`ParseError::InvalidJson`].
    pub fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        #[derive(Deserialize)]
        struct Type {
            #[serde(rename = "type")]
            event_type: String,
        }
        let raw = raw_body(body)?;
        let Type { event_type } =
            serde_json::from_str(raw.get()).map_err(|e| ParseError::invalid_json(&e))?;
        let parsed = match event_type.as_str() {
            "event_callback" => serde_json::from_str(raw.get()).map(Self::EventCallback),
            "url_verification" => serde_json::from_str(raw.get()).map(Self::UrlVerification),
            _ => return Ok(Self::Unknown(UnknownEvent::new(event_type, raw))),
        };
        Ok(parsed
            .unwrap_or_else(|error| Self::Unparsed(UnparsedEvent::new(event_type, raw, error))))
    }
}

impl WebhookEvent for SlackEvent {
    fn event_type(&self) -> &str {
        match self {
            Self::EventCallback(_) => "event_callback",
            Self::UrlVerification(_) => "url_verification",
            Self::Unknown(event) => &event.event_type,
            Self::Unparsed(event) => &event.event_type,
        }
    }

    fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

/// Signing as the sender does: for the demo and the tests.
impl Slack {
    /// The headers the sender would send for `body` at `timestamp`.
    #[must_use]
    pub fn sign_headers(&self, timestamp: i64, body: &[u8]) -> SignedHeaders {
        let mut headers = SignedHeaders::new();
        let ts = timestamp.to_string();
        if let Some(mac) = self
            .scheme()
            .secrets
            .first()
            .and_then(|secret| SlackScheme::mac(secret, ts.as_bytes(), body))
        {
            let tag = mac.finalize().into_bytes();
            headers.insert(SIGNATURE.as_str(), format!("v0={}", hex::encode(tag)));
        }
        headers.insert(TIMESTAMP.as_str(), ts);
        headers
    }
}

/// The handler: the challenge for a URL check, 200 for events.
async fn handle(Webhook(delivery): Webhook<SlackEvent>) -> (StatusCode, String) {
    match &delivery.event {
        SlackEvent::UrlVerification(check) => (StatusCode::OK, check.challenge.clone()),
        event => {
            eprintln!("{} {}", event.event_type(), delivery.meta.delivery_id);
            (StatusCode::OK, String::new())
        }
    }
}

/// The app: the provider behind the tower layer, on `/webhooks/slack`.
fn app(secret: &str) -> Result<Router, ConfigError> {
    let receiver = Receiver::builder(Slack::new(secret)?).build()?;
    Ok(Router::new().route(
        "/webhooks/slack",
        post(handle).layer(WebhookGuardLayer::new(receiver)),
    ))
}

const DEMO_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const CALLBACK: &[u8] = br#"{"token":"x","team_id":"T061EG9R6","api_app_id":"A0MDYCDME","event":{"type":"app_mention","user":"U061F7AUR","text":"<@U0LAN0Z89> is it everything a river should be?","ts":"1515449522.000016","channel":"C0LAN2Q65"},"type":"event_callback","event_id":"Ev0LAN670R","event_time":1515449522}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = app(DEMO_SECRET)?;
    let slack = Slack::new(DEMO_SECRET)?;
    let forged = Slack::new("not the secret")?;
    let now = webhook_guard::scheme::unix_now();
    for (what, headers) in [
        ("signed", slack.sign_headers(now, CALLBACK)),
        ("again", slack.sign_headers(now, CALLBACK)),
        ("forged", forged.sign_headers(now, CALLBACK)),
        ("stale", slack.sign_headers(now - 301, CALLBACK)),
    ] {
        let (status, duplicate, _) = send(&app, &headers, CALLBACK).await?;
        let note = if duplicate { " (duplicate)" } else { "" };
        println!("{what:<7} {status}{note}");
    }
    Ok(())
}

/// Sends one request through the app (no socket needed) and returns the status, whether it
/// was answered as a duplicate, and the body.
async fn send(
    app: &Router,
    headers: &SignedHeaders,
    body: &'static [u8],
) -> Result<(StatusCode, bool, String), Box<dyn std::error::Error>> {
    use tower::ServiceExt as _;
    let mut request = axum::http::Request::post("/webhooks/slack")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))?;
    *request.headers_mut() = headers.to_header_map();
    let response = app.clone().oneshot(request).await?;
    let status = response.status();
    let duplicate = response.headers().contains_key("webhook-guard-duplicate");
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await?;
    Ok((
        status,
        duplicate,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook_guard::Authenticator as _;

    fn now() -> i64 {
        webhook_guard::scheme::unix_now()
    }

    #[tokio::test]
    async fn a_signed_event_runs_once_and_a_retry_is_a_duplicate() {
        let app = app(DEMO_SECRET).expect("app");
        let slack = Slack::new(DEMO_SECRET).expect("secret");
        let (status, duplicate, _) = send(&app, &slack.sign_headers(now(), CALLBACK), CALLBACK)
            .await
            .expect("sent");
        assert_eq!((status, duplicate), (StatusCode::OK, false));
        // A retry, signed again later with the same body: the same event_id.
        let (status, duplicate, _) = send(&app, &slack.sign_headers(now() + 1, CALLBACK), CALLBACK)
            .await
            .expect("sent");
        assert_eq!((status, duplicate), (StatusCode::OK, true));
    }

    #[tokio::test]
    async fn forged_stale_and_tampered_deliveries_are_refused() {
        let app = app(DEMO_SECRET).expect("app");
        let slack = Slack::new(DEMO_SECRET).expect("secret");
        let forged = Slack::new("not the secret").expect("secret");
        let cases = [
            forged.sign_headers(now(), CALLBACK),
            slack.sign_headers(now() - 301, CALLBACK),
            slack.sign_headers(now() + 301, CALLBACK),
        ];
        for headers in &cases {
            let (status, _, _) = send(&app, headers, CALLBACK).await.expect("sent");
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let mut headers = slack.sign_headers(now(), CALLBACK);
        headers.insert("x-slack-signature", "v0=zz");
        let (status, _, _) = send(&app, &headers, CALLBACK).await.expect("sent");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let tampered: &'static [u8] = br#"{"type":"event_callback","team_id":"T1","event_id":"Ev0LAN670R","event_time":1,"event":{}}"#;
        let (status, _, _) = send(&app, &slack.sign_headers(now(), CALLBACK), tampered)
            .await
            .expect("sent");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn the_url_check_is_answered_with_its_challenge() {
        let app = app(DEMO_SECRET).expect("app");
        let slack = Slack::new(DEMO_SECRET).expect("secret");
        let body: &'static [u8] =
            br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        let (status, _, text) = send(&app, &slack.sign_headers(now(), body), body)
            .await
            .expect("sent");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    }

    #[test]
    fn events_bend_instead_of_breaking() {
        let unknown =
            SlackEvent::from_json(br#"{"type":"app_rate_limited","minute":1}"#).expect("kept");
        assert!(matches!(unknown, SlackEvent::Unknown(_)));
        assert!(!unknown.is_known());
        let unfit =
            SlackEvent::from_json(br#"{"type":"event_callback","team_id":7}"#).expect("kept");
        assert!(matches!(unfit, SlackEvent::Unparsed(_)));
        assert!(unfit.is_known());
        assert!(SlackEvent::from_json(b"not json").is_err());
        let typed = SlackEvent::from_json(CALLBACK).expect("typed");
        let SlackEvent::EventCallback(callback) = typed else {
            panic!("typed")
        };
        assert_eq!(callback.event_id, "Ev0LAN670R");
    }

    #[test]
    fn delivery_ids_come_from_the_signed_body() {
        let slack = Slack::new(DEMO_SECRET).expect("secret");
        let headers = slack.sign_headers(0, CALLBACK);
        assert_eq!(
            slack
                .delivery_id(&headers, CALLBACK)
                .map(|id| id.to_string()),
            Ok("Ev0LAN670R".to_owned())
        );
        let check = br#"{"type":"url_verification","challenge":"c"}"#;
        assert_eq!(
            slack
                .delivery_id(&headers, check)
                .map(|id| id.as_str().len()),
            Ok(64)
        );
        assert!(Slack::new("").is_err());
    }
}
