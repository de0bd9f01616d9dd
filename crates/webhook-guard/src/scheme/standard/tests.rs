//! Standard Webhooks: configuration errors and the documented vectors.

use super::{builder::decode_whsec, *};
use crate::Secret;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn whsec_decoding_accepts_missing_padding_and_bare_base64() {
    let padded = decode_whsec(&Secret::from("whsec_YWJjZA==")).expect("decodes");
    let unpadded = decode_whsec(&Secret::from("whsec_YWJjZA")).expect("decodes");
    let bare = decode_whsec(&Secret::from("YWJjZA==")).expect("decodes");
    assert_eq!(padded.as_slice(), b"abcd");
    assert_eq!(unpadded.as_slice(), b"abcd");
    assert_eq!(bare.as_slice(), b"abcd");
}

#[test]
fn config_errors_come_at_build_time() {
    assert_eq!(
        StandardWebhooks::new("whsec_").err(),
        Some(ConfigError::EmptySecret)
    );
    assert!(matches!(
        StandardWebhooks::new("whsec_not base64!").err(),
        Some(ConfigError::InvalidSecret { .. })
    ));
    assert_eq!(
        StandardWebhooks::builder().build().err(),
        Some(ConfigError::NoKeys)
    );
    assert_eq!(
        StandardWebhooks::builder().raw_secret("").build().err(),
        Some(ConfigError::EmptySecret)
    );
    assert!(matches!(
        StandardWebhooks::builder()
            .secret(SECRET)
            .header_names("ok", "bad header", "ok2")
            .build()
            .err(),
        Some(ConfigError::InvalidHeaderName { .. })
    ));
    assert_eq!(
        StandardWebhooks::builder()
            .secret(SECRET)
            .max_signatures(0)
            .build()
            .err(),
        Some(ConfigError::InvalidSignatureLimit)
    );
}

#[test]
fn entries_without_a_comma_or_of_other_versions_are_skipped() {
    let verifier = StandardWebhooks::new(SECRET).expect("valid");
    let good = verifier.sign("id", 10, b"body").expect("has hmac key");
    let header = format!("garbage v2,abc  {good}");
    let headers = [
        ("webhook-id", "id"),
        ("webhook-timestamp", "10"),
        ("webhook-signature", header.as_str()),
    ];
    assert!(verifier.verify_at(&headers, b"body", 10).is_ok());
}

#[test]
fn branded_header_names() {
    let verifier = StandardWebhooks::builder()
        .secret(SECRET)
        .header_names("Svix-Id", "Svix-Timestamp", "Svix-Signature")
        .build()
        .expect("valid");
    let headers = verifier
        .sign_headers("msg", 5, b"{}")
        .expect("has hmac key");
    assert!(headers.get("svix-signature").is_some());
    assert!(verifier.verify_at(&headers, b"{}", 5).is_ok());
}
