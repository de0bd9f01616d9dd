//! The must-fail cases of the Standard Webhooks test suites (see `docs/providers.md`), plus
//! their analogues for the other schemes. Each case names the precise error expected, so a case that fails for the wrong
//! reason fails the test.

use std::time::Duration;

use webhook_guard::{BodyHmac, Scheme, StandardWebhooks, TimestampedHmac, VerifyError};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn standard() -> StandardWebhooks {
    StandardWebhooks::builder()
        .secret(SECRET)
        .tolerance(Duration::from_secs(300))
        .build()
        .expect("valid secret")
}

/// A must-fail case: its name, the headers, the receiver's clock, the error expected.
type Case = (&'static str, Vec<(&'static str, String)>, i64, VerifyError);

fn headers(id: Option<&str>, ts: Option<&str>, sig: Option<&str>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(id) = id {
        out.push(("webhook-id", id.to_owned()));
    }
    if let Some(ts) = ts {
        out.push(("webhook-timestamp", ts.to_owned()));
    }
    if let Some(sig) = sig {
        out.push(("webhook-signature", sig.to_owned()));
    }
    out
}

#[test]
fn the_published_vector_passes_as_a_baseline() {
    let h = headers(Some(ID), Some(&TS.to_string()), Some(SIGNATURE));
    assert!(standard().verify_at(&h, BODY, TS).is_ok());
}

#[test]
fn standard_webhooks_must_fail_cases() {
    let ts = TS.to_string();
    let truncated = &SIGNATURE[..SIGNATURE.len() - 4];
    let v2 = SIGNATURE.replacen("v1,", "v2,", 1);
    let cases: Vec<Case> = vec![
        (
            "bare v1,",
            headers(Some(ID), Some(&ts), Some("v1,")),
            TS,
            VerifyError::SignatureMismatch,
        ),
        (
            "truncated signature",
            headers(Some(ID), Some(&ts), Some(truncated)),
            TS,
            VerifyError::SignatureMismatch,
        ),
        (
            "v2 entry alone",
            headers(Some(ID), Some(&ts), Some(&v2)),
            TS,
            VerifyError::NoSupportedSignature,
        ),
        (
            "timestamp 301 s in the past",
            headers(Some(ID), Some(&ts), Some(SIGNATURE)),
            TS + 301,
            VerifyError::TimestampOutOfTolerance {
                skew_seconds: 301,
                tolerance_seconds: 300,
            },
        ),
        (
            "timestamp 301 s in the future",
            headers(Some(ID), Some(&ts), Some(SIGNATURE)),
            TS - 301,
            VerifyError::TimestampOutOfTolerance {
                skew_seconds: -301,
                tolerance_seconds: 300,
            },
        ),
        (
            "missing id",
            headers(None, Some(&ts), Some(SIGNATURE)),
            TS,
            VerifyError::MissingHeader {
                name: "webhook-id".into(),
            },
        ),
        (
            "missing timestamp",
            headers(Some(ID), None, Some(SIGNATURE)),
            TS,
            VerifyError::MissingHeader {
                name: "webhook-timestamp".into(),
            },
        ),
        (
            "missing signature",
            headers(Some(ID), Some(&ts), None),
            TS,
            VerifyError::MissingHeader {
                name: "webhook-signature".into(),
            },
        ),
        (
            "non-integer timestamp",
            headers(Some(ID), Some("1614265330.5"), Some(SIGNATURE)),
            TS,
            VerifyError::InvalidTimestamp,
        ),
        (
            "signature of another id",
            headers(Some("msg_other"), Some(&ts), Some(SIGNATURE)),
            TS,
            VerifyError::SignatureMismatch,
        ),
        (
            "empty signature header",
            headers(Some(ID), Some(&ts), Some("")),
            TS,
            VerifyError::NoSupportedSignature,
        ),
    ];
    let verifier = standard();
    for (name, h, now, expected) in cases {
        assert_eq!(
            verifier.verify_at(&h, BODY, now).err(),
            Some(expected),
            "case: {name}"
        );
    }
}

#[test]
fn repeated_required_headers_are_rejected() {
    let mut h = headers(Some(ID), Some(&TS.to_string()), Some(SIGNATURE));
    h.push(("webhook-signature", SIGNATURE.to_owned()));
    assert_eq!(
        standard().verify_at(&h, BODY, TS).err(),
        Some(VerifyError::RepeatedHeader {
            name: "webhook-signature".into()
        })
    );
}

#[test]
fn too_many_signatures_are_refused_before_any_mac_work() {
    let many = vec!["v1,AAAA"; 17].join(" ") + " " + SIGNATURE;
    let h = headers(Some(ID), Some(&TS.to_string()), Some(&many));
    assert_eq!(
        standard().verify_at(&h, BODY, TS).err(),
        Some(VerifyError::TooManySignatures { limit: 16 })
    );
}

#[test]
fn timestamped_must_fail_cases() {
    let verifier = TimestampedHmac::builder()
        .header("sixtyfour-signature")
        .secret("sk_whsec_x")
        .build()
        .expect("valid secret");
    let good = verifier.sign(TS, BODY);
    let hex = good.split_once(",v1=").expect("has v1").1;
    let cases = [
        (format!("t={TS},v1="), VerifyError::SignatureMismatch),
        (
            format!("t={TS},v1={}", &hex[..63]),
            VerifyError::SignatureMismatch,
        ),
        (
            format!("t={TS},v2={hex}"),
            VerifyError::NoSupportedSignature,
        ),
        (format!("t=+{TS},v1={hex}"), VerifyError::InvalidTimestamp),
        (format!("t=-{TS},v1={hex}"), VerifyError::InvalidTimestamp),
        (format!("t={TS}.0,v1={hex}"), VerifyError::InvalidTimestamp),
    ];
    for (value, expected) in cases {
        let h = [("sixtyfour-signature", value.as_str())];
        assert_eq!(
            verifier.verify_at(&h, BODY, TS).err(),
            Some(expected),
            "{value}"
        );
    }
    let none: [(&str, &str); 0] = [];
    assert_eq!(
        verifier.verify_at(&none, BODY, TS).err(),
        Some(VerifyError::MissingHeader {
            name: "sixtyfour-signature".into()
        })
    );
}

#[test]
fn body_hmac_must_fail_cases() {
    let verifier = BodyHmac::builder()
        .header("x-parseflow-signature")
        .secret("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456")
        .build()
        .expect("valid secret");
    let good = verifier.sign(BODY);
    for value in ["", "zz", &good[..62], &format!("{good}00"), "sha256="] {
        let h = [("x-parseflow-signature", value)];
        assert!(
            matches!(
                verifier.verify_at(&h, BODY, 0),
                Err(VerifyError::MalformedHeader { .. })
            ),
            "{value:?}"
        );
    }
    let wrong = "0".repeat(64);
    let h = [("x-parseflow-signature", wrong.as_str())];
    assert_eq!(
        verifier.verify_at(&h, BODY, 0).err(),
        Some(VerifyError::SignatureMismatch)
    );
}

#[test]
fn bodies_need_not_be_utf8() {
    let body: Vec<u8> = (0..=255u8).rev().collect();
    let verifier = standard();
    let h = verifier.sign_headers(ID, TS, &body).expect("hmac key");
    assert!(verifier.verify_at(&h, &body, TS).is_ok());
    let body_hmac = BodyHmac::builder()
        .header("x-sig")
        .secret("k")
        .build()
        .expect("valid");
    assert!(
        body_hmac
            .verify_at(&body_hmac.sign_headers(&body), &body, 0)
            .is_ok()
    );
}

#[test]
fn header_bytes_that_are_not_utf8_are_plain_rejections() {
    let verifier = standard();
    let h: Vec<(&str, Vec<u8>)> = vec![
        ("webhook-id", vec![0xff, 0xfe, b'.']),
        ("webhook-timestamp", TS.to_string().into_bytes()),
        ("webhook-signature", b"v1,\xff\xff\xff\xff".to_vec()),
    ];
    assert_eq!(
        verifier.verify_at(&h, BODY, TS).err(),
        Some(VerifyError::SignatureMismatch)
    );
}
