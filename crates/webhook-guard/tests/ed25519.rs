//! Standard Webhooks `v1a` (Ed25519): round trips with generated keys, and rejection of changed
//! messages and of signatures by another key.

use proptest::prelude::*;
use webhook_guard::{Ed25519SigningKey, Scheme, StandardWebhooks, VerifyError};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_and_rejections(
        seed in any::<[u8; 32]>(),
        other_seed in any::<[u8; 32]>(),
        id in "[!-~]{1,40}",
        ts in 1_000_000_000i64..2_000_000_000,
        body in prop::collection::vec(any::<u8>(), 0..512),
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        prop_assume!(seed != other_seed);
        let sender = Ed25519SigningKey::from_seed(seed);
        let receiver = StandardWebhooks::builder()
            .public_key(sender.public_key())
            .build()
            .expect("valid public key");
        let headers = sender.sign_headers(&id, ts, &body);
        prop_assert!(receiver.verify_at(&headers, &body, ts).is_ok());

        // A changed body.
        let mut changed = body.clone();
        changed.push(0);
        let at = position.index(changed.len());
        changed[at] ^= flip;
        prop_assert_eq!(
            receiver.verify_at(&headers, &changed, ts).err(),
            Some(VerifyError::SignatureMismatch)
        );

        // A changed id.
        let mut moved = headers.clone();
        moved.insert("webhook-id", format!("{id}x"));
        prop_assert_eq!(
            receiver.verify_at(&moved, &body, ts).err(),
            Some(VerifyError::SignatureMismatch)
        );

        // A signature by another key.
        let stranger = Ed25519SigningKey::from_seed(other_seed);
        prop_assert_eq!(
            receiver.verify_at(&stranger.sign_headers(&id, ts, &body), &body, ts).err(),
            Some(VerifyError::SignatureMismatch)
        );
    }
}

#[test]
fn v1a_entries_are_ignored_without_a_public_key() {
    let sender = Ed25519SigningKey::from_seed([1; 32]);
    let hmac_only = StandardWebhooks::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
    assert_eq!(
        hmac_only
            .verify_at(&sender.sign_headers("id", 5, b"x"), b"x", 5)
            .err(),
        Some(VerifyError::NoSupportedSignature)
    );
}

#[test]
fn malformed_v1a_entries_are_plain_rejections() {
    let sender = Ed25519SigningKey::from_seed([1; 32]);
    let receiver = StandardWebhooks::builder()
        .public_key(sender.public_key())
        .build()
        .expect("valid");
    for signature in ["v1a,", "v1a,AAAA", "v1a,!!!!", &"v1a,".repeat(3)] {
        let h = [
            ("webhook-id", "id"),
            ("webhook-timestamp", "5"),
            ("webhook-signature", signature),
        ];
        assert_eq!(
            receiver.verify_at(&h, b"x", 5).err(),
            Some(VerifyError::SignatureMismatch),
            "{signature}"
        );
    }
    // Signatures are full 64-byte values; one byte short or long is refused.
    let good = sender.sign("id", 5, b"x");
    let truncated = &good[..good.len() - 4];
    let h = [
        ("webhook-id", "id"),
        ("webhook-timestamp", "5"),
        ("webhook-signature", truncated),
    ];
    assert!(receiver.verify_at(&h, b"x", 5).is_err());
}

/// Each `v1a` check hashes the whole body: identical entries are checked once, and at most
/// four distinct ones per delivery, so a header of many entries cannot multiply the work.
#[test]
fn v1a_work_per_delivery_is_bounded() {
    let sender = Ed25519SigningKey::from_seed([3; 32]);
    let others: Vec<Ed25519SigningKey> = (10..20)
        .map(|seed| Ed25519SigningKey::from_seed([seed; 32]))
        .collect();
    let receiver = StandardWebhooks::builder()
        .public_key(sender.public_key())
        .build()
        .expect("valid public key");
    let (id, ts, body) = ("msg_bound", 1_700_000_000, b"{}".as_slice());
    let entry = |key: &Ed25519SigningKey| {
        let headers = key.sign_headers(id, ts, body);
        headers.get("webhook-signature").expect("signed").to_owned()
    };
    let with_signatures = |entries: Vec<String>| {
        let mut headers = sender.sign_headers(id, ts, body);
        headers.insert("webhook-signature", entries.join(" "));
        headers
    };
    // Sixteen copies of the right entry: checked once, and it verifies.
    let copies = with_signatures(vec![entry(&sender); 16]);
    assert!(receiver.verify_at(&copies, body, ts).is_ok());
    // Three wrong entries, then the right one: four checks, it verifies.
    let mut within: Vec<String> = others[..3].iter().map(entry).collect();
    within.push(entry(&sender));
    assert!(
        receiver
            .verify_at(&with_signatures(within), body, ts)
            .is_ok()
    );
    // Four wrong entries first: the right one is past the bound and never checked.
    let mut past: Vec<String> = others[..4].iter().map(entry).collect();
    past.push(entry(&sender));
    assert_eq!(
        receiver.verify_at(&with_signatures(past), body, ts).err(),
        Some(VerifyError::SignatureMismatch)
    );
}
