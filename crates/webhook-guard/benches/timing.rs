//! Does verification take longer when a forged signature shares a longer prefix with the
//! right one? Times signatures that differ from the right one in their first byte against ones
//! that differ in their last byte, interleaved, over many samples, and reports the difference
//! against the noise: a second group of first-byte signatures measured the same way (two
//! groups that cannot differ) gives the noise floor, and Welch's t says how many standard
//! errors apart the means are. A comparison that stops at the first differing byte shows up
//! as a large t for first-vs-last and a small one for the control.
//!
//! `cargo bench -p webhook-guard --bench timing` (`TIMING_SAMPLES`: samples per group,
//! default 20,000; each sample times a batch of 50 verifications).

use std::{hint::black_box, time::Instant};

use webhook_guard::{BodyHmac, StandardWebhooks, scheme::Digest, scheme::Scheme};

const NOW: i64 = 1_761_577_000;
const BATCH: usize = 50;

type Headers = Vec<(String, Vec<u8>)>;

struct Stats {
    mean: f64,
    variance: f64,
    n: f64,
}

fn stats(samples: &[f64]) -> Stats {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Stats { mean, variance, n }
}

/// Welch's t between two groups.
fn welch(a: &Stats, b: &Stats) -> f64 {
    (a.mean - b.mean) / (a.variance / a.n + b.variance / b.n).sqrt()
}

/// Trims the slowest 5% (preemptions, interrupts) so that they do not swamp the means.
fn trimmed(mut samples: Vec<f64>) -> Vec<f64> {
    samples.sort_by(f64::total_cmp);
    samples.truncate(samples.len() * 95 / 100);
    samples
}

/// Times `groups` interleaved (round robin), `samples` batches each; ns per verification.
fn measure(scheme: &dyn Scheme, body: &[u8], groups: &[Headers], samples: usize) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(samples); groups.len()];
    for _ in 0..samples {
        for (group, headers) in groups.iter().enumerate() {
            let started = Instant::now();
            for _ in 0..BATCH {
                let _ = black_box(scheme.verify_at(black_box(headers), black_box(body), NOW));
            }
            times[group].push(started.elapsed().as_nanos() as f64 / BATCH as f64);
        }
    }
    times
}

/// A signature header with one byte of the MAC changed at `index` (from the end if negative).
fn forged(
    value: &str,
    prefix: &str,
    decode: fn(&str) -> Vec<u8>,
    encode: fn(&[u8]) -> String,
    index: isize,
    xor: u8,
) -> String {
    let mac = &value[prefix.len()..];
    let mut bytes = decode(mac);
    let at = if index < 0 {
        (bytes.len() as isize + index) as usize
    } else {
        index as usize
    };
    bytes[at] ^= xor;
    format!("{prefix}{}", encode(&bytes))
}

fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hex_decode(text: &str) -> Vec<u8> {
    hex::decode(text).expect("hex")
}

fn hex_encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Prints the row of a scheme; returns whether first and last differ beyond |t| = 4.5 (the
/// threshold dudect uses).
#[must_use]
fn report(name: &str, times: Vec<Vec<f64>>) -> bool {
    let [first, last, control]: [Vec<f64>; 3] = times
        .into_iter()
        .map(trimmed)
        .collect::<Vec<_>>()
        .try_into()
        .expect("three groups");
    let (first, last, control) = (stats(&first), stats(&last), stats(&control));
    let t = welch(&first, &last);
    let t_control = welch(&first, &control);
    println!(
        "| {name} | {:.1} ns | {:.1} ns | {:+.2} ns | {t:+.2} | {:+.2} ns | {t_control:+.2} |",
        first.mean,
        last.mean,
        last.mean - first.mean,
        control.mean - first.mean,
    );
    t.abs() >= 4.5
}

fn main() {
    let samples = std::env::var("TIMING_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let body = vec![b'x'; 1024];
    println!(
        "{samples} samples per group of {BATCH} verifications each, interleaved; slowest 5% trimmed"
    );
    println!(
        "| scheme | differs in byte 1 | differs in the last byte | last − first | Welch t | control − first | control t |"
    );
    println!("|---|---|---|---|---|---|---|");

    let standard = StandardWebhooks::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
    let signature = standard.sign("msg_1", NOW, &body).expect("signs");
    let headers = |signature: String| -> Headers {
        vec![
            ("webhook-id".to_owned(), b"msg_1".to_vec()),
            ("webhook-timestamp".to_owned(), NOW.to_string().into_bytes()),
            ("webhook-signature".to_owned(), signature.into_bytes()),
        ]
    };
    let groups = [
        headers(forged(&signature, "v1,", b64_decode, b64_encode, 0, 0x01)),
        headers(forged(&signature, "v1,", b64_decode, b64_encode, -1, 0x01)),
        headers(forged(&signature, "v1,", b64_decode, b64_encode, 0, 0x02)),
    ];
    let mut differ = Vec::new();
    if report(
        "Standard Webhooks v1 (base64)",
        measure(&standard, &body, &groups, samples),
    ) {
        differ.push("Standard Webhooks v1");
    }

    let body_hmac = BodyHmac::builder()
        .header("x-signature")
        .digest(Digest::Sha256)
        .secret("parseflow-secret")
        .build()
        .expect("secret");
    let signature = body_hmac.sign(&body);
    let headers =
        |signature: String| -> Headers { vec![("x-signature".to_owned(), signature.into_bytes())] };
    let groups = [
        headers(forged(&signature, "", hex_decode, hex_encode, 0, 0x01)),
        headers(forged(&signature, "", hex_decode, hex_encode, -1, 0x01)),
        headers(forged(&signature, "", hex_decode, hex_encode, 0, 0x02)),
    ];
    if report(
        "HMAC-SHA256 of the body (hex)",
        measure(&body_hmac, &body, &groups, samples),
    ) {
        differ.push("HMAC of the body");
    }
    if differ.is_empty() {
        println!("\nfirst vs last: |t| < 4.5 for every scheme: no timing difference found");
    } else {
        println!(
            "\nfirst vs last: |t| >= 4.5 for {}: a timing difference, or noise; compare with the control and re-run",
            differ.join(", ")
        );
    }
}
