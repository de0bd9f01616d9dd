//! The metrics a receiver records, with their descriptions.

use std::{sync::Arc, task::Context, time::Duration};

use metrics_util::debugging::DebuggingRecorder;

use super::{Receiver, metrics};
use crate::{
    adapter,
    clock::ManualClock,
    dedup::{Claim, ClaimToken, DedupKey, DedupStore, StoreError, StoreErrorKind, StoreFuture},
    parseflow::ParseFlow,
};

/// A store whose every call fails.
#[derive(Debug)]
struct Down;

impl DedupStore for Down {
    fn claim<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
    }
    fn renew<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
    }
    fn complete<'a>(
        &'a self,
        _: &'a DedupKey,
        _: &'a ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
    }
    fn release<'a>(&'a self, _: &'a DedupKey, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::new(StoreErrorKind::Timeout, "down")) })
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

const NO_RUNTIME: adapter::Runtime = adapter::Runtime {
    spawn: drop,
    background: drop,
    sleep: |_| Box::pin(std::future::pending()),
};

#[test]
fn deliveries_handler_time_and_store_errors_are_measured_with_descriptions() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let secret = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";
    let body = br#"{"event":"quota.warning","timestamp":"2026-04-14T10:05:00Z","data":{}}"#;
    metrics::describe_test_scope(&recorder, || {
        let parseflow = ParseFlow::new(secret).expect("secret");
        let headers = parseflow.sign_headers("dlv_1", "quota.warning", body);
        let receiver = Receiver::builder(ParseFlow::new(secret).expect("secret"))
            .endpoint("billing")
            .clock(ManualClock::at_unix_seconds(0))
            .build()
            .expect("receiver");
        for _ in 0..2 {
            match block_on(adapter::accept(
                &receiver,
                &headers,
                bytes::Bytes::from_static(body),
                NO_RUNTIME,
            )) {
                Ok(accepted) => {
                    block_on(accepted.claim.finish(http::StatusCode::OK)).expect("settled")
                }
                Err(rejection) => assert_eq!(rejection.status(), 200, "the duplicate"),
            }
        }
        let down = Receiver::builder(ParseFlow::new(secret).expect("secret"))
            .store(Arc::new(Down))
            .clock(ManualClock::at_unix_seconds(0))
            .build()
            .expect("receiver");
        let refused = block_on(adapter::accept(
            &down,
            &headers,
            bytes::Bytes::from_static(body),
            NO_RUNTIME,
        ));
        assert_eq!(
            refused.map(|_| ()).map_err(|r| r.status().as_u16()),
            Err(503)
        );
    });
    let lines = metrics::snapshot_lines(&snapshotter);
    for expected in [
        "webhook_guard_deliveries_total provider=parseflow,endpoint=billing,outcome=processed 1 unit=None described=true",
        "webhook_guard_deliveries_total provider=parseflow,endpoint=billing,outcome=duplicate 1 unit=None described=true",
        "webhook_guard_deliveries_total provider=parseflow,endpoint=default,outcome=store_unavailable 1 unit=None described=true",
        "webhook_guard_handler_duration_seconds provider=parseflow,endpoint=billing,outcome=processed 1 samples unit=Some(Seconds) described=true",
        "webhook_guard_store_errors_total provider=parseflow,endpoint=default,operation=claim 1 unit=None described=true",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected}\nin\n{}",
            lines.join("\n")
        );
    }
}
