//! One test per forward-compatibility rule, for every provider where the rule applies.

use webhook_guard::prelude::*;
use webhook_guard::{
    event::{UnknownEvent, UnparsedEvent, lenient::Lenient},
    fixtures, fullenrich, parallel, parseflow, sixtyfour,
};

fn body(provider: &str, name: &str) -> serde_json::Value {
    serde_json::from_slice(fixtures::get(provider, name).expect("fixture").body).expect("json")
}

fn bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serializes")
}

#[test]
fn an_unknown_event_type_is_kept_whole() {
    let parallel_body = br#"{"type":"findall.run.paused","timestamp":"2026-01-01T00:00:00Z","data":{"findall_id":"f1","why":[1,2]}}"#;
    let parallel::Event::Unknown(UnknownEvent {
        event_type, raw, ..
    }) = parallel::Event::from_json(parallel_body).expect("accepted")
    else {
        panic!("not Unknown")
    };
    assert_eq!(event_type, "findall.run.paused");
    assert_eq!(raw.get().as_bytes(), parallel_body);

    let parseflow_body =
        br#"{"event":"document.archived","timestamp":"not even a date","data":42}"#;
    let event = parseflow::Event::from_json(parseflow_body).expect("accepted");
    assert_eq!(event.event_type(), "document.archived");
    assert!(!event.is_known());
    let parseflow::Event::Unknown(unknown) = event else {
        panic!("not Unknown")
    };
    assert_eq!(unknown.raw.get().as_bytes(), parseflow_body);

    let sixtyfour_body = br#"{"task_id":"t-1","status":"running","task_type":"find_email"}"#;
    let event = sixtyfour::Event::from_json(sixtyfour_body).expect("accepted");
    assert_eq!(event.event_type(), "running");
    assert!(!event.is_known());
    assert_eq!(event.task_id().as_deref(), Some("t-1"));
    // Unknown events serialize back to their raw bytes.
    assert_eq!(serde_json::to_vec(&event).expect("ser"), sixtyfour_body);
}

#[test]
fn an_unknown_enum_value_becomes_other() {
    use parallel::findall::{Confidence, Generator, MatchStatus, TerminationReason};

    let mut run = body("parallel", "findall.run.completed");
    run["data"]["status"]["termination_reason"] = "budget_exhausted".into();
    run["data"]["generator"] = "ultra".into();
    let parallel::Event::FindAllRunCompleted(run) =
        parallel::Event::from_json(&bytes(&run)).expect("parses")
    else {
        panic!("not typed")
    };
    assert_eq!(
        run.data.status.termination_reason,
        Some(TerminationReason::Other("budget_exhausted".to_owned()))
    );
    assert_eq!(
        run.data.generator,
        Some(Generator::Other("ultra".to_owned()))
    );

    let mut candidate = body("parallel", "findall.candidate.matched");
    candidate["data"]["match_status"] = "pending_review".into();
    candidate["data"]["basis"][0]["confidence"] = "certain".into();
    let parallel::Event::FindAllCandidateMatched(candidate) =
        parallel::Event::from_json(&bytes(&candidate)).expect("parses")
    else {
        panic!("not typed")
    };
    assert_eq!(
        candidate.data.match_status,
        MatchStatus::Other("pending_review".to_owned())
    );
    assert!(!candidate.data.match_status.is_known());
    assert_eq!(
        candidate.data.basis.as_ref().expect("basis")[0]
            .typed()
            .expect("typed")
            .confidence,
        Some(Confidence::Other("certain".to_owned()))
    );

    let mut batch = body("fullenrich", "batch_completed");
    batch["status"] = "PAUSED".into();
    batch["data"][0]["contact_info"]["most_probable_work_email"]["status"] = "RISKY".into();
    let fullenrich::Event::BatchCompleted(batch) =
        fullenrich::Event::from_json(&bytes(&batch)).expect("parses")
    else {
        panic!("not typed")
    };
    assert_eq!(
        batch.status,
        fullenrich::BatchStatus::Other("PAUSED".to_owned())
    );
    let email = batch.data[0]
        .typed()
        .expect("typed record")
        .contact_info
        .as_ref()
        .and_then(|c| c.most_probable_work_email.as_ref())
        .expect("email");
    assert_eq!(
        email.status,
        Some(fullenrich::EmailStatus::Other("RISKY".to_owned()))
    );

    let mut job = body("sixtyfour", "failed");
    job["task_type"] = "find_linkedin".into();
    let sixtyfour::Event::Failed(job) = sixtyfour::Event::from_json(&bytes(&job)).expect("parses")
    else {
        panic!("not typed")
    };
    assert_eq!(
        job.task_type,
        sixtyfour::TaskType::Other("find_linkedin".to_owned())
    );

    let mut extraction = body("parseflow", "extraction.completed");
    extraction["data"]["documentType"] = "receipt".into();
    let parseflow::Event::ExtractionCompleted(extraction) =
        parseflow::Event::from_json(&bytes(&extraction)).expect("parses")
    else {
        panic!("not typed")
    };
    assert_eq!(
        extraction.data.document_type,
        parseflow::payload::DocumentType::Other("receipt".to_owned())
    );
}

#[test]
fn extra_fields_are_ignored() {
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "parallel",
            "findall.candidate.matched",
            &["data", "output", "founded_after_2020_check"],
        ),
        ("sixtyfour", "completed.find_email", &["result"]),
        (
            "fullenrich",
            "batch_completed",
            &["data", "0", "profile", "location"],
        ),
        ("parseflow", "extraction.completed", &["data", "metadata"]),
    ];
    for (provider, name, path) in cases {
        let original = fixtures::get(provider, name).expect("fixture").body;
        let mut value = body(provider, name);
        value["brand_new_top_level"] = serde_json::json!({"nested": [1, 2, 3]});
        let mut target = &mut value;
        for step in path {
            target = match step.parse::<usize>() {
                Ok(index) => &mut target[index],
                Err(_) => &mut target[*step],
            };
        }
        target["brand_new_field"] = serde_json::json!("x");
        let extended = bytes(&value);
        let debug = |body: &[u8]| match provider {
            "parallel" => format!("{:?}", parallel::Event::from_json(body).expect("parses")),
            "sixtyfour" => format!("{:?}", sixtyfour::Event::from_json(body).expect("parses")),
            "fullenrich" => format!("{:?}", fullenrich::Event::from_json(body).expect("parses")),
            _ => format!("{:?}", parseflow::Event::from_json(body).expect("parses")),
        };
        // The same typed event as without the extra fields.
        assert_eq!(debug(&extended), debug(original), "{provider}/{name}");
        assert!(!debug(&extended).contains("Unparsed"), "{provider}/{name}");
    }
}

#[test]
fn a_known_type_whose_data_does_not_fit_is_delivered_with_the_error() {
    // Parallel: a required field has the wrong type.
    let mut run = body("parallel", "findall.run.completed");
    run["data"]["status"]["is_active"] = "no".into();
    let sent = bytes(&run);
    let event = parallel::Event::from_json(&sent).expect("never rejected");
    assert_eq!(event.event_type(), "findall.run.completed");
    assert!(event.is_known());
    let parallel::Event::Unparsed(UnparsedEvent { raw, error, .. }) = &event else {
        panic!("not Unparsed: {event:?}")
    };
    assert_eq!(raw.get().as_bytes(), sent);
    assert!(
        error.contains("data") && error.contains("expected a boolean"),
        "{error}"
    );
    // It serializes back to what was received.
    assert_eq!(serde_json::to_vec(&event).expect("ser"), sent);

    // Parallel: a timestamp that is not RFC 3339.
    let mut monitor = body("parallel", "monitor.event.detected");
    monitor["timestamp"] = "27/10/2025".into();
    let event = parallel::Event::from_json(&bytes(&monitor)).expect("never rejected");
    let parallel::Event::Unparsed(unparsed) = event else {
        panic!("not Unparsed")
    };
    assert!(
        unparsed.error.starts_with("timestamp"),
        "{}",
        unparsed.error
    );

    // Sixtyfour: a completed job without a result: the job is typed, its result a misfit.
    let event = sixtyfour::Event::from_json(
        br#"{"task_id":"t","status":"completed","task_type":"find_email"}"#,
    )
    .expect("never rejected");
    let sixtyfour::Event::Completed(job) = event else {
        panic!("typed: {event:?}")
    };
    assert_eq!(job.task_id, "t");
    let sixtyfour::JobResult::FindEmail(Lenient::Misfit(misfit)) = &job.result else {
        panic!("a misfit result: {:?}", job.result)
    };
    assert!(misfit.error.contains("result"), "{}", misfit.error);

    // FullEnrich: a record with an object where the caller's id belongs is kept raw in its
    // place; the batch stays typed.
    let mut contact = body("fullenrich", "contact_finished");
    contact["data"][0]["custom"]["user_id"] = serde_json::json!({"id": 12584});
    let event = fullenrich::Event::from_json(&bytes(&contact)).expect("never rejected");
    let fullenrich::Event::ContactFinished(batch) = &event else {
        panic!("typed: {event:?}")
    };
    let misfit = batch.data[0].misfit().expect("a misfit record");
    assert!(misfit.raw.get().contains(r#""user_id":{"id":12584}"#));
    assert_eq!(batch.records().count(), 0);

    // ParseFlow: an invoice whose quantity is no number: that line's quantity is absent, the
    // invoice typed.
    let mut extraction = body("parseflow", "extraction.completed");
    extraction["data"]["data"]["lineItems"][0]["quantity"] = "ten".into();
    let event = parseflow::Event::from_json(&bytes(&extraction)).expect("never rejected");
    let parseflow::Event::ExtractionCompleted(extraction) = event else {
        panic!("typed: {event:?}")
    };
    let parseflow::payload::ExtractedDocument::Invoice(invoice) = &extraction.data.data else {
        panic!("an invoice")
    };
    let line = invoice.line_items.as_ref().expect("lines")[0]
        .typed()
        .expect("typed");
    assert_eq!(line.quantity, None);
    assert!(line.description.is_some());
}

#[test]
fn the_task_run_error_accepts_detail_and_details() {
    let parse = |error: serde_json::Value| {
        let mut run = body("parallel", "task_run.status.failed_details");
        run["data"]["error"] = error;
        match parallel::Event::from_json(&bytes(&run)).expect("parses") {
            parallel::Event::TaskRunStatus(run) => {
                let error = run.data.error.and_then(Lenient::into_typed).expect("error");
                (error.detail, error.details)
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        parse(serde_json::json!({"message": "m", "detail": "a"})),
        (Some("a".into()), None)
    );
    assert_eq!(
        parse(serde_json::json!({"message": "m", "details": "b"})),
        (Some("b".into()), None)
    );
    assert_eq!(parse(serde_json::json!({"message": "m"})), (None, None));
    // Both spellings at once: neither is lost (serde's alias would refuse the pair).
    assert_eq!(
        parse(serde_json::json!({"message": "m", "detail": "a", "details": "b"})),
        (Some("a".into()), Some("b".into()))
    );
}

/// Found by fuzzing (`models`): a FullEnrich body that does not fit, sent with whitespace
/// before it, kept an error whose column counted that whitespace while `raw` (what the event
/// keeps and writes back) does not have it, so the event did not survive a round trip.
#[test]
fn an_unparsed_event_survives_a_round_trip_whatever_the_whitespace_around_it() {
    let cases: [(&str, &[u8]); 4] = [
        (
            "fullenrich",
            br#"{"task_id":"55#0e8400-e29b-41d4-a716-446655440g"}"#,
        ),
        ("sixtyfour", br#"{"status":"completed","task_id":"t1"}"#),
        (
            "parallel",
            br#"{"type":"task_run.status","timestamp":"2025-10-27T15:02:11Z","data":{"run_id":5}}"#,
        ),
        (
            "parseflow",
            br#"{"event":"quota.warning","timestamp":"2025-10-27T15:02:11Z","data":{"used":"x"}}"#,
        ),
    ];
    for (provider, json) in cases {
        let mut body = b"\t\t\t\n   ".repeat(20);
        body.extend_from_slice(json);
        body.extend_from_slice(b"\n\n");
        macro_rules! check {
            ($event:ty) => {{
                let event = <$event>::from_json(&body).expect("accepted");
                assert!(event.is_known(), "{provider}: {event:?}");
                let written = serde_json::to_vec(&event).expect("serializes");
                assert_eq!(
                    written, json,
                    "{provider}: raw is the value without whitespace"
                );
                let again = <$event>::from_json(&written).expect("parses again");
                assert_eq!(event, again, "{provider}");
            }};
        }
        match provider {
            "fullenrich" => check!(fullenrich::Event),
            "sixtyfour" => check!(sixtyfour::Event),
            "parallel" => check!(parallel::Event),
            _ => check!(parseflow::Event),
        }
    }
}

/// A Sixtyfour job whose envelope fields have other JSON types than documented bends where it
/// can, and is otherwise still an event of its type: delivered `Unparsed` with the reason, not
/// refused (a refusal would be retried forever).
#[test]
fn sixtyfour_fields_of_another_type_bend_or_are_unparsed_not_refused() {
    let bent = |body: &[u8]| sixtyfour::Event::from_json(body).expect("an event");
    let sixtyfour::Event::Completed(job) =
        bent(br#"{"task_id":"t1","status":"completed","task_type":7,"result":{}}"#)
    else {
        panic!("typed")
    };
    assert_eq!(job.task_type, sixtyfour::TaskType::Other("7".to_owned()));
    let sixtyfour::Event::Failed(job) =
        bent(br#"{"task_id":42,"status":"failed","task_type":"find_email","error":{"code":5}}"#)
    else {
        panic!("typed")
    };
    assert_eq!(
        (job.task_id.as_str(), job.error.as_str()),
        ("42", r#"{"code":5}"#)
    );

    for (body, reason) in [
        (
            &br#"{"task_id":"t1","status":"completed","task_type":null,"result":{}}"#[..],
            "task_type",
        ),
        (
            br#"{"task_id":{"id":1},"status":"failed","task_type":"find_email","error":"x"}"#,
            "task_id",
        ),
        (
            br#"{"task_id":"t1","status":"failed","task_type":"find_email"}"#,
            "error",
        ),
    ] {
        let event = sixtyfour::Event::from_json(body).expect("an event");
        let sixtyfour::Event::Unparsed(UnparsedEvent { error, raw, .. }) = &event else {
            panic!("not Unparsed: {event:?}");
        };
        assert!(error.contains(reason), "{error}");
        assert_eq!(raw.get().as_bytes(), body);
    }
    // Without a string `status` the body is not a Sixtyfour event at all.
    assert!(sixtyfour::Event::from_json(br#"{"status":5}"#).is_err());
}
