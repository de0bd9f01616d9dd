//! Every published known-answer vector (tests/vectors/known_answers.json), run through one macro:
//! the vector verifies, our signer reproduces it byte for byte, and a one-byte change of the body
//! is rejected.

use serde_json::Value;
use webhook_guard::{
    BodyHmac, Scheme, SignedHeaders, StandardWebhooks, TimestampedHmac, VerifyError,
    scheme::{Digest, KeyForm},
};

const VECTORS: &str = include_str!("vectors/known_answers.json");

fn vector(name: &str) -> Value {
    let all: Vec<Value> = serde_json::from_str(VECTORS).expect("valid vector file");
    all.into_iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector named {name}"))
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} missing"))
}

/// Builds the verifier a vector names, the headers it was delivered with, and what our own
/// signer produces for the same inputs.
fn setup(v: &Value) -> (Box<dyn Scheme>, SignedHeaders, String, i64) {
    let body = text(v, "body").as_bytes();
    let secret = text(v, "secret");
    let signature = text(v, "signature");
    let mut headers = SignedHeaders::new();
    match text(v, "scheme") {
        "standard" => {
            let builder = StandardWebhooks::builder();
            let verifier = match text(v, "key_form") {
                "whsec" => builder.secret(secret),
                "raw" => builder.raw_secret(secret),
                other => panic!("unknown key form {other}"),
            }
            .build()
            .expect("valid secret");
            let id = text(v, "id");
            let ts = v["timestamp"].as_i64().expect("timestamp");
            headers.insert("webhook-id", id);
            headers.insert("webhook-timestamp", ts.to_string());
            headers.insert("webhook-signature", signature);
            let ours = verifier.sign(id, ts, body).expect("hmac key");
            (Box::new(verifier), headers, ours, ts)
        }
        "timestamped" => {
            let verifier = TimestampedHmac::builder()
                .header(text(v, "header"))
                .secret(secret)
                .build()
                .expect("valid secret");
            let ts = v["timestamp"].as_i64().expect("timestamp");
            headers.insert(text(v, "header"), signature);
            let ours = verifier.sign(ts, body);
            (Box::new(verifier), headers, ours, ts)
        }
        "body_hmac" => {
            let digest = match text(v, "digest") {
                "sha256" => Digest::Sha256,
                "sha1" => Digest::Sha1,
                other => panic!("unknown digest {other}"),
            };
            let verifier = BodyHmac::builder()
                .header(text(v, "header"))
                .digest(digest)
                .secret(secret)
                .build()
                .expect("valid secret");
            headers.insert(text(v, "header"), signature);
            let ours = verifier.sign(body);
            (Box::new(verifier), headers, ours, 0)
        }
        other => panic!("unknown scheme {other}"),
    }
}

fn check_vector(name: &str) {
    let v = vector(name);
    let body = text(&v, "body").as_bytes();
    let (verifier, headers, ours, now) = setup(&v);

    let verified = verifier
        .verify_at(&headers, body, now)
        .unwrap_or_else(|e| panic!("{name}: published vector rejected: {e}"));
    if v["key_form"] == "raw" {
        assert_eq!(verified.key_form, KeyForm::Raw);
    }
    assert_eq!(ours, text(&v, "signature"), "{name}: our signer differs");

    for index in [0, body.len() / 2, body.len() - 1] {
        let mut tampered = body.to_vec();
        tampered[index] ^= 0x01;
        assert_eq!(
            verifier.verify_at(&headers, &tampered, now).err(),
            Some(VerifyError::SignatureMismatch),
            "{name}: tampered byte {index} accepted"
        );
    }
}

macro_rules! known_answer {
    ($($test:ident),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_vector(stringify!($test));
            }
        )+

        #[test]
        fn every_vector_in_the_file_has_a_test() {
            let all: Vec<Value> = serde_json::from_str(VECTORS).expect("valid vector file");
            let tested = [$(stringify!($test)),+];
            for v in &all {
                assert!(tested.contains(&text(v, "name")), "untested vector {}", v["name"]);
            }
            assert_eq!(all.len(), tested.len());
        }
    };
}

known_answer!(
    standard_webhooks_1,
    standard_webhooks_2,
    parallel_legacy_key,
    sixtyfour,
    parseflow,
    fullenrich,
);

#[test]
fn legacy_vector_fails_with_the_current_key_form_and_the_reverse() {
    let v = vector("parallel_legacy_key");
    let current = StandardWebhooks::new(text(&v, "secret")).expect("valid secret");
    let (_, headers, _, now) = setup(&v);
    assert_eq!(
        current
            .verify_at(&headers, text(&v, "body").as_bytes(), now)
            .err(),
        Some(VerifyError::SignatureMismatch)
    );
}
