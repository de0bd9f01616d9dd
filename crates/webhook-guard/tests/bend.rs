//! Models bend instead of break: every fixture of every provider, with random leaf values
//! changed to another JSON type and random fields dropped, is never rejected, keeps its event
//! type, keeps its raw body byte for byte when it falls back to `Unparsed` (only for a change in
//! the envelope), and every field that was not touched keeps its typed value.

use proptest::prelude::*;
use serde_json::Value;
use webhook_guard::WebhookEvent;
use webhook_guard::{
    event::{UnparsedEvent, lenient::Lenient},
    fixtures::{self, Fixture},
    fullenrich, github, parallel, parseflow, sixtyfour, stripe,
};

/// What a parse gave, in terms every provider shares.
#[derive(Debug)]
struct Outcome {
    event_type: String,
    known: bool,
    /// The raw body of an `Unparsed` event.
    unparsed: Option<String>,
    /// The event written back, as JSON.
    written: Value,
    /// How many sub-objects were kept aside as misfits.
    misfits: usize,
    /// The event, for comparisons.
    debug: String,
    /// The event written back, as sent on the wire.
    bytes: Vec<u8>,
}

fn outcome<E: WebhookEvent + serde::Serialize>(
    event: &E,
    unparsed: Option<&UnparsedEvent>,
) -> Outcome {
    Outcome {
        event_type: event.event_type().to_owned(),
        known: event.is_known(),
        unparsed: unparsed.map(|u| u.raw.get().to_owned()),
        written: serde_json::to_value(event).expect("every event serializes"),
        misfits: format!("{event:?}").matches("Misfit(Misfit {").count(),
        debug: format!("{event:?}"),
        bytes: serde_json::to_vec(event).expect("every event serializes"),
    }
}

/// Parses `body` as a delivery of `fixture`'s provider (and, for GitHub, its event name).
fn parse(fixture: &Fixture, body: &[u8]) -> Result<Outcome, webhook_guard::ParseError> {
    macro_rules! read {
        ($module:ident, $event:expr) => {{
            let event = $event?;
            let unparsed = match &event {
                $module::Event::Unparsed(u) => Some(u),
                _ => None,
            };
            outcome(&event, unparsed)
        }};
    }
    Ok(match fixture.provider {
        "parallel" => read!(parallel, parallel::Event::from_json(body)),
        "parseflow" => read!(parseflow, parseflow::Event::from_json(body)),
        "sixtyfour" => read!(sixtyfour, sixtyfour::Event::from_json(body)),
        "fullenrich" => read!(fullenrich, fullenrich::Event::from_json(body)),
        "github" => read!(github, github::Event::from_json(fixture.event_type, body)),
        "stripe" => read!(stripe, stripe::Event::from_json(body)),
        other => panic!("a provider this test does not know: {other}"),
    })
}

/// A path into a JSON value: object keys and array indexes.
type Path = Vec<Step>;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The fields that decide which event a body is: changing them changes the event type, so
/// they are left alone.
fn is_discriminator(provider: &str, path: &[Step]) -> bool {
    let top = |name: &str| path.len() == 1 && path[0] == Step::Key(name.to_owned());
    match provider {
        "parallel" | "stripe" => top("type"),
        "parseflow" => top("event"),
        "sixtyfour" => top("status"),
        // FullEnrich tells its deliveries apart by the status and by whether the records'
        // inputs are addresses.
        "fullenrich" => {
            top("status")
                || (path.len() >= 3
                    && path[0] == Step::Key("data".to_owned())
                    && path[2] == Step::Key("input".to_owned())
                    && path
                        .get(3)
                        .is_none_or(|s| *s == Step::Key("email".to_owned())))
        }
        _ => false,
    }
}

/// Where a change may make the whole event `Unparsed`: the envelope — the time, the payload
/// itself, and the payload's own fields that say what the event is (ids, states, required
/// fields). Everything deeper degrades locally.
fn in_envelope(provider: &str, path: &[Step]) -> bool {
    let depth = path.len();
    match provider {
        // `{type, timestamp, data}`: the payload's own fields, and a FindAll run's `status`.
        "parallel" => {
            depth <= 2
                || (depth == 3
                    && path[1] == Step::Key("status".to_owned())
                    && path[0] == Step::Key("data".to_owned()))
        }
        "parseflow" => depth <= 2,
        // Flat bodies: the top-level fields.
        "sixtyfour" | "fullenrich" => depth <= 1,
        // Stripe's event object and its `data`.
        "stripe" => depth <= 2,
        // GitHub: a body that is an object always fits.
        _ => false,
    }
}

/// Every leaf (scalar, empty list, empty object) and its path.
fn leaves(value: &Value, path: &mut Path, out: &mut Vec<Path>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(Step::Key(key.clone()));
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, child) in items.iter().enumerate() {
                path.push(Step::Index(index));
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn get<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(index) => value.get(index),
    })
}

fn get_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Key(key) => value.get_mut(key),
        Step::Index(index) => value.get_mut(index),
    })
}

/// One change: the leaf at `leaf` (an index into the leaves) gets the JSON type `kind`, or,
/// with `drop`, is removed from its object.
#[derive(Debug, Clone)]
struct Change {
    leaf: usize,
    kind: u8,
    drop: bool,
}

/// A value of the JSON type `kind` (0..6), other than `old`'s type where possible.
fn of_kind(kind: u8, old: &Value) -> Value {
    let text = match old {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let kinds = [
        // A string: the old value's text (a number as text, say), so coercions are exercised.
        Value::String(if old.is_string() {
            "changed".into()
        } else {
            text
        }),
        // A number: the old text's number if it is one.
        old.as_str()
            .and_then(|t| t.parse::<f64>().ok())
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::from(7), Value::Number),
        Value::Bool(!old.as_bool().unwrap_or(false)),
        Value::Null,
        serde_json::json!({"changed": old.clone()}),
        serde_json::json!([old.clone()]),
    ];
    let same = |v: &Value| std::mem::discriminant(v) == std::mem::discriminant(old);
    let kind = usize::from(kind) % kinds.len();
    (0..kinds.len())
        .map(|offset| &kinds[(kind + offset) % kinds.len()])
        .find(|v| !same(v))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Applies the changes; returns the changed paths (dropped ones included).
fn apply(provider: &str, value: &mut Value, changes: &[Change]) -> Vec<Path> {
    let mut all = Vec::new();
    leaves(value, &mut Vec::new(), &mut all);
    all.retain(|path| !path.is_empty() && !is_discriminator(provider, path));
    let mut changed: Vec<Path> = Vec::new();
    for change in changes {
        if all.is_empty() {
            break;
        }
        let path = all[change.leaf % all.len()].clone();
        // A path under or over an earlier change may no longer exist: skip it.
        if changed
            .iter()
            .any(|p| p.starts_with(&path) || path.starts_with(p))
        {
            continue;
        }
        let (last, parent) = path.split_last().expect("not the root");
        match (change.drop, last) {
            (true, Step::Key(key)) => {
                if let Some(Value::Object(map)) = get_mut(value, parent) {
                    map.remove(key);
                }
            }
            _ => {
                let Some(slot) = get_mut(value, &path) else {
                    continue;
                };
                *slot = of_kind(change.kind, slot);
            }
        }
        changed.push(path);
    }
    changed
}

/// JSON equality with numbers compared by value (`10` and `10.0` are the same number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn related(a: &[Step], b: &[Step]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// How a changed body was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Typed, with no more sub-objects put aside than before.
    Typed,
    /// Typed, with a sub-object put aside.
    Misfit,
    /// The envelope did not fit.
    Unparsed,
}

fn check(fixture: &Fixture, changes: &[Change]) -> Result<Read, TestCaseError> {
    let label = format!("{}:{}", fixture.provider, fixture.name);
    let original = parse(fixture, fixture.body).expect("every fixture parses");
    let input: Value = serde_json::from_slice(fixture.body).expect("JSON");
    let mut value = input.clone();
    let changed = apply(fixture.provider, &mut value, changes);
    let body = serde_json::to_vec_pretty(&value).expect("serializes");

    let parsed = parse(fixture, &body);
    let Ok(parsed) = parsed else {
        return Err(TestCaseError::fail(format!(
            "{label}: rejected after {changed:?}: {parsed:?}"
        )));
    };
    prop_assert_eq!(
        &parsed.event_type,
        &original.event_type,
        "{} after {:?}",
        label,
        changed
    );
    prop_assert_eq!(parsed.known, original.known, "{}", label);
    // Written back and read again, it is the same event.
    let again = parse(fixture, &parsed.bytes).expect("what was written parses");
    prop_assert_eq!(&again.debug, &parsed.debug, "{}: round trip", label);

    if let Some(raw) = &parsed.unparsed {
        prop_assert_eq!(raw.as_bytes(), &body[..], "{}: the raw body", label);
        prop_assert!(
            changed.iter().any(|p| in_envelope(fixture.provider, p)),
            "{label}: Unparsed after changes outside the envelope {changed:?}"
        );
        return Ok(Read::Unparsed);
    }

    // Each change puts aside at most one sub-object: the smallest that holds it.
    prop_assert!(
        parsed.misfits <= original.misfits + changed.len(),
        "{label}: {} misfits after {changed:?}",
        parsed.misfits
    );

    // Every leaf the original event typed, and no change touched, is still there with its
    // value (typed, or in the raw JSON of the sub-object put aside, where it was sent).
    let mut typed = Vec::new();
    leaves(&original.written, &mut Vec::new(), &mut typed);
    for path in typed {
        if changed.iter().any(|p| related(p, &path)) || get(&input, &path).is_none() {
            continue;
        }
        let before = get(&original.written, &path).expect("a leaf");
        let sent = get(&value, &path).expect("untouched");
        let after = get(&parsed.written, &path);
        prop_assert!(
            after.is_some_and(|after| same(after, before) || same(after, sent)),
            "{label}: {path:?} was {before} and is {after:?} after {changed:?}"
        );
    }
    Ok(if parsed.misfits > original.misfits {
        Read::Misfit
    } else {
        Read::Typed
    })
}

fn every_fixture() -> Vec<&'static Fixture> {
    fixtures::all().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    #[test]
    fn a_changed_or_dropped_field_bends_only_where_it_is(
        index in any::<prop::sample::Index>(),
        changes in prop::collection::vec(
            (any::<usize>(), 0u8..6, prop::bool::weighted(0.25))
                .prop_map(|(leaf, kind, drop)| Change { leaf, kind, drop }),
            1..=3,
        ),
    ) {
        let fixtures = every_fixture();
        check(fixtures[index.index(fixtures.len())], &changes)?;
    }
}

/// Every leaf of every fixture, each changed alone to every other JSON type and dropped: the
/// same properties, exhaustively for one change at a time.
#[test]
fn every_single_leaf_of_every_fixture_bends() {
    let mut runs = 0;
    let mut reads = std::collections::BTreeMap::<(&str, String), usize>::new();
    for fixture in every_fixture() {
        let input: Value = serde_json::from_slice(fixture.body).expect("JSON");
        let mut all = Vec::new();
        leaves(&input, &mut Vec::new(), &mut all);
        all.retain(|path| !path.is_empty() && !is_discriminator(fixture.provider, path));
        // Large bodies: every leaf of the first 400.
        for leaf in 0..all.len().min(400) {
            for kind in 0..6 {
                let change = Change {
                    leaf,
                    kind,
                    drop: false,
                };
                let read = check(fixture, &[change]).unwrap_or_else(|e| panic!("{e}"));
                *reads
                    .entry((fixture.provider, format!("{read:?}")))
                    .or_default() += 1;
                runs += 1;
            }
            let drop = Change {
                leaf,
                kind: 0,
                drop: true,
            };
            let read = check(fixture, &[drop]).unwrap_or_else(|e| panic!("{e}"));
            *reads
                .entry((fixture.provider, format!("{read:?}")))
                .or_default() += 1;
        }
    }
    println!("changes tried, by how the body was read: {reads:?}");
    assert!(runs > 1_000, "{runs} changes tried");
    // Most single changes leave the event typed; `Unparsed` is the exception.
    let unparsed: usize = reads
        .iter()
        .filter(|((_, read), _)| read == "Unparsed")
        .map(|(_, n)| n)
        .sum();
    let all: usize = reads.values().sum();
    assert!(
        unparsed * 5 < all,
        "{unparsed} of {all} changes gave Unparsed"
    );
}

/// The fixtures for the real shapes parse as the docs describe them.
#[test]
fn the_real_shapes_stay_typed() {
    use sixtyfour::{EmailType, EmailVerdict, FoundEmail};

    let parse = |name| {
        let fixture = fixtures::get("sixtyfour", name).expect("fixture");
        match sixtyfour::Event::from_json(fixture.body).expect("parses") {
            sixtyfour::Event::Completed(job) => job,
            other => panic!("{name}: {other:?}"),
        }
    };
    let job = parse("completed.find_email.three_tuple");
    let result = job.result.find_email().expect("typed result");
    assert_eq!(result.name.as_deref(), Some("Saanvi Rao"));
    assert_eq!(
        result.addresses().cloned().collect::<Vec<_>>(),
        [
            FoundEmail::new(
                "saanvi.rao@fabrikam.example",
                EmailVerdict::Ok,
                Some(EmailType::Company)
            ),
            FoundEmail::new(
                "srao@fabrikam.example",
                EmailVerdict::Unknown,
                Some(EmailType::Company)
            ),
        ]
    );
    let job = parse("completed.find_email.personal");
    let result = job.result.find_email().expect("typed result");
    assert!(result.email.is_empty());
    assert_eq!(result.personal_email.len(), 2);
    assert!(
        result
            .addresses()
            .all(|found| found.kind == Some(EmailType::Personal))
    );
    assert_eq!(
        result.addresses().map(|f| &f.status).collect::<Vec<_>>(),
        [&EmailVerdict::Ok, &EmailVerdict::Unknown]
    );
    // Two-element tuples, as older results send them, have no type.
    let job = parse("completed.find_email");
    let found = job.result.find_email().expect("typed").addresses().next();
    assert_eq!(found.map(|f| f.kind.clone()), Some(None));

    // A batch with one odd record: the others stay typed, the odd one is kept as sent.
    let fixture = fixtures::get("fullenrich", "batch_completed.one_odd_record").expect("fixture");
    let fullenrich::Event::BatchCompleted(batch) =
        fullenrich::Event::from_json(fixture.body).expect("parses")
    else {
        panic!("typed batch")
    };
    assert_eq!(batch.data.len(), 3);
    assert_eq!(batch.cost.map(|c| c.credits), Some(None));
    let records: Vec<_> = batch.records().collect();
    assert_eq!(records.len(), 2);
    let not_found = records[1]
        .contact_info
        .as_ref()
        .and_then(|c| c.most_probable_work_email.as_ref())
        .expect("the work email object");
    assert_eq!(
        (not_found.email.as_deref(), &not_found.status),
        (None, &None)
    );
    let odd = batch.data[2].misfit().expect("the odd record");
    let text = std::str::from_utf8(fixture.body).expect("UTF-8");
    assert!(text.contains(odd.raw.get()), "kept byte for byte");
    assert!(
        odd.error.contains("work_emails") || odd.error.contains("sequence"),
        "{}",
        odd.error
    );
    // Written back, the batch is what was sent, the odd record included.
    let written =
        serde_json::to_value(fullenrich::Event::BatchCompleted(batch.clone())).expect("serializes");
    assert_eq!(
        written["data"][2],
        serde_json::from_str::<Value>(odd.raw.get()).expect("JSON")
    );
}

/// The nulls the docs do not rule out are read as nothing, not as a misfit.
#[test]
fn nulls_where_the_docs_promise_nothing() {
    let with = |provider: &str, name: &str, path: &[&str], value: Value| {
        let mut body: Value =
            serde_json::from_slice(fixtures::get(provider, name).expect("fixture").body)
                .expect("JSON");
        let mut slot = &mut body;
        for step in path {
            slot = match step.parse::<usize>() {
                Ok(index) => &mut slot[index],
                Err(_) => &mut slot[*step],
            };
        }
        *slot = value;
        serde_json::to_vec(&body).expect("serializes")
    };

    let body = with(
        "parallel",
        "findall.candidate.matched",
        &["data", "basis", "0", "citations"],
        Value::Null,
    );
    let parallel::Event::FindAllCandidateMatched(candidate) =
        parallel::Event::from_json(&body).expect("parses")
    else {
        panic!("typed")
    };
    let basis = candidate.data.basis.as_ref().expect("basis")[0]
        .typed()
        .expect("typed");
    assert!(basis.citations.is_empty());

    let body = with(
        "parallel",
        "findall.run.completed",
        &["data", "status", "metrics"],
        Value::Null,
    );
    let parallel::Event::FindAllRunCompleted(run) =
        parallel::Event::from_json(&body).expect("parses")
    else {
        panic!("typed")
    };
    assert_eq!(run.data.status.metrics, Default::default());

    let body = with("fullenrich", "batch_completed", &["data"], Value::Null);
    let fullenrich::Event::BatchCompleted(batch) =
        fullenrich::Event::from_json(&body).expect("parses")
    else {
        panic!("typed")
    };
    assert!(batch.data.is_empty());

    let body = with(
        "fullenrich",
        "batch_completed",
        &["cost"],
        serde_json::json!({"currency": "credits"}),
    );
    let fullenrich::Event::BatchCompleted(batch) =
        fullenrich::Event::from_json(&body).expect("parses")
    else {
        panic!("typed")
    };
    assert_eq!(batch.cost.map(|c| c.credits), Some(None));

    let body = with(
        "sixtyfour",
        "completed.find_email",
        &["result", "email"],
        Value::Null,
    );
    let sixtyfour::Event::Completed(job) = sixtyfour::Event::from_json(&body).expect("parses")
    else {
        panic!("typed")
    };
    let result = job.result.find_email().expect("typed");
    assert!(result.email.is_empty() && result.personal_email.is_empty());
    assert_eq!(result.name.as_deref(), Some("John Doe"));

    // One odd address among several: that entry is kept raw, the others typed.
    let body = with(
        "sixtyfour",
        "completed.find_email.three_tuple",
        &["result", "email", "1"],
        serde_json::json!({"address": "srao@fabrikam.example"}),
    );
    let sixtyfour::Event::Completed(job) = sixtyfour::Event::from_json(&body).expect("parses")
    else {
        panic!("typed")
    };
    let result = job.result.find_email().expect("typed");
    assert!(result.email[0].is_typed());
    assert!(matches!(&result.email[1], Lenient::Misfit(m) if m.raw.get().contains("address")));
}

/// The ParseFlow invoice of the issue: a quantity sent as text and a numeric invoice number
/// stay typed; a line that is no object is kept raw in its place.
#[test]
fn an_invoice_from_a_real_document_stays_typed() {
    let mut body: Value = serde_json::from_slice(
        fixtures::get("parseflow", "extraction.completed")
            .expect("fixture")
            .body,
    )
    .expect("JSON");
    let invoice = &mut body["data"]["data"];
    invoice["invoiceNumber"] = 10042.into();
    invoice["lineItems"][0]["quantity"] = "10".into();
    invoice["lineItems"][0]["unitPrice"] = " 4.5 ".into();
    invoice["lineItems"]
        .as_array_mut()
        .expect("lines")
        .push("see attachment".into());
    invoice["vendor"] = "Contoso".into();
    let sent = serde_json::to_vec(&body).expect("serializes");
    let parseflow::Event::ExtractionCompleted(extraction) =
        parseflow::Event::from_json(&sent).expect("parses")
    else {
        panic!("typed")
    };
    let parseflow::payload::ExtractedDocument::Invoice(invoice) = &extraction.data.data else {
        panic!("an invoice")
    };
    assert_eq!(invoice.invoice_number.as_deref(), Some("10042"));
    let lines = invoice.line_items.as_ref().expect("lines");
    let first = lines[0].typed().expect("typed");
    assert_eq!((first.quantity, first.unit_price), (Some(10.0), Some(4.5)));
    assert_eq!(
        lines.last().and_then(Lenient::misfit).map(|m| m.raw.get()),
        Some(r#""see attachment""#)
    );
    // A vendor that is no object is absent from the typed fields and kept with the others.
    assert_eq!(invoice.vendor, None);
    assert_eq!(invoice.other["vendor"], "Contoso");
}

/// The guessed fields of ParseFlow's undocumented events: a value of another shape is absent,
/// the raw object kept.
#[test]
fn guessed_fields_of_another_shape_read_as_absent() {
    let body = br#"{"event":"extraction.failed","timestamp":"2026-04-14T10:05:00Z","data":{"id":"ext_1","error":{"code":"E_FORMAT","message":"bad"},"metadata":{"fileName":"a.pdf"},"processingTimeMs":"87","documentType":["invoice"]}}"#;
    let parseflow::Event::ExtractionFailed(failed) =
        parseflow::Event::from_json(body).expect("parses")
    else {
        panic!("typed")
    };
    assert_eq!(failed.data.id.as_deref(), Some("ext_1"));
    assert_eq!(failed.data.error, None);
    assert_eq!(failed.data.metadata, None);
    assert_eq!(failed.data.processing_time_ms, Some(87));
    assert_eq!(failed.data.document_type, None);
    assert!(failed.data.raw.get().contains("E_FORMAT"));

    let body = br#"{"event":"quota.warning","timestamp":"2026-04-14T10:05:00Z","data":{"used":"800","limit":1000.0,"percentage":"80%"}}"#;
    let parseflow::Event::QuotaWarning(quota) = parseflow::Event::from_json(body).expect("parses")
    else {
        panic!("typed")
    };
    assert_eq!(
        (quota.data.used, quota.data.limit, quota.data.percentage),
        (Some(800), Some(1000), None)
    );

    // Not even an object: every field absent, the value kept.
    let body = br#"{"event":"batch.failed","timestamp":"2026-04-14T10:05:00Z","data":"boom"}"#;
    let parseflow::Event::BatchFailed(batch) = parseflow::Event::from_json(body).expect("parses")
    else {
        panic!("typed")
    };
    assert_eq!(batch.data.id, None);
    assert_eq!(batch.data.raw.get(), r#""boom""#);
}
