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
        BodyHmac::builder().header("x-hub-signature-256").prefix("sha256=").secret(PARSEFLOW_SECRET).build().expect("secret"),
        BodyHmac::builder().header("x-parseflow-signature").digest(Digest::Sha256).secret(PARSEFLOW_SECRET).build().expect("secret"),
        BodyHmac::builder().header("x-signature-sha1").digest(Digest::Sha1).secret(FULLENRICH_KEY).build().expect("secret"),
        BodyHmac::builder().header("x-signature-b64")
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
