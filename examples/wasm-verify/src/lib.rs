//! The core's signature check alone, for one provider (Parallel), exported to JavaScript: the
//! smallest useful build of webhook-guard for an edge function that verifies and leaves the
//! rest to its own code. `scripts/edge-sizes` builds it, calls it from Node on a signed and a
//! forged delivery, and prints its size.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::wasm_bindgen;
use webhook_guard::{Authenticator as _, parallel::Parallel};

/// Whether `body` carries a valid Parallel signature under `secret`, given its
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` headers as they came, at `now`
/// (Unix seconds; the timestamp must be within five minutes of it). A secret that is not one
/// (empty, say) verifies nothing.
#[wasm_bindgen]
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: f64,
) -> bool {
    let Ok(parallel) = Parallel::new(secret) else {
        return false;
    };
    let headers = [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
    ];
    // A JavaScript number of seconds: whole seconds fit an i64 exactly.
    let now = now as i64;
    parallel.authenticate(&headers, body, now).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn a_signed_delivery_verifies_and_a_forged_or_stale_one_does_not() {
        let body = br#"{"type":"task_run.status","data":{}}"#;
        let parallel = Parallel::new(SECRET).expect("a secret");
        let headers = parallel
            .sign_headers("whevent_1", 1_761_576_965, body)
            .expect("signed");
        let header = |name| headers.get(name).expect("signed header").to_owned();
        let (id, at, signature) = (
            header("webhook-id"),
            header("webhook-timestamp"),
            header("webhook-signature"),
        );
        assert!(verify(SECRET, &id, &at, &signature, body, 1_761_576_970.0));
        assert!(!verify(
            SECRET,
            &id,
            &at,
            &signature,
            b"{}",
            1_761_576_970.0
        ));
        assert!(!verify(SECRET, &id, &at, &signature, body, 1_761_577_966.0));
        assert!(!verify("", &id, &at, &signature, body, 1_761_576_970.0));
    }
}
