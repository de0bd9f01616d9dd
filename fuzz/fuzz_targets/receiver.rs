//! The `Receiver` (read, verify, claim, parse, finish) with a `MemoryStore` on arbitrary requests,
//! unsigned as given and signed: a signed delivery is accepted or refused as malformed, a
//! second copy of an accepted one is a duplicate, and nothing panics.
#![no_main]

use bytes::Bytes;
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use webhook_guard::{
    Receiver, adapter, clock::ManualClock, fixtures, parseflow::ParseFlow,
    receiver::RejectionKind,
};
use webhook_guard_fuzz::{NOW, PARSEFLOW_SECRET, block_on, split};

/// The receiver's whole flow, as an adapter runs it, on a body that is already whole.
fn accept<H: webhook_guard::headers::Headers>(
    receiver: &Receiver<ParseFlow>,
    headers: &H,
    body: &Bytes,
) -> Result<adapter::Accepted<webhook_guard::parseflow::Event>, webhook_guard::Rejection> {
    let no_runtime = adapter::Runtime {
        spawn: drop,
        sleep: |_| Box::pin(std::future::pending()),
    };
    let body = Full::new(body.clone());
    let no_timer = |_| std::future::pending::<()>();
    let body = block_on(adapter::read_body(receiver, headers, body, no_timer))?;
    block_on(adapter::accept(receiver, headers, body, no_runtime))
}

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split(data);
    let receiver = Receiver::builder(ParseFlow::new(PARSEFLOW_SECRET).expect("secret"))
        .clock(ManualClock::at_unix_seconds(NOW))
        .build()
        .expect("receiver");
    let body = Bytes::copy_from_slice(body);
    if let Ok(accepted) = accept(&receiver, &headers, &body) {
        let _ = block_on(accepted.claim.finish(http::StatusCode::OK));
    }
    let id = headers
        .iter()
        .find(|(name, _)| name == "x-parseflow-delivery")
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
        .filter(|id| !id.is_empty() && !id.contains(['\r', '\n']))
        .unwrap_or("fuzz-delivery");
    let signed = fixtures::sign("parseflow", PARSEFLOW_SECRET, id, NOW, &body).expect("signs");
    let signed: Vec<(String, Vec<u8>)> = signed
        .iter()
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    // A receiver of its own: the input may already have been a valid delivery of this id.
    let receiver = Receiver::builder(ParseFlow::new(PARSEFLOW_SECRET).expect("secret"))
        .clock(ManualClock::at_unix_seconds(NOW))
        .build()
        .expect("receiver");
    match accept(&receiver, &signed, &body) {
        Ok(accepted) => {
            let _ = block_on(accepted.claim.finish(http::StatusCode::OK));
            let again = accept(&receiver, &signed, &body).expect_err("a duplicate");
            assert!(
                matches!(again.kind(), RejectionKind::Duplicate),
                "second copy: {again}"
            );
        }
        Err(rejection) => assert!(
            matches!(rejection.kind(), RejectionKind::Malformed(_)),
            "a signed delivery refused: {rejection}"
        ),
    }
});
