//! Every provider of the catalogue: verify, delivery id and typed parse on arbitrary headers
//! and body, then the same body correctly signed, which must never be refused as unauthentic.
//! The `x-fuzz-provider` header names the provider (else the input's length picks one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::catalog;
use webhook_guard_fuzz::{provider_target, split};

fuzz_target!(|data: &[u8]| {
    let (headers, _) = split(data);
    let named = headers
        .iter()
        .find(|(name, _)| name == "x-fuzz-provider")
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
        .and_then(catalog::get);
    let all = catalog::all();
    let entry = named.unwrap_or(all[data.len() % all.len()]);
    let provider = (entry.build)(&catalog::Config::new(entry.secret.demo)).expect("demo secret");
    provider_target(&provider, entry.secret.demo, data);
});
