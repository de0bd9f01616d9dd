//! On every adapter, each delivery runs in a `webhook` span with provider, delivery id, event
//! type and outcome; rejection reasons are logged at debug level; secrets and signatures never
//! are. Alone in its test binary because it installs the global subscriber.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::format::FmtSpan;
use webhook_guard_conformance::{
    Adapter, Options, PARALLEL_SECRET, client, post_signed, sample, sign, start,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn spans_carry_the_delivery_and_logs_carry_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    for adapter in [Adapter::Axum, Adapter::Actix] {
        captured.0.lock().expect("lock").clear();
        let server = start(adapter, Options::default()).await;
        let client = client();
        let body = sample("parallel");
        let headers = sign("parallel", "obs-1", server.now(), body);
        let response = post_signed(&client, &server.url("parallel"), &headers, body, &[])
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        let mut tampered = body.to_vec();
        tampered[5] ^= 1;
        let bad = sign("parallel", "obs-2", server.now(), body);
        let response = post_signed(&client, &server.url("parallel"), &bad, &tampered, &[])
            .await
            .expect("sent");
        assert_eq!(response.status(), 401);

        let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
        let processed = logs
            .lines()
            .find(|l| l.contains("delivery_id=obs-1") && l.contains("close"))
            .unwrap_or_else(|| panic!("no closed span for obs-1 in:\n{logs}"));
        assert!(processed.contains("provider=parallel"), "{processed}");
        assert!(
            processed.contains("event_type=task_run.status"),
            "{processed}"
        );
        assert!(processed.contains("outcome=processed"), "{processed}");
        let rejected = logs
            .lines()
            .find(|l| l.contains("webhook rejected"))
            .unwrap_or_else(|| panic!("no rejection log in:\n{logs}"));
        assert!(rejected.contains("DEBUG"), "{rejected}");
        assert!(rejected.contains("no signature matches"), "{rejected}");
        assert!(logs.contains("outcome=unauthorized"), "{logs}");

        let signature = bad.get("webhook-signature").expect("signature");
        let signature_b64 = signature.trim_start_matches("v1,");
        for secret in [
            PARALLEL_SECRET,
            &PARALLEL_SECRET[6..],
            signature,
            signature_b64,
        ] {
            assert!(!logs.contains(secret), "logs leak {secret}");
        }
    }
}
