//! What a user would write instead of the guard: read the body, verify Standard Webhooks v1
//! with `hmac` + `base64` + `subtle` (tolerance included), claim the id in a
//! `Mutex<HashMap>`, parse the typed Parallel event, mark the id done. Shared by the
//! benchmarks that compare the guard with it.

use std::sync::Arc;

use axum::{body::Bytes, http::StatusCode};
use webhook_guard::scheme::unix_now;

/// A `task_run.status` delivery padded to 1 KiB: the body both benchmarks send.
pub(crate) fn body() -> Vec<u8> {
    let head = r#"{"type":"task_run.status","timestamp":"2025-10-27T15:02:11.204518Z","data":{"run_id":"trun_9907962f83aa4d9d98fd7f4bf745d654","status":"completed","is_active":false,"processor":"core","metadata":{"note":""#;
    let tail = r#""},"created_at":"2025-10-27T14:59:48.118204Z","modified_at":"2025-10-27T15:02:11.198731Z","error":null,"warnings":null}}"#;
    let pad = 1024 - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
}

/// The demo secret both benchmarks sign with.
pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What a user would write instead of the guard, shared by the axum and actix rows.
pub(crate) struct HandWritten {
    key: Vec<u8>,
    /// Delivery id -> done (`false` while in flight).
    seen: std::sync::Mutex<std::collections::HashMap<String, bool>>,
}

impl HandWritten {
    pub(crate) fn new() -> Self {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode(SECRET.trim_start_matches("whsec_"))
            .expect("secret");
        Self {
            key,
            seen: std::sync::Mutex::default(),
        }
    }

    /// The whole job, from the three headers and the body to a status.
    pub(crate) fn handle(
        &self,
        id: Option<&[u8]>,
        timestamp: Option<&[u8]>,
        signature: Option<&[u8]>,
        body: &[u8],
    ) -> u16 {
        use base64::Engine as _;
        use hmac::{KeyInit as _, Mac as _};
        use subtle::ConstantTimeEq as _;
        let (Some(id), Some(timestamp), Some(signature)) = (id, timestamp, signature) else {
            return 401;
        };
        let Some(sent) = std::str::from_utf8(timestamp)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
        else {
            return 401;
        };
        if (unix_now() - sent).abs() > 300 {
            return 401;
        }
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("key");
        mac.update(id);
        mac.update(b".");
        mac.update(timestamp);
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        let verified = signature.split(|b| *b == b' ').any(|part| {
            part.strip_prefix(b"v1,")
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
                .is_some_and(|tag| bool::from(tag.ct_eq(&expected)))
        });
        let Some(id) = verified.then(|| String::from_utf8_lossy(id).into_owned()) else {
            return 401;
        };
        {
            let mut seen = self.seen.lock().expect("lock");
            if let Some(done) = seen.get(&id) {
                return if *done { 200 } else { 409 };
            }
            seen.insert(id.clone(), false);
        }
        let Ok(event) = webhook_guard::parallel::Event::from_json(body) else {
            self.seen.lock().expect("lock").remove(&id);
            return 400;
        };
        std::hint::black_box(&event);
        self.seen.lock().expect("lock").insert(id, true);
        200
    }
}

/// The hand-written handler in axum.
pub(crate) async fn hand_axum(
    axum::extract::State(hand): axum::extract::State<Arc<HandWritten>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> StatusCode {
    let get = |name: &str| headers.get(name).map(|v| v.as_bytes());
    let status = hand.handle(
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
        &body,
    );
    StatusCode::from_u16(status).expect("status")
}

/// The hand-written handler in actix-web.
pub(crate) async fn hand_actix(
    hand: actix_web::web::Data<HandWritten>,
    request: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
) -> actix_web::HttpResponse {
    let get = |name: &str| request.headers().get(name).map(|v| v.as_bytes());
    let status = hand.handle(
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
        &body,
    );
    actix_web::HttpResponse::new(actix_web::http::StatusCode::from_u16(status).expect("status"))
}
