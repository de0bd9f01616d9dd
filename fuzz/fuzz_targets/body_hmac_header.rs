//! HMAC-of-the-body verification (hex, base64, prefixed; SHA-256 and SHA-1) on arbitrary
//! headers and body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::{
    BodyHmac,
    scheme::{Digest, Encoding, Scheme},
};
use webhook_guard_fuzz::{FULLENRICH_KEY, NOW, PARSEFLOW_SECRET, split};

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split(data);
    let schemes = [
        BodyHmac::github(PARSEFLOW_SECRET).expect("secret"),
        BodyHmac::hex("x-parseflow-signature", Digest::Sha256, [PARSEFLOW_SECRET]).expect("secret"),
        BodyHmac::hex("x-signature-sha1", Digest::Sha1, [FULLENRICH_KEY]).expect("secret"),
        BodyHmac::builder("x-signature-b64")
            .encoding(Encoding::Base64)
            .prefix("sha1=")
            .digest(Digest::Sha1)
            .secret(FULLENRICH_KEY)
            .build()
            .expect("secret"),
    ];
    for scheme in &schemes {
        let _ = scheme.verify_at(&headers, body, NOW);
    }
});
