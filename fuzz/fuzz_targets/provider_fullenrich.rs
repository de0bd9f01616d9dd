//! The fullenrich provider: verify, delivery id and typed parse on arbitrary headers and body, then
//! the same body correctly signed, which must never be refused as unauthentic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::fullenrich::FullEnrich;
use webhook_guard_fuzz::{FULLENRICH_KEY, provider_target};

fuzz_target!(|data: &[u8]| {
    let provider = FullEnrich::new(FULLENRICH_KEY).expect("secret");
    provider_target(&provider, FULLENRICH_KEY, data);
});
