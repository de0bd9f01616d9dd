//! Typed parsing of every fixture against `serde_json::from_slice::<serde_json::Value>` on the
//! same bytes, in one run, plus a ~1 MiB FullEnrich batch of 350 full records and four
//! fixtures bent late in the body (labels `bent:…`).
//!
//! `cargo bench -p webhook-guard --bench parse`, then `python3 scripts/bench_table.py parse`.

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;

use webhook_guard::{
    SignedHeaders, catalog,
    event::WebhookEvent as _,
    fixtures::{self, Fixture},
    fullenrich, parallel, parseflow,
    provider::AnyProvider,
    sixtyfour,
};

/// How a fixture is parsed: with its provider's model directly, or, for a provider without a
/// line here, through its catalogue entry (a dynamic call and the event boxed in an `Arc`,
/// with the headers its sender would send).
enum Model {
    Typed(fn(&[u8]) -> usize),
    Any(Arc<dyn AnyProvider>, SignedHeaders),
}

fn model(fixture: &Fixture) -> Model {
    fn len<E: webhook_guard::WebhookEvent, X>(parsed: Result<E, X>) -> usize {
        parsed.map_or(0, |e| e.event_type().len())
    }
    match fixture.provider {
        "parallel" => Model::Typed(|body| len(parallel::Event::from_json(body))),
        "sixtyfour" => Model::Typed(|body| len(sixtyfour::Event::from_json(body))),
        "fullenrich" => Model::Typed(|body| len(fullenrich::Event::from_json(body))),
        "parseflow" => Model::Typed(|body| len(parseflow::Event::from_json(body))),
        other => {
            let entry = catalog::get(other).expect("in the catalogue");
            let config = catalog::Config::new(entry.secret.demo);
            let provider = (entry.build)(&config).expect("demo secret");
            let request = catalog::SignRequest::new("dlv_bench", 0, fixture);
            let headers = (entry.sign)(entry.secret.demo, &request).expect("signs");
            Model::Any(provider, headers)
        }
    }
}

/// Parses with the provider's typed model and returns the event type's length (so the work
/// cannot be optimized away).
fn typed(model: &Model, body: &[u8]) -> usize {
    match model {
        Model::Typed(parse) => parse(body),
        Model::Any(provider, headers) => len_any(provider.parse_any(headers, body)),
    }
}

fn len_any(parsed: Result<webhook_guard::provider::AnyEvent, webhook_guard::ParseError>) -> usize {
    parsed.map_or(0, |e| e.event_type().len())
}

fn value(body: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(body)
        .map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
}

/// Fixtures that bend: one value of another shape than the model's, late in the body, where a
/// strict first pass fails last. The fixture's text is changed in place (the last occurrence
/// of a needle), so its key order stays the sender's. Each still parses into its typed event,
/// the odd value kept aside.
fn bent() -> Vec<(String, &'static Fixture, Vec<u8>)> {
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "parallel",
            "findall.candidate.enriched",
            r#""field": "headcount""#,
            r#""field": {"odd": 1}"#,
        ),
        (
            "parseflow",
            "extraction.completed",
            r#""lineItems": ["#,
            r#""lineItems": ["odd", "#,
        ),
        (
            "sixtyfour",
            "completed.find_email.three_tuple",
            r#"["srao@fabrikam.example", "UNKNOWN", "COMPANY"]"#,
            r#"{"address": "srao@fabrikam.example"}"#,
        ),
        (
            "fullenrich",
            "batch_completed",
            r#""work_emails": [],"#,
            r#""work_emails": {"email": "odd@example.com"},"#,
        ),
    ];
    cases
        .into_iter()
        .map(|(provider, name, needle, odd)| {
            let fixture = fixtures::get(provider, name).expect("fixture");
            let text = std::str::from_utf8(fixture.body).expect("UTF-8");
            let at = text.rfind(needle).expect("the bent value's place");
            let body = format!("{}{odd}{}", &text[..at], &text[at + needle.len()..]).into_bytes();
            // Bent, not broken: the typed event, the odd value kept aside.
            let parsed = match provider {
                "parallel" => format!("{:?}", parallel::Event::from_json(&body)),
                "parseflow" => format!("{:?}", parseflow::Event::from_json(&body)),
                "sixtyfour" => format!("{:?}", sixtyfour::Event::from_json(&body)),
                _ => format!("{:?}", fullenrich::Event::from_json(&body)),
            };
            assert!(
                parsed.starts_with("Ok(")
                    && !parsed.starts_with("Ok(Unparsed")
                    && parsed.contains("Misfit"),
                "{provider}:{name} bends: {parsed:.300}"
            );
            (format!("bent:{provider}:{name}"), fixture, body)
        })
        .collect()
}

fn parse(c: &mut Criterion) {
    let large = fixtures::large_fullenrich_batch(350);
    assert!(
        (1 << 20) * 9 / 10 < large.len() && large.len() < (1 << 20) * 11 / 10,
        "about 1 MiB: {} bytes",
        large.len()
    );
    assert!(
        matches!(
            fullenrich::Event::from_json(&large),
            Ok(fullenrich::Event::BatchCompleted(ref batch)) if batch.data.len() == 350
        ),
        "the large batch parses into its typed variant"
    );
    let mut cases: Vec<(String, Model, &[u8])> = fixtures::all()
        .map(|f| (format!("{}:{}", f.provider, f.name), model(f), f.body))
        .collect();
    cases.push((
        "fullenrich:large_batch_350".to_owned(),
        Model::Typed(|body| fullenrich::Event::from_json(body).map_or(0, |e| e.event_type().len())),
        &large,
    ));

    let bent = bent();
    for (label, fixture, body) in &bent {
        cases.push((label.clone(), model(fixture), body));
    }

    let mut group = c.benchmark_group("parse");
    for (label, model, body) in cases {
        assert!(typed(&model, body) > 0 && value(body) > 0, "{label}");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("typed", &label), body, |b, body| {
            b.iter(|| typed(&model, black_box(body)));
        });
        group.bench_with_input(BenchmarkId::new("value", &label), body, |b, body| {
            b.iter(|| value(black_box(body)));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = parse
}
criterion_main!(benches);
