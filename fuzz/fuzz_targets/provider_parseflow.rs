//! The parseflow provider: verify, delivery id and typed parse on arbitrary headers and body, then
//! the same body correctly signed, which must never be refused as unauthentic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::parseflow::ParseFlow;
use webhook_guard_fuzz::{PARSEFLOW_SECRET, provider_target};

fuzz_target!(|data: &[u8]| {
    let provider = ParseFlow::new(PARSEFLOW_SECRET).expect("secret");
    provider_target(&provider, PARSEFLOW_SECRET, data);
});
