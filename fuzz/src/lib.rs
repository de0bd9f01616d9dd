//! Shared by the fuzz targets: the input format and the configured verifiers.
//!
//! An input is `name: value` header lines, an empty line, then the body: the same shape as an
//! HTTP request, so the seed corpus (every fixture signed by `webhook-guard sign`, written by
//! `scripts/fuzz.sh`) is readable and the fuzzer mutates headers and body alike. Bytes that are not a header line
//! are skipped; an input without an empty line is all body.

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use webhook_guard::fixtures::demo;

/// The time the seeds are signed at, and the fuzz targets verify at.
pub const NOW: i64 = 1_761_577_000;

/// The secrets of the verifiers (the demo secrets).
pub const PARALLEL_SECRET: &str = demo::PARALLEL_SECRET;
/// Sixtyfour's.
pub const SIXTYFOUR_SECRET: &str = demo::SIXTYFOUR_SECRET;
/// FullEnrich's.
pub const FULLENRICH_KEY: &str = demo::FULLENRICH_API_KEY;
/// ParseFlow's.
pub const PARSEFLOW_SECRET: &str = demo::PARSEFLOW_SECRET;

/// Splits an input into headers (names lowercased, values as bytes) and body.
pub fn split(data: &[u8]) -> (Vec<(String, Vec<u8>)>, &[u8]) {
    let Some(end) = data.windows(2).position(|w| w == b"\n\n") else {
        return (Vec::new(), data);
    };
    let headers = data[..end]
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let name = std::str::from_utf8(&line[..colon])
                .ok()?
                .trim()
                .to_ascii_lowercase();
            let value = line[colon + 1..]
                .strip_prefix(b" ")
                .unwrap_or(&line[colon + 1..]);
            Some((name, value.to_vec()))
        })
        .collect();
    (headers, &data[end + 2..])
}

/// Writes headers and body in the input format.
pub fn join(headers: &[(String, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out.extend_from_slice(b"\n");
    out.extend_from_slice(body);
    out
}

/// Runs a future that never waits (the `MemoryStore` answers at once) to its end.
///
/// # Panics
/// If the future is still pending after many polls: it would be waiting for something.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("a future that should not wait kept waiting");
}

/// The body of the provider targets: `open` on the input as given, then on the same body
/// correctly signed (with the id from the input's headers), which must never be refused as
/// unauthentic.
///
/// # Panics
/// When the correctly signed delivery is refused as unauthentic: that is the bug to find.
pub fn provider_target<P: webhook_guard::Provider>(provider: &P, secret: &str, data: &[u8]) {
    use webhook_guard::{fixtures, provider::OpenError};
    let (headers, body) = split(data);
    let _ = provider.open(&headers, body, NOW);
    let id = headers
        .iter()
        .find(|(name, _)| name.contains("id") || name.contains("delivery"))
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
        .filter(|id| !id.is_empty() && !id.contains(['\r', '\n']))
        .unwrap_or("fuzz-id");
    let signed = fixtures::sign(provider.name(), secret, id, NOW, body).expect("signs");
    let signed: Vec<(String, Vec<u8>)> = signed
        .iter()
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    if let Err(OpenError::Verify(error)) = provider.open(&signed, body, NOW) {
        panic!("a correctly signed delivery was refused: {error}");
    }
}
