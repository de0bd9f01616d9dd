//! `t=<unix>,v1=<hex>` verification (Sixtyfour, Stripe) on arbitrary headers and body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::{TimestampedHmac, scheme::Scheme};
use webhook_guard_fuzz::{NOW, SIXTYFOUR_SECRET, split};

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split(data);
    for header in [
        "sixtyfour-signature",
        "stripe-signature",
    ] {
        let scheme = TimestampedHmac::builder().header(header)
            .secret(SIXTYFOUR_SECRET)
            .build()
            .expect("secret");
        let _ = scheme.verify_at(&headers, body, NOW);
    }
});
