//! Each provider verifies and parses its signed fixtures, rejects tampered ones, and takes its
//! delivery id by its own rule.

use webhook_guard::prelude::*;
use webhook_guard::{
    Authenticity, ConfigError, OpenError, ParseError, Provider, StandardWebhooks, VerifyError,
    fixtures,
    fullenrich::FullEnrich,
    generic::{GenericEvent, GenericStandard},
    parallel::{self, DEFAULT_KEY_FORMS, Parallel},
    parseflow::ParseFlow,
    scheme::{KeyForm, SignedHeaders},
    sixtyfour::{self, Sixtyfour},
};

const NOW: i64 = 1_761_577_000;
const PARALLEL_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SIXTYFOUR_SECRET: &str =
    "sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const FULLENRICH_KEY: &str = "fe_test_api_key";
const PARSEFLOW_SECRET: &str = "whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456";

/// Flips one byte in the middle of the body.
fn tampered(body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    let middle = body.len() / 2;
    body[middle] ^= 0x01;
    body
}

/// Opens every fixture of one provider signed by `sign`, checks the event type, and checks
/// that the tampered body and a wrong-key signature are rejected with 401.
fn check_provider<P: Provider>(
    provider: &P,
    wrong_key: &P,
    sign: impl Fn(&P, &str, &[u8]) -> SignedHeaders,
) {
    let mut opened = 0;
    for (i, fixture) in fixtures::of(provider.name()).enumerate() {
        let id = format!("delivery-{i}");
        let headers = sign(provider, &id, fixture.body);
        let delivery = provider
            .open(&headers, fixture.body, NOW)
            .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        assert_eq!(
            delivery.event.event_type(),
            fixture.event_type,
            "{}",
            fixture.name
        );
        assert!(delivery.event.is_known());
        assert!(matches!(delivery.authenticity, Authenticity::Signed(_)));

        let error = provider
            .open(&headers, &tampered(fixture.body), NOW)
            .expect_err("tampered body accepted");
        assert_eq!(error, OpenError::Verify(VerifyError::SignatureMismatch));
        assert_eq!(error.status(), 401);

        let forged = sign(wrong_key, &id, fixture.body);
        let error = provider
            .open(&forged, fixture.body, NOW)
            .expect_err("wrong key accepted");
        assert_eq!(error.status(), 401);
        opened += 1;
    }
    assert!(opened >= 3, "{}", provider.name());
}

#[test]
fn parallel_fixtures_verify_and_parse() {
    let provider = Parallel::new(PARALLEL_SECRET).expect("config");
    let wrong = Parallel::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("config");
    check_provider(&provider, &wrong, |p, id, body| {
        p.sign_headers(id, NOW, body).expect("signs")
    });
}

#[test]
fn sixtyfour_fixtures_verify_and_parse() {
    let provider = Sixtyfour::new(SIXTYFOUR_SECRET).expect("config");
    let wrong = Sixtyfour::new("sk_whsec_wrong").expect("config");
    check_provider(&provider, &wrong, |p, id, body| {
        p.sign_headers(id, NOW, body)
    });
}

#[test]
fn fullenrich_fixtures_verify_and_parse() {
    let provider = FullEnrich::new(FULLENRICH_KEY).expect("config");
    let wrong = FullEnrich::new("another_key").expect("config");
    check_provider(&provider, &wrong, |p, _, body| p.sign_headers(body));
}

#[test]
fn parseflow_fixtures_verify_and_parse() {
    let provider = ParseFlow::new(PARSEFLOW_SECRET).expect("config");
    let wrong = ParseFlow::new("whsec_other").expect("config");
    check_provider(&provider, &wrong, |p, id, body| {
        let event = webhook_guard::parseflow::Event::from_json(body).expect("fixture parses");
        p.sign_headers(id, event.event_type(), body)
    });
}

#[test]
fn parallel_accepts_both_key_forms_and_records_which_matched() {
    // Known answers: the first Standard Webhooks vector, in both key forms.
    let body = br#"{"test": 2432232314}"#;
    let headers = |signature: &str| {
        [
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".to_owned()),
            ("webhook-timestamp", "1614265330".to_owned()),
            ("webhook-signature", signature.to_owned()),
        ]
    };
    let current = headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    let legacy = headers("v1,TcxlhK9b6UD6iVI1ZU2tTqp8PEVfYRseNNfa6b+LcUg=");

    let both = Parallel::new(PARALLEL_SECRET).expect("config");
    let form = |p: &Parallel, h: &[(&str, String); 3]| {
        p.authenticate(h, body, 1_614_265_330)
            .map(|a| a.verified().map(|v| (v.key_form, v.key_index)))
    };
    assert_eq!(form(&both, &current), Ok(Some((KeyForm::Whsec, 0))));
    assert_eq!(form(&both, &legacy), Ok(Some((KeyForm::Raw, 0))));

    let pinned_current = Parallel::builder()
        .secret(PARALLEL_SECRET)
        .key_forms([KeyForm::Whsec])
        .build()
        .expect("config");
    assert_eq!(
        form(&pinned_current, &current),
        Ok(Some((KeyForm::Whsec, 0)))
    );
    assert_eq!(
        form(&pinned_current, &legacy),
        Err(VerifyError::SignatureMismatch)
    );

    let pinned_legacy = Parallel::builder()
        .secret(PARALLEL_SECRET)
        .key_forms([KeyForm::Raw])
        .build()
        .expect("config");
    assert_eq!(form(&pinned_legacy, &legacy), Ok(Some((KeyForm::Raw, 0))));
    assert_eq!(
        form(&pinned_legacy, &current),
        Err(VerifyError::SignatureMismatch)
    );
    // A legacy-only provider signs in the legacy form.
    let signed = pinned_legacy
        .sign_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body)
        .expect("signs");
    assert_eq!(
        signed.get("webhook-signature"),
        Some("v1,TcxlhK9b6UD6iVI1ZU2tTqp8PEVfYRseNNfa6b+LcUg=")
    );
}

#[test]
fn parallel_rotation_reports_the_secret_index() {
    let old = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let provider = Parallel::builder()
        .secret(PARALLEL_SECRET)
        .secret(old)
        .build()
        .expect("config");
    let body = fixtures::sample("parallel", "findall.run.completed")
        .expect("sample")
        .body;
    for (index, forms) in [(1, &[KeyForm::Whsec][..]), (1, &[KeyForm::Raw][..])] {
        let signer = Parallel::builder()
            .secret(old)
            .key_forms(forms.iter().copied())
            .build()
            .expect("config");
        let headers = signer.sign_headers("whevent_1", NOW, body).expect("signs");
        let verified = provider
            .authenticate(&headers, body, NOW)
            .expect("rotated secret accepted");
        assert_eq!(verified.verified().map(|v| v.key_index), Some(index));
    }
}

#[test]
fn parallel_config_errors() {
    assert!(Parallel::builder().build().is_err());
    assert!(Parallel::new("").is_err());
    // Only the prefix, base64 of nothing, base64 of too few bytes, not base64: refused, in the
    // default (both key forms) and in the current form, never used in the legacy form alone.
    let short = format!(
        "whsec_{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7_u8; 15])
    );
    for secret in [
        "whsec_",
        "whsec_====",
        short.as_str(),
        "whsec_not*base64*but*long*enough!",
    ] {
        for forms in [&DEFAULT_KEY_FORMS[..], &[KeyForm::Whsec][..]] {
            let built = Parallel::builder()
                .secret(secret)
                .key_forms(forms.iter().copied())
                .build();
            assert!(
                matches!(
                    built,
                    Err(ConfigError::EmptySecret | ConfigError::InvalidSecret { .. })
                ),
                "{secret:?} with {forms:?}: {built:?}"
            );
        }
        assert!(StandardWebhooks::new(secret).is_err(), "{secret:?}");
    }
    // A raw legacy key is used as it is only when asked for, and must not be short either.
    let odd = "whsec_not*base64*but*long*enough!";
    let provider = Parallel::builder()
        .secret(odd)
        .key_forms([KeyForm::Raw])
        .build()
        .expect("legacy form");
    let body = b"{}";
    let headers = provider.sign_headers("id", NOW, body).expect("signs");
    assert_eq!(
        provider
            .authenticate(&headers, body, NOW)
            .map(|a| a.verified().map(|v| v.key_form)),
        Ok(Some(KeyForm::Raw))
    );
    for secret in ["whsec_", "whsec_short"] {
        let built = Parallel::builder()
            .secret(secret)
            .key_forms([KeyForm::Raw])
            .build();
        assert!(built.is_err(), "legacy {secret:?}: {built:?}");
    }
    // A forgery signed with the key `whsec_` is refused by a receiver configured with a real
    // secret (the case the silent fallback let through for a secret that was only `whsec_`).
    let forger = StandardWebhooks::builder()
        .raw_secret("whsec_")
        .build()
        .err()
        .is_some();
    assert!(forger, "a 6-byte raw key is refused as well");
}

#[test]
fn parallel_delivery_id_is_the_webhook_id_and_stale_deliveries_fail() {
    let provider = Parallel::new(PARALLEL_SECRET).expect("config");
    let body = fixtures::sample("parallel", "task_run.status")
        .expect("sample")
        .body;
    let headers = provider
        .sign_headers("whevent_abc123def456", NOW, body)
        .expect("signs");
    let opened = provider.open(&headers, body, NOW).expect("valid");
    assert_eq!(opened.delivery_id.as_str(), "whevent_abc123def456");
    assert!(matches!(opened.event, parallel::Event::TaskRunStatus(_)));
    assert!(matches!(
        provider.open(&headers, body, NOW + 301),
        Err(OpenError::Verify(
            VerifyError::TimestampOutOfTolerance { .. }
        ))
    ));
}

#[test]
fn sixtyfour_unsigned_deliveries_only_when_allowed() {
    let body = fixtures::sample("sixtyfour", "completed")
        .expect("sample")
        .body;
    let no_headers: [(&str, &str); 0] = [];

    let strict = Sixtyfour::new(SIXTYFOUR_SECRET).expect("config");
    assert_eq!(
        strict.open(&no_headers, body, NOW),
        Err(OpenError::Verify(VerifyError::Unsigned))
    );

    let lenient = Sixtyfour::builder()
        .secret(SIXTYFOUR_SECRET)
        .allow_unsigned(true)
        .build()
        .expect("config");
    let opened = lenient.open(&no_headers, body, NOW).expect("allowed");
    assert_eq!(opened.authenticity, Authenticity::UnsignedAllowed);
    // No event id header: the task id is the delivery id.
    assert_eq!(
        opened.delivery_id.as_str(),
        "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    );
    // A signature that is present is always checked, even when unsigned ones are allowed.
    let bad = [("sixtyfour-signature", "t=1761577000,v1=00")];
    assert_eq!(
        lenient.open(&bad, body, NOW),
        Err(OpenError::Verify(VerifyError::SignatureMismatch))
    );

    let unsigned_only = Sixtyfour::builder()
        .allow_unsigned(true)
        .build()
        .expect("config");
    assert!(unsigned_only.open(&no_headers, body, NOW).is_ok());
    let signed = strict.sign_headers("e-1", NOW, body);
    assert!(unsigned_only.open(&signed, body, NOW).is_err());
    assert!(Sixtyfour::builder().build().is_err());

    // A signed delivery's id is the event id header.
    let opened = strict.open(&signed, body, NOW).expect("valid");
    assert_eq!(opened.delivery_id.as_str(), "e-1");
    assert!(matches!(opened.event, sixtyfour::Event::Completed(_)));

    // Neither an event id nor a task id: no delivery id.
    assert!(matches!(
        lenient.open(&no_headers, br#"{"status":"failed"}"#, NOW),
        Err(OpenError::Parse(ParseError::MissingDeliveryId { .. }))
    ));
}

#[test]
fn sixtyfour_known_answer() {
    let provider = Sixtyfour::new(SIXTYFOUR_SECRET).expect("config");
    let body = fixtures::get("sixtyfour", "failed").expect("fixture").body;
    let headers = [
        (
            "sixtyfour-signature",
            "t=1751498975,v1=61cda67a0f6fa80b6eb0610f7dd57eb25334e11dc35052df1e26197dafb9f1aa",
        ),
        ("sixtyfour-event-id", "0d5b3a9e-0000-4000-8000-000000000001"),
    ];
    let opened = provider.open(&headers, body, 1_751_498_975).expect("valid");
    assert!(matches!(opened.event, sixtyfour::Event::Failed(_)));
}

#[test]
fn fullenrich_delivery_ids_are_body_digests() {
    let provider = FullEnrich::new(FULLENRICH_KEY).expect("config");
    let template: serde_json::Value = serde_json::from_slice(
        fixtures::get("fullenrich", "contact_finished.one_record")
            .expect("fixture")
            .body,
    )
    .expect("json");
    // Three contacts of one batch: the same batch id, three deliveries.
    let bodies: Vec<Vec<u8>> = ["Ana", "Ben", "Chloé"]
        .iter()
        .map(|first| {
            let mut body = template.clone();
            body["data"][0]["input"]["first_name"] = (*first).into();
            serde_json::to_vec(&body).expect("ser")
        })
        .collect();
    let ids: Vec<String> = bodies
        .iter()
        .map(|body| {
            let headers = provider.sign_headers(body);
            let opened = provider.open(&headers, body, NOW).expect("valid");
            let webhook_guard::fullenrich::Event::ContactFinished(batch) = &opened.event else {
                panic!("not contact_finished")
            };
            assert_eq!(batch.id, "2db5ea61-1752-42cf-8ea1-ab1da060cd0a");
            opened.delivery_id.to_string()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    assert_ne!(ids[0], ids[2]);
    assert!(ids.iter().all(|id| !id.contains("2db5ea61")));

    // A byte-identical retry gets the same id.
    let retry = bodies[1].clone();
    let headers = provider.sign_headers(&retry);
    let opened = provider.open(&headers, &retry, NOW + 60).expect("valid");
    assert_eq!(opened.delivery_id.as_str(), ids[1]);
    assert_eq!(
        opened.delivery_id.as_str(),
        webhook_guard::DeliveryId::body_digest(&retry).to_string()
    );
}

#[test]
fn fullenrich_known_answer() {
    let provider = FullEnrich::new(FULLENRICH_KEY).expect("config");
    let body = fixtures::get("fullenrich", "batch_completed.empty")
        .expect("fixture")
        .body;
    let headers = [(
        "X-Signature-SHA1",
        "1534b387d4cd28356368f364629e965d6ba282e2",
    )];
    assert!(provider.open(&headers, body, 0).is_ok());
}

#[test]
fn parseflow_delivery_id_and_event_header() {
    let provider = ParseFlow::new(PARSEFLOW_SECRET).expect("config");
    let body = fixtures::get("parseflow", "quota.warning")
        .expect("fixture")
        .body;
    // The known answer.
    let mut headers = vec![
        (
            "X-ParseFlow-Signature",
            "26cc0f1653ee300833631d6c0f28260903baa7e055e7fd295239a58eb19f7637",
        ),
        ("X-ParseFlow-Event", "quota.warning"),
        ("X-ParseFlow-Delivery", "dlv_7f3a"),
    ];
    let opened = provider.open(&headers, body, 0).expect("valid");
    assert_eq!(opened.delivery_id.as_str(), "dlv_7f3a");

    headers[1].1 = "quota.exceeded";
    let error = provider.open(&headers, body, 0).expect_err("mismatch");
    assert!(matches!(
        error,
        OpenError::Parse(ParseError::EventTypeMismatch { .. })
    ));
    assert_eq!(error.status(), 400);

    headers.remove(1);
    assert!(
        provider.open(&headers, body, 0).is_ok(),
        "event header is optional"
    );
    headers.remove(1);
    assert_eq!(
        provider.open(&headers, body, 0),
        Err(OpenError::Parse(ParseError::MissingDeliveryId {
            source: "x-parseflow-delivery".into()
        }))
    );
}

#[test]
fn generic_provider_parses_into_value_or_a_user_type() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Invoice {
        data: InvoiceData,
    }
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct InvoiceData {
        amount: u64,
    }

    let verifier = StandardWebhooks::new(PARALLEL_SECRET).expect("config");
    let body =
        br#"{"type":"invoice.paid","timestamp":"2026-01-01T00:00:00Z","data":{"amount":1200}}"#;
    let headers = verifier.sign_headers("msg_1", NOW, body).expect("hmac");

    let untyped = GenericStandard::new("acme", verifier.clone());
    assert_eq!(untyped.name(), "acme");
    let opened = untyped.open(&headers, body, NOW).expect("valid");
    assert_eq!(opened.delivery_id.as_str(), "msg_1");
    assert_eq!(opened.event.event_type(), "invoice.paid");
    let GenericEvent::Parsed { payload, .. } = &opened.event else {
        panic!("parsed")
    };
    assert_eq!(payload["data"]["amount"], 1200);

    let typed = GenericStandard::<Invoice>::typed("acme", verifier.clone());
    let opened = typed.open(&headers, body, NOW).expect("valid");
    let GenericEvent::Parsed { payload, .. } = opened.event else {
        panic!("parsed")
    };
    assert_eq!(payload.data.amount, 1200);

    // A body that does not fit the user's type is delivered, with the error.
    let other = br#"{"type":"invoice.paid","data":{"amount":"lots"}}"#;
    let headers = verifier.sign_headers("msg_2", NOW, other).expect("hmac");
    let opened = typed.open(&headers, other, NOW).expect("delivered");
    let GenericEvent::Unparsed(unparsed) = opened.event else {
        panic!("unparsed")
    };
    assert_eq!(unparsed.event_type, "invoice.paid");
    assert_eq!(unparsed.raw.get().as_bytes(), other);

    // Not JSON: 400.
    let headers = verifier
        .sign_headers("msg_3", NOW, b"<xml/>")
        .expect("hmac");
    assert_eq!(
        untyped
            .open(&headers, b"<xml/>", NOW)
            .map_err(|e| e.status()),
        Err(400)
    );
}

#[test]
fn delivery_ids_are_refused_before_parsing_when_unusable() {
    let provider = Parallel::new(PARALLEL_SECRET).expect("config");
    let body = fixtures::sample("parallel", "task_run.status")
        .expect("sample")
        .body;
    let long = "x".repeat(300);
    let headers = provider.sign_headers(&long, NOW, body).expect("signs");
    assert!(matches!(
        provider.open(&headers, body, NOW),
        Err(OpenError::Parse(ParseError::InvalidDeliveryId { .. }))
    ));
}
