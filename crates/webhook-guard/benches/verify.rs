//! Standard Webhooks v1 verification against raw HMAC-SHA256 and the `standardwebhooks` and
//! `svix` crates, on the same bytes, in one run.
//!
//! `cargo bench -p webhook-guard --bench verify`, then `python3 scripts/bench_table.py verify`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use webhook_guard::{Scheme, StandardWebhooks, scheme::unix_now};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SIZES: [(usize, &str); 4] = [
    (256, "256B"),
    (4 * 1024, "4KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];

/// An ASCII JSON-like body of `len` bytes (the peers refuse non-UTF-8 bodies).
fn body(len: usize) -> Vec<u8> {
    let mut body = br#"{"data":""#.to_vec();
    let mut x: u32 = 0x9e37_79b9;
    while body.len() < len - 2 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        body.push(b'a' + (x % 26) as u8);
    }
    body.extend_from_slice(br#""}"#);
    body
}

fn verify(c: &mut Criterion) {
    let ours = StandardWebhooks::new(SECRET).expect("valid secret");
    let standard = standardwebhooks::Webhook::new(SECRET).expect("valid secret");
    let svix = svix::webhooks::Webhook::new(SECRET).expect("valid secret");
    let key = webhook_guard_key();

    let mut group = c.benchmark_group("verify");
    for (len, label) in SIZES {
        let body = body(len);
        // The peers read the clock, so the delivery is stamped now.
        let now = unix_now();
        let ts = now.to_string();
        let signed = ours.sign_headers(ID, now, &body).expect("hmac key");
        let map = signed.to_header_map();
        assert!(ours.verify_at(&map, &body, now).is_ok());
        assert!(standard.verify(&body, &map).is_ok());
        assert!(svix.verify(&body, &map).is_ok());
        let prekeyed = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).expect("key");

        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("hmac_raw", label), &body, |b, body| {
            b.iter(|| {
                let mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).expect("key");
                black_box(signed_content_mac(mac, &ts, black_box(body)))
            });
        });
        group.bench_with_input(
            BenchmarkId::new("hmac_prekeyed", label),
            &body,
            |b, body| {
                b.iter(|| black_box(signed_content_mac(prekeyed.clone(), &ts, black_box(body))));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("webhook_guard", label),
            &body,
            |b, body| {
                b.iter(|| black_box(ours.verify_at(&map, black_box(body), now)).expect("valid"));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("standardwebhooks", label),
            &body,
            |b, body| {
                b.iter(|| black_box(standard.verify(black_box(body), &map)).expect("valid"));
            },
        );
        group.bench_with_input(BenchmarkId::new("svix", label), &body, |b, body| {
            b.iter(|| black_box(svix.verify(black_box(body), &map)).expect("valid"));
        });
    }
    group.finish();
}

/// The bare MAC of `id.ts.body`, fed in pieces as webhook-guard does: the floor it is held to.
fn signed_content_mac(
    mut mac: hmac::Hmac<sha2::Sha256>,
    ts: &str,
    body: &[u8],
) -> hmac::digest::CtOutput<hmac::Hmac<sha2::Sha256>> {
    mac.update(ID.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
}

/// The decoded key bytes behind `SECRET`, for the raw HMAC floor.
fn webhook_guard_key() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .expect("base64")
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = verify
}
criterion_main!(benches);
