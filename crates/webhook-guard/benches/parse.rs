//! Typed parsing of every fixture against `serde_json::from_slice::<serde_json::Value>` on the
//! same bytes, in one run, plus a ~1 MiB FullEnrich batch of 350 full records.
//!
//! `cargo bench -p webhook-guard --bench parse`, then `python3 scripts/bench_table.py parse`.

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use webhook_guard::{
    event::WebhookEvent as _, fixtures, fullenrich, parallel, parseflow, sixtyfour,
};

/// Parses with the provider's typed model and returns the event type's length (so the work
/// cannot be optimized away).
fn typed(provider: &str, body: &[u8]) -> usize {
    match provider {
        "parallel" => parallel::Event::from_json(body).map(|e| e.event_type().len()),
        "sixtyfour" => sixtyfour::Event::from_json(body).map(|e| e.event_type().len()),
        "fullenrich" => fullenrich::Event::from_json(body).map(|e| e.event_type().len()),
        _ => parseflow::Event::from_json(body).map(|e| e.event_type().len()),
    }
    .unwrap_or(0)
}

fn value(body: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(body)
        .map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
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
    let mut cases: Vec<(String, &str, &[u8])> = fixtures::all()
        .map(|f| (format!("{}:{}", f.provider, f.name), f.provider, f.body))
        .collect();
    cases.push((
        "fullenrich:large_batch_350".to_owned(),
        "fullenrich",
        &large,
    ));

    let mut group = c.benchmark_group("parse");
    for (label, provider, body) in cases {
        assert!(typed(provider, body) > 0 && value(body) > 0, "{label}");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("typed", &label), body, |b, body| {
            b.iter(|| typed(provider, black_box(body)));
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
