//! The sixtyfour provider: verify, delivery id and typed parse on arbitrary headers and body, then
//! the same body correctly signed, which must never be refused as unauthentic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::sixtyfour::Sixtyfour;
use webhook_guard_fuzz::{SIXTYFOUR_SECRET, provider_target};

fuzz_target!(|data: &[u8]| {
    let provider = Sixtyfour::builder()
        .secret(SIXTYFOUR_SECRET)
        .allow_unsigned(true)
        .build()
        .expect("secret");
    provider_target(&provider, SIXTYFOUR_SECRET, data);
});
