//! The metrics an inbox receiver and worker record.

use std::time::Duration;

use metrics_util::debugging::DebuggingRecorder;

use crate::{
    Receiver, adapter,
    inbox::{Inbox, MemoryInbox, RetryPolicy, Verdict},
    parseflow::ParseFlow,
};

#[test]
fn acks_attempts_and_dead_letters_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let secret = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";
    metrics::with_local_recorder(&recorder, || {
        // One thread: the worker's tasks run where the recorder is installed.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let inbox = Inbox::new(MemoryInbox::new());
            let receiver = Receiver::builder(ParseFlow::new(secret).expect("secret"))
                .inbox(&inbox)
                .build()
                .expect("receiver");
            let parseflow = ParseFlow::new(secret).expect("secret");
            for (id, event) in [("dlv_ok", "quota.warning"), ("dlv_bad", "extraction.failed")] {
                let body = format!(r#"{{"event":"{event}","timestamp":"2026-04-14T10:05:00Z","data":{{"id":"{id}"}}}}"#);
                let headers = parseflow.sign_headers(id, event, body.as_bytes());
                let answer =
                    adapter::accept(&receiver, &headers, bytes::Bytes::from(body), adapter::Runtime::TOKIO).await;
                assert_eq!(answer.map(drop).map_err(|r| r.status().as_u16()), Err(202));
            }
            let worker = inbox
                .worker()
                .poll_interval(Duration::from_millis(10))
                .retry(RetryPolicy::new(Duration::from_millis(1), 2))
                .route(&receiver, async |delivery, _| {
                    if delivery.meta.delivery_id.as_str() == "dlv_ok" {
                        Verdict::Done
                    } else {
                        Verdict::retry("down")
                    }
                });
            let store = inbox.store().clone();
            worker
                .run_until(async move {
                    loop {
                        let stats = store.stats().await.expect("stats");
                        if stats.done == 1 && stats.dead == 1 {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
                .await;
        });
    });
    let lines = crate::receiver::metrics::snapshot_lines(&snapshotter);
    for expected in [
        "webhook_guard_inbox_ack_seconds provider=parseflow 2 samples unit=Some(Seconds) described=true",
        "webhook_guard_inbox_attempts_total provider=parseflow,outcome=done 1 unit=None described=true",
        "webhook_guard_inbox_attempts_total provider=parseflow,outcome=retry 1 unit=None described=true",
        "webhook_guard_inbox_attempts_total provider=parseflow,outcome=dead 1 unit=None described=true",
        "webhook_guard_inbox_handler_seconds provider=parseflow 3 samples unit=Some(Seconds) described=true",
        "webhook_guard_inbox_dead_letters_total  1 unit=None described=true",
        "webhook_guard_deliveries_total provider=parseflow,endpoint=default,outcome=queued 2 unit=None described=true",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected}\nin\n{}",
            lines.join("\n")
        );
    }
}
