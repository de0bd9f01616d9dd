//! Secret rotation (several signatures in a header, several secrets on the receiver) and the
//! timestamp tolerance bounds, for every scheme that has them.

use std::time::Duration;

use webhook_guard::{
    BodyHmac, Ed25519SigningKey, Scheme, StandardWebhooks, TimestampedHmac, VerifyError,
};

const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const ID: &str = "msg_rotation";
const TS: i64 = 1_700_000_000;
const BODY: &[u8] = b"{\"rotated\":true}";

fn signature_with(secret: &str) -> String {
    StandardWebhooks::new(secret)
        .expect("valid secret")
        .sign(ID, TS, BODY)
        .expect("hmac key")
}

#[test]
fn several_signatures_where_only_the_last_is_valid() {
    let receiver = StandardWebhooks::new(NEW).expect("valid secret");
    let wrong = signature_with("whsec_dW5yZWxhdGVkIHNlY3JldCBrZXk=");
    let header = format!(
        "{wrong} v1,bm90IGEgc2lnbmF0dXJl {wrong} {}",
        signature_with(NEW)
    );
    let h = [
        ("webhook-id", ID.to_owned()),
        ("webhook-timestamp", TS.to_string()),
        ("webhook-signature", header),
    ];
    assert!(receiver.verify_at(&h, BODY, TS).is_ok());

    // The same header without its last entry fails: the last one really was the only valid one.
    let without_last = [
        ("webhook-id", ID.to_owned()),
        ("webhook-timestamp", TS.to_string()),
        ("webhook-signature", format!("{wrong} {wrong}")),
    ];
    assert_eq!(
        receiver.verify_at(&without_last, BODY, TS).err(),
        Some(VerifyError::SignatureMismatch)
    );
}

#[test]
fn receiver_holding_old_and_new_accepts_either() {
    let receiver = StandardWebhooks::builder()
        .secret(OLD)
        .secret(NEW)
        .build()
        .expect("valid secrets");
    for (secret, index) in [(OLD, 0), (NEW, 1)] {
        let h = [
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", TS.to_string()),
            ("webhook-signature", signature_with(secret)),
        ];
        let verified = receiver.verify_at(&h, BODY, TS).expect("accepted");
        assert_eq!(verified.key_index, index);
    }
    // A sender that signs with both during its rotation is accepted too.
    let both = receiver.sign_headers(ID, TS, BODY).expect("hmac keys");
    assert_eq!(
        both.get("webhook-signature").map(|s| s.split(' ').count()),
        Some(2)
    );
    assert!(receiver.verify_at(&both, BODY, TS).is_ok());
}

#[test]
fn mixed_hmac_and_ed25519_keys() {
    let sender = Ed25519SigningKey::from_seed([5; 32]);
    let receiver = StandardWebhooks::builder()
        .secret(OLD)
        .public_key(sender.public_key())
        .build()
        .expect("valid keys");
    let verified = receiver
        .verify_at(&sender.sign_headers(ID, TS, BODY), BODY, TS)
        .expect("v1a accepted");
    assert_eq!(verified.key_index, 1);
}

#[test]
fn timestamped_rotation_new_then_old() {
    let old = "sk_whsec_old";
    let new = "sk_whsec_new";
    let sender = TimestampedHmac::builder()
        .header("sixtyfour-signature")
        .secret(new)
        .secret(old)
        .build()
        .expect("valid");
    let header = sender.sign(TS, BODY);
    assert_eq!(header.matches(",v1=").count(), 2);
    for receiver_secret in [old, new] {
        let receiver = TimestampedHmac::builder()
            .header("sixtyfour-signature")
            .secret(receiver_secret)
            .build()
            .expect("valid");
        let h = [("sixtyfour-signature", header.as_str())];
        assert!(
            receiver.verify_at(&h, BODY, TS).is_ok(),
            "{receiver_secret}"
        );
    }
    let stranger = TimestampedHmac::builder()
        .header("sixtyfour-signature")
        .secret("sk_whsec_other")
        .build()
        .expect("valid");
    let h = [("sixtyfour-signature", header.as_str())];
    assert_eq!(
        stranger.verify_at(&h, BODY, TS).err(),
        Some(VerifyError::SignatureMismatch)
    );
}

#[test]
fn body_hmac_receiver_with_two_secrets() {
    let old = BodyHmac::builder()
        .header("x-sig")
        .secret("old")
        .build()
        .expect("valid");
    let new = BodyHmac::builder()
        .header("x-sig")
        .secret("new")
        .build()
        .expect("valid");
    let receiver = BodyHmac::builder()
        .header("x-sig")
        .secret("old")
        .secret("new")
        .build()
        .expect("valid");
    for (sender, index) in [(old, 0), (new, 1)] {
        let verified = receiver
            .verify_at(&sender.sign_headers(BODY), BODY, 0)
            .expect("accepted");
        assert_eq!(verified.key_index, index);
    }
}

fn standard_with(tolerance: u64) -> StandardWebhooks {
    StandardWebhooks::builder()
        .secret(OLD)
        .tolerance(Duration::from_secs(tolerance))
        .build()
        .expect("valid")
}

#[test]
fn tolerance_bound_is_inclusive_in_both_directions() {
    for tolerance in [0u64, 1, 300, 3600] {
        let tol = i64::try_from(tolerance).expect("small");
        let standard = standard_with(tolerance);
        let standard_headers = standard.sign_headers(ID, TS, BODY).expect("hmac key");
        let timestamped = TimestampedHmac::builder()
            .header("stripe-signature")
            .secret("whsec_x")
            .tolerance(Duration::from_secs(tolerance))
            .build()
            .expect("valid");
        let timestamped_headers = timestamped.sign_headers(TS, BODY);

        let schemes: [(&dyn Scheme, &dyn webhook_guard::headers::Headers); 2] = [
            (&standard, &standard_headers),
            (&timestamped, &timestamped_headers),
        ];
        for (scheme, headers) in schemes {
            // The receiver's clock ahead of the timestamp (an old delivery) and behind it.
            assert!(scheme.verify_at(headers, BODY, TS + tol).is_ok());
            assert!(scheme.verify_at(headers, BODY, TS - tol).is_ok());
            assert_eq!(
                scheme.verify_at(headers, BODY, TS + tol + 1).err(),
                Some(VerifyError::TimestampOutOfTolerance {
                    skew_seconds: tol + 1,
                    tolerance_seconds: tolerance
                })
            );
            assert_eq!(
                scheme.verify_at(headers, BODY, TS - tol - 1).err(),
                Some(VerifyError::TimestampOutOfTolerance {
                    skew_seconds: -tol - 1,
                    tolerance_seconds: tolerance
                })
            );
        }
    }
}

#[test]
fn extreme_clocks_and_timestamps_do_not_overflow() {
    let standard = standard_with(300);
    for (ts, now) in [(i64::MAX, i64::MIN), (0, i64::MAX), (i64::MAX, 0)] {
        let h = [
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature_with(OLD)),
        ];
        assert!(matches!(
            standard.verify_at(&h, BODY, now),
            Err(VerifyError::TimestampOutOfTolerance { .. })
        ));
    }
}
