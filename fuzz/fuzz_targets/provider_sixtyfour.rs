//! The sixtyfour provider: verify, delivery id and typed parse on arbitrary headers and body, then
//! the same body correctly signed (with the id from the input's headers), which must never
//! be refused as unauthentic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::{Provider, fixtures, provider::OpenError};
use webhook_guard_fuzz::{NOW, SIXTYFOUR_SECRET, split};

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split(data);
    let provider = webhook_guard::sixtyfour::Sixtyfour::builder()
        .secret(webhook_guard_fuzz::SIXTYFOUR_SECRET)
        .allow_unsigned(true)
        .build()
        .expect("secret");
    let _ = provider.open(&headers, body, NOW);
    let id = headers
        .iter()
        .find(|(name, _)| name.contains("id") || name.contains("delivery"))
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
        .filter(|id| !id.is_empty() && !id.contains(['\r', '\n']))
        .unwrap_or("fuzz-id");
    let signed = fixtures::sign("sixtyfour", SIXTYFOUR_SECRET, id, NOW, body).expect("signs");
    let signed: Vec<(String, Vec<u8>)> = signed
        .iter()
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    if let Err(OpenError::Verify(error)) = provider.open(&signed, body, NOW) {
        panic!("a correctly signed delivery was refused: {error}");
    }
});
