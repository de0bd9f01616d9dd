//! Every fixture parses into its typed variant, round-trips, and matches the provider pages.

use std::path::PathBuf;
use webhook_guard::event::lenient::Lenient;
use webhook_guard::prelude::*;

use webhook_guard::{
    event::ParseError,
    fixtures::{self, Fixture, Origin},
    fullenrich, parallel, parseflow, sixtyfour,
};

/// A UTC date-time.
fn utc(
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nano: u32,
) -> time::OffsetDateTime {
    time::Date::from_calendar_date(year, time::Month::try_from(month).expect("month"), day)
        .and_then(|date| date.with_hms_nano(hour, minute, second, nano))
        .expect("valid date-time")
        .assume_utc()
}

/// Parses a fixture with its provider's event type, checks the variant is the typed one for
/// the fixture's event type, and checks the round trip. Returns the event's debug text.
fn parse_typed_and_round_trip(fixture: &Fixture) -> String {
    macro_rules! check {
        ($event:ty, $body:expr, $is_typed:expr) => {{
            let event =
                <$event>::from_json($body).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            assert!($is_typed(&event), "{}: parsed as {event:?}", fixture.name);
            assert_eq!(event.event_type(), fixture.event_type, "{}", fixture.name);
            assert!(event.is_known());
            let written = serde_json::to_vec(&event).expect("serializes");
            let again = <$event>::from_json(&written).expect("own output parses");
            assert_eq!(again, event, "{}: round trip", fixture.name);
            format!("{event:?}")
        }};
    }
    match fixture.provider {
        "parallel" => {
            use parallel::Event as E;
            check!(E, fixture.body, |ev: &E| !matches!(
                ev,
                E::Unknown(_) | E::Unparsed(_)
            ))
        }
        "sixtyfour" => {
            use sixtyfour::Event as E;
            check!(E, fixture.body, |ev: &E| matches!(
                ev,
                E::Completed(_) | E::Failed(_)
            ))
        }
        "fullenrich" => {
            use fullenrich::Event as E;
            check!(E, fixture.body, |ev: &E| !matches!(ev, E::Unparsed(_)))
        }
        "parseflow" => {
            use parseflow::Event as E;
            check!(E, fixture.body, |ev: &E| !matches!(
                ev,
                E::Unknown(_) | E::Unparsed(_)
            ))
        }
        // A provider with no arm here (its typed checks are in its own module): through its
        // catalogue entry, signed, authenticated and parsed as any provider.
        other => {
            let entry = webhook_guard::catalog::get(other).expect("in the catalogue");
            let config = webhook_guard::catalog::Config::new(entry.secret.demo);
            let provider = (entry.build)(&config).expect("demo secret");
            let request = webhook_guard::catalog::SignRequest::new("dlv_fixture", 0, fixture);
            let headers = (entry.sign)(entry.secret.demo, &request).expect("signs");
            let opened = provider
                .open(&headers, fixture.body, 0)
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            assert_eq!(
                opened.event.event_type(),
                fixture.event_type,
                "{}",
                fixture.name
            );
            assert!(opened.event.is_known(), "{}", fixture.name);
            format!("{:?}", opened.event)
        }
    }
}

#[test]
fn every_fixture_parses_into_its_typed_variant_and_round_trips() {
    assert!(fixtures::all().count() >= 29);
    for fixture in fixtures::all() {
        parse_typed_and_round_trip(fixture);
    }
}

#[test]
fn every_documented_event_type_has_a_sample() {
    let documented: [(&str, &[&str]); 4] = [
        ("parallel", parallel::Event::TYPES),
        ("sixtyfour", sixtyfour::Event::TYPES),
        ("fullenrich", fullenrich::Event::TYPES),
        ("parseflow", parseflow::Event::TYPES),
    ];
    for (provider, types) in documented {
        let mut sampled = fixtures::event_types(provider);
        sampled.sort_unstable();
        let mut types = types.to_vec();
        types.sort_unstable();
        assert_eq!(sampled, types, "{provider}");
    }
    assert_eq!(parallel::Event::TYPES.len(), 12);
    assert_eq!(parseflow::Event::TYPES.len(), 6);
}

#[test]
fn fixture_names_are_unique_per_provider() {
    let all: Vec<_> = fixtures::all().collect();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(a.provider != b.provider || a.name != b.name, "{}", a.name);
        }
    }
}

/// The filled-in fixtures keep every byte of the page's example outside its `...` placeholders.
#[test]
fn filled_fixtures_differ_from_the_pages_only_at_placeholders() {
    let mut seen = 0;
    for fixture in fixtures::all() {
        let Origin::PlaceholdersFilled { original, .. } = fixture.origin else {
            continue;
        };
        seen += 1;
        let original = std::str::from_utf8(original).expect("utf-8");
        let body = std::str::from_utf8(fixture.body).expect("utf-8");
        assert!(
            serde_json::from_str::<serde_json::Value>(original).is_err(),
            "{}: the page's text is not JSON, that is why it was filled",
            fixture.name
        );
        let placeholders = ["{ ... }", "[{ ... }]", "[...]"];
        let mut segments = vec![original];
        for placeholder in placeholders {
            segments = segments
                .into_iter()
                .flat_map(|s| s.split(placeholder))
                .collect();
        }
        assert!(segments.len() > 1, "{}: no placeholder", fixture.name);
        let mut rest = body;
        for (i, segment) in segments.iter().enumerate() {
            let at = if i == 0 {
                assert!(rest.starts_with(segment), "{}: prefix", fixture.name);
                0
            } else {
                rest.find(segment)
                    .unwrap_or_else(|| panic!("{}: segment {i} missing", fixture.name))
            };
            rest = &rest[at + segment.len()..];
        }
        assert!(rest.is_empty(), "{}: trailing bytes", fixture.name);
    }
    assert_eq!(seen, 3);
}

/// The JSON code blocks of a page, with the block's indentation removed.
fn code_blocks(page: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if !trimmed.starts_with("```json") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let mut block = String::new();
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            block.push_str(line.get(indent..).unwrap_or(""));
            block.push('\n');
        }
        blocks.push(block);
    }
    blocks
}

/// Verbatim fixtures are byte for byte the code blocks of the provider pages, kept outside
/// the repository (`../shared/seeds`, or `WEBHOOK_GUARD_SEEDS`). Ignored by default, so a
/// clone without the pages lists it as ignored instead of passing it unchecked; run it with
/// `cargo test -p webhook-guard --test fixtures -- --ignored` (CI does where the pages are).
#[test]
#[ignore = "needs the providers' pages outside the repository: run with --ignored"]
fn verbatim_fixtures_match_the_provider_pages() {
    let seeds = std::env::var_os("WEBHOOK_GUARD_SEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds"));
    if !seeds.is_dir() {
        panic!(
            "provider pages not found at {} (set WEBHOOK_GUARD_SEEDS)",
            seeds.display()
        );
    }
    let mut checked = 0;
    for fixture in fixtures::all() {
        let (page, expected) = match fixture.origin {
            Origin::Verbatim { page } => (page, fixture.body),
            Origin::PlaceholdersFilled { page, original } => (page, original),
            _ => continue,
        };
        let text = std::fs::read_to_string(seeds.join(page)).expect("page readable");
        let expected = std::str::from_utf8(expected).expect("utf-8");
        let found = if page == "parseflow-webhooks.md" {
            // This page is plain text: the example is the lines from `{` to `}`.
            let start = text.find("{\n  \"event\"").expect("example start");
            let end = start + text[start..].find("\n}\n").expect("example end") + 3;
            text[start..end] == *expected
        } else {
            code_blocks(&text).iter().any(|block| block == expected)
        };
        assert!(found, "{} is not a code block of {page}", fixture.name);
        checked += 1;
    }
    assert_eq!(checked, 11);
}

#[test]
fn parallel_concrete_values() {
    use parallel::{
        Event,
        findall::{
            Confidence, FindAllStatus, Generator, MatchStatus, OutputType, TerminationReason,
        },
        task::{TaskRunStatus, WarningType},
    };
    let parse = |name| {
        Event::from_json(fixtures::get("parallel", name).expect("fixture").body).expect("parses")
    };

    let Event::FindAllCandidateMatched(matched) = parse("findall.candidate.matched") else {
        panic!("variant")
    };
    let candidate = &matched.data;
    assert_eq!(candidate.name, "Vivodyne");
    assert_eq!(candidate.match_status, MatchStatus::Matched);
    let output = candidate
        .output("founded_after_2020_check")
        .expect("typed output");
    assert_eq!(output.value, serde_json::json!("2021"));
    assert_eq!(output.kind, OutputType::MatchCondition);
    assert_eq!(output.is_matched, Some(true));
    let basis = candidate.basis.as_ref().expect("basis")[0]
        .typed()
        .expect("typed basis");
    assert_eq!(
        basis.citations[0].url,
        "https://www.crunchbase.com/organization/vivodyne"
    );
    assert_eq!(
        basis.citations[0].excerpts.as_deref(),
        Some(&["Founded in 2021".to_owned()][..])
    );
    assert_eq!(basis.confidence, Some(Confidence::High));
    assert_eq!(
        matched.timestamp,
        utc(2025, 10, 27, 14, 57, 15, 421_087_000)
    );

    let Event::FindAllCandidateGenerated(older) = parse("findall.candidate.generated") else {
        panic!("variant")
    };
    assert_eq!(older.data.findall_id, None);
    assert_eq!(older.data.output, None);
    assert_eq!(older.data.basis, None);

    let Event::FindAllRunCompleted(run) = parse("findall.run.completed") else {
        panic!("variant")
    };
    assert_eq!(run.data.status.status, FindAllStatus::Completed);
    assert_eq!(run.data.status.metrics.generated_candidates_count, Some(5));
    assert_eq!(run.data.status.metrics.matched_candidates_count, Some(1));
    assert_eq!(
        run.data.status.termination_reason,
        Some(TerminationReason::MatchLimitMet)
    );
    assert_eq!(run.data.generator, Some(Generator::Core));
    let Event::FindAllRunCancelled(run) = parse("findall.run.cancelled") else {
        panic!("variant")
    };
    assert_eq!(
        run.data.status.termination_reason,
        Some(TerminationReason::UserCancelled)
    );
    let Event::FindAllRunFailed(run) = parse("findall.run.failed") else {
        panic!("variant")
    };
    assert_eq!(
        run.data.status.termination_reason,
        Some(TerminationReason::ErrorOccurred)
    );

    let Event::FindAllCandidateEnriched(enriched) = parse("findall.candidate.enriched") else {
        panic!("variant")
    };
    let output = enriched.data.output.as_ref().expect("output");
    let headcount = output["headcount"].typed().expect("typed");
    assert_eq!(headcount.value, serde_json::json!(85));
    assert_eq!(headcount.kind, OutputType::Enrichment);
    let basis = enriched.data.basis.as_ref().expect("basis");
    assert_eq!(basis[0].typed().expect("typed").field, "key_executives.0");
    assert_eq!(basis[1].typed().expect("typed").confidence, None);

    let Event::TaskRunStatus(task) = parse("task_run.status") else {
        panic!("variant")
    };
    assert_eq!(task.data.status, TaskRunStatus::Completed);
    assert!(!task.data.is_active);
    assert_eq!(
        task.data.metadata.as_ref().expect("metadata")["priority"],
        serde_json::json!(2)
    );
    let warnings = task.data.warnings.as_ref().expect("warnings");
    assert_eq!(
        warnings[0].typed().expect("typed").kind,
        WarningType::InputValidationWarning
    );

    let Event::TaskRunStatus(failed) = parse("task_run.status.failed_details") else {
        panic!("variant")
    };
    assert_eq!(failed.data.status, TaskRunStatus::Failed);
    let error = failed
        .data
        .error
        .as_ref()
        .and_then(Lenient::typed)
        .expect("error");
    assert_eq!(error.ref_id.as_deref(), Some("err_7d1c55e0a3b94f2f"));
    assert_eq!(
        error.detail,
        Some(serde_json::json!({"reason": "schema_mismatch"}))
    );
    assert_eq!(failed.data.metadata, None);

    let Event::MonitorEventDetected(detected) = parse("monitor.event.detected") else {
        panic!("variant")
    };
    assert_eq!(
        detected
            .data
            .event
            .typed()
            .expect("typed record")
            .event_group_id,
        "mevtgrp_b0079f70195e4258eab1e7284340f1a9ec3a8033ed236a24"
    );
    assert_eq!(
        detected.data.metadata.as_ref().expect("metadata")["team"],
        "research"
    );
    let Event::MonitorExecutionCompleted(completed) = parse("monitor.execution.completed") else {
        panic!("variant")
    };
    assert_eq!(
        completed
            .data
            .event
            .typed()
            .expect("typed record")
            .completed_at(),
        Some(utc(2025, 1, 15, 10, 30, 0, 0))
    );
    let Event::MonitorExecutionFailed(failed) = parse("monitor.execution.failed") else {
        panic!("variant")
    };
    assert_eq!(
        failed.data.event.typed().expect("typed record").error,
        "Error occurred while processing the event"
    );
    assert_eq!(
        failed.data.event.typed().expect("typed record").date,
        utc(2025, 1, 15, 10, 30, 0, 0)
    );
}

#[test]
fn sixtyfour_concrete_values() {
    use sixtyfour::{EmailVerdict, Event, JobResult, TaskType};
    let parse = |name| {
        Event::from_json(fixtures::get("sixtyfour", name).expect("fixture").body).expect("parses")
    };
    let Event::Completed(job) = parse("completed.find_email") else {
        panic!("variant")
    };
    assert_eq!(job.task_type, TaskType::FindEmail);
    let Some(result) = job.result.find_email() else {
        panic!("typed find_email result")
    };
    let found = result.email[0].typed().expect("typed address");
    assert_eq!(found.address(), "john.doe@acme.com");
    assert_eq!(found.verdict(), &EmailVerdict::Ok);
    let Event::Completed(job) = parse("completed.company_intelligence") else {
        panic!("variant")
    };
    assert_eq!(job.task_type, TaskType::CompanyIntelligence);
    let JobResult::Other(result) = &job.result else {
        panic!("json result")
    };
    assert_eq!(result["employee_count"], 120);
    let Event::Failed(job) = parse("failed") else {
        panic!("variant")
    };
    assert_eq!(job.task_id, "550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(job.error, "Error message describing what went wrong");
}

#[test]
fn fullenrich_concrete_values() {
    use fullenrich::{BatchStatus, EmailStatus, Event};
    let parse = |name| {
        Event::from_json(fixtures::get("fullenrich", name).expect("fixture").body).expect("parses")
    };
    let Event::BatchCompleted(batch) = parse("batch_completed") else {
        panic!("variant")
    };
    assert_eq!(batch.status, BatchStatus::Finished);
    assert_eq!(batch.cost.and_then(|c| c.credits), Some(21));
    assert_eq!(batch.data.len(), 3);
    let info = batch.data[1]
        .typed()
        .expect("typed record")
        .contact_info
        .as_ref()
        .expect("contact info");
    let work = info.most_probable_work_email.as_ref().expect("work email");
    assert_eq!(work.email.as_deref(), Some("james.okafor@contoso.example"));
    assert_eq!(work.status, Some(EmailStatus::Invalid));
    assert_eq!(
        info.work_emails.as_ref().expect("emails")[1].status,
        Some(EmailStatus::CatchAll)
    );
    let company = batch.data[0]
        .typed()
        .expect("typed record")
        .profile
        .as_ref()
        .and_then(|p| p.employment.as_ref())
        .and_then(|e| e.current.as_ref())
        .and_then(|p| p.company.as_ref())
        .expect("company");
    assert_eq!(company.headcount, Some(240));
    assert_eq!(batch.data[2].typed().expect("typed record").profile, None);

    let Event::ContactFinished(contact) = parse("contact_finished") else {
        panic!("variant")
    };
    assert_eq!(contact.status, BatchStatus::InProgress);
    assert_eq!(contact.data.len(), 1);
    let info = contact.data[0]
        .typed()
        .expect("typed record")
        .contact_info
        .as_ref()
        .expect("contact info");
    assert_eq!(
        info.most_probable_work_email
            .as_ref()
            .and_then(|e| e.status.clone()),
        Some(EmailStatus::Deliverable)
    );

    let Event::BatchCompleted(batch) = parse("batch_completed.credits_insufficient") else {
        panic!("variant")
    };
    assert_eq!(batch.status, BatchStatus::CreditsInsufficient);

    let Event::ReverseEmailLookup(lookup) = parse("reverse_email_lookup") else {
        panic!("variant")
    };
    assert_eq!(
        lookup.data[0].typed().expect("typed record").input.email,
        "maria.garcia@northwind.example"
    );
    assert_eq!(
        lookup.data[0]
            .typed()
            .expect("typed record")
            .profile
            .as_ref()
            .and_then(|p| p.full_name.as_deref()),
        Some("Maria Garcia")
    );
}

#[test]
fn parseflow_concrete_values() {
    use parseflow::{
        Event,
        payload::{DocumentType, ExtractedDocument, ProcessingStatus},
    };
    let parse = |name| {
        Event::from_json(fixtures::get("parseflow", name).expect("fixture").body).expect("parses")
    };
    let Event::ExtractionCompleted(extraction) = parse("extraction.completed") else {
        panic!("variant")
    };
    let data = &extraction.data;
    assert_eq!(data.processing_time_ms, 1240);
    assert_eq!(data.document_type, DocumentType::Invoice);
    assert_eq!(data.status, ProcessingStatus::Completed);
    assert!((data.confidence - 0.94).abs() < 1e-9);
    assert_eq!(data.metadata.typed().expect("typed").file_size, 145_230);
    let ExtractedDocument::Invoice(invoice) = &data.data else {
        panic!("typed invoice")
    };
    assert_eq!(invoice.invoice_number.as_deref(), Some("INV-2026-0042"));
    let line = invoice.line_items.as_ref().expect("lines")[0]
        .typed()
        .expect("typed line");
    assert_eq!(line.quantity, Some(10.0));
    assert_eq!(line.unit_price, Some(4.5));
    assert_eq!(extraction.timestamp, utc(2026, 4, 14, 10, 5, 0, 0));

    let Event::ExtractionFailed(failed) = parse("extraction.failed") else {
        panic!("variant")
    };
    assert_eq!(
        failed.data.error.as_deref(),
        Some("Unsupported file format: image/heic")
    );
    assert_eq!(failed.data.processing_time_ms, Some(87));
    let Event::BatchCompleted(batch) = parse("batch.completed") else {
        panic!("variant")
    };
    assert_eq!(batch.data.completed_documents, Some(24));
    assert!(batch.data.raw.get().contains("totalDocuments"));
    let Event::QuotaExceeded(quota) = parse("quota.exceeded") else {
        panic!("variant")
    };
    assert_eq!(quota.data.percentage, Some(100.0));
    // A field the model does not know is kept in the raw object.
    assert_eq!(quota.data.raw.to_value()["plan"], "pro");
}

#[test]
fn a_body_that_is_not_json_is_a_parse_error() {
    for body in [&b""[..], b"not json", b"{\"type\":", b"\xff\xfe"] {
        assert!(matches!(
            parallel::Event::from_json(body),
            Err(ParseError::InvalidJson { .. })
        ));
        assert!(matches!(
            sixtyfour::Event::from_json(body),
            Err(ParseError::InvalidJson { .. })
        ));
        assert!(matches!(
            fullenrich::Event::from_json(body),
            Err(ParseError::InvalidJson { .. })
        ));
        assert!(matches!(
            parseflow::Event::from_json(body),
            Err(ParseError::InvalidJson { .. })
        ));
    }
}
