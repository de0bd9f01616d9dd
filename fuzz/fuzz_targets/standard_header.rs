//! Standard Webhooks verification (v1 HMAC and v1a Ed25519) on arbitrary headers and body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::{Ed25519SigningKey, StandardWebhooks, scheme::Scheme};
use webhook_guard_fuzz::{NOW, PARALLEL_SECRET, split};

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split(data);
    let hmac = StandardWebhooks::new(PARALLEL_SECRET).expect("secret");
    let _ = hmac.verify_at(&headers, body, NOW);
    let legacy = StandardWebhooks::builder()
        .raw_secret(PARALLEL_SECRET)
        .build()
        .expect("secret");
    let _ = legacy.verify_at(&headers, body, NOW);
    let key = Ed25519SigningKey::from_seed([7; 32]);
    let ed = StandardWebhooks::builder()
        .public_key(key.public_key().as_str())
        .build()
        .expect("key");
    let _ = ed.verify_at(&headers, body, NOW);
});
