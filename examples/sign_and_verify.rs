//! Signs a sample delivery with every scheme, then verifies it, a tampered copy and a stale copy;
//! then signs every documented sample event of every provider and opens it through its provider
//! into a typed event.
//!
//! Run: `cargo run -p webhook-guard-examples --example sign_and_verify`

use webhook_guard::{
    BodyHmac, Ed25519SigningKey, Provider, Scheme, SignedHeaders, StandardWebhooks,
    TimestampedHmac, WebhookEvent, fixtures, fullenrich::FullEnrich, github::GitHub,
    parallel::Parallel, parseflow::ParseFlow, scheme::Digest, sixtyfour::Sixtyfour, stripe::Stripe,
};

const BODY: &[u8] = br#"{"type":"task_run.status","timestamp":"2025-10-27T14:56:05.619331Z","data":{"run_id":"trun_1","status":"completed"}}"#;
const NOW: i64 = 1_761_577_000;

/// Verifies a valid, a tampered and a late copy; `timestamped` says whether the scheme signs a
/// timestamp (a body HMAC does not, so its late copy is accepted and only deduplication stops it).
fn report(name: &str, scheme: &dyn Scheme, headers: &SignedHeaders, timestamped: bool) -> bool {
    let mut tampered = BODY.to_vec();
    tampered[10] ^= 1;
    let cases: [(&str, &[u8], i64, bool); 3] = [
        ("valid", BODY, NOW, true),
        ("tampered body", &tampered, NOW, false),
        ("ten minutes later", BODY, NOW + 600, !timestamped),
    ];
    let mut all_as_expected = true;
    for (case, body, now, expect_ok) in cases {
        let outcome = scheme.verify_at(headers, body, now);
        let as_expected = outcome.is_ok() == expect_ok;
        all_as_expected &= as_expected;
        let shown = match &outcome {
            Ok(_) => "accepted".to_owned(),
            Err(error) => format!("rejected ({error})"),
        };
        println!(
            "{name:<22} {case:<18} {shown}{}",
            if as_expected { "" } else { "  <-- UNEXPECTED" }
        );
    }
    all_as_expected
}

/// Signs every sample of `provider` with `sign`, opens it, and prints the typed result.
fn open_samples<P: Provider>(
    provider: &P,
    sign: impl Fn(&str, &[u8]) -> Result<SignedHeaders, webhook_guard::ConfigError>,
) -> bool {
    let mut all_as_expected = true;
    for (i, fixture) in fixtures::of(provider.name()).enumerate() {
        let id = format!("dlv_{:04}", i + 1);
        let headers = match sign(&id, fixture.body) {
            Ok(headers) => headers,
            Err(error) => {
                all_as_expected = false;
                println!(
                    "{:<10} {:<38} cannot sign: {error}  <-- UNEXPECTED",
                    provider.name(),
                    fixture.name
                );
                continue;
            }
        };
        let shown = match provider.open(&headers, fixture.body, NOW) {
            Ok(opened) => {
                let typed =
                    opened.event.is_known() && opened.event.event_type() == fixture.event_type;
                all_as_expected &= typed;
                let id = opened.delivery_id.as_str();
                let id = id.get(..16).unwrap_or(id);
                format!(
                    "{:<29} id {id:<16} {}",
                    opened.event.event_type(),
                    if typed { "typed" } else { "<-- UNEXPECTED" }
                )
            }
            Err(error) => {
                all_as_expected = false;
                format!("rejected ({error})  <-- UNEXPECTED")
            }
        };
        println!("{:<10} {:<38} {shown}", provider.name(), fixture.name);
    }
    all_as_expected
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let standard = StandardWebhooks::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    let standard_headers = standard.sign_headers("whevent_demo", NOW, BODY)?;

    let sender = Ed25519SigningKey::from_seed([42; 32]);
    let ed25519 = StandardWebhooks::builder()
        .public_key(sender.public_key())
        .build()?;
    let ed25519_headers = sender.sign_headers("whevent_demo", NOW, BODY);

    let sixtyfour = TimestampedHmac::builder()
        .header("sixtyfour-signature")
        .secret("sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
        .build()?;
    let sixtyfour_headers = sixtyfour.sign_headers(NOW, BODY);

    let fullenrich = BodyHmac::builder()
        .header("X-Signature-SHA1")
        .digest(Digest::Sha1)
        .secret("fe_test_api_key")
        .build()?;
    let fullenrich_headers = fullenrich.sign_headers(BODY);

    let mut ok = true;
    ok &= report("standard webhooks v1", &standard, &standard_headers, true);
    ok &= report("standard webhooks v1a", &ed25519, &ed25519_headers, true);
    ok &= report("t=,v1= (sixtyfour)", &sixtyfour, &sixtyfour_headers, true);
    ok &= report(
        "body hmac (fullenrich)",
        &fullenrich,
        &fullenrich_headers,
        false,
    );

    println!();
    let parallel = Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    ok &= open_samples(&parallel, |id, body| parallel.sign_headers(id, NOW, body));
    let sixtyfour = Sixtyfour::new(
        "sk_whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    )?;
    ok &= open_samples(&sixtyfour, |id, body| {
        Ok(sixtyfour.sign_headers(id, NOW, body))
    });
    let fullenrich = FullEnrich::new("fe_test_api_key")?;
    ok &= open_samples(&fullenrich, |_, body| Ok(fullenrich.sign_headers(body)));
    let parseflow = ParseFlow::new("whsec_AbCdEfGhIjKlMnOpQrStUvWxYz123456")?;
    ok &= open_samples(&parseflow, |id, body| {
        let event = webhook_guard::parseflow::Event::from_json(body)
            .map(|e| e.event_type().to_owned())
            .unwrap_or_default();
        Ok(parseflow.sign_headers(id, &event, body))
    });
    let github = GitHub::new("It's a Secret to Everybody")?;
    ok &= open_samples(&github, |id, body| {
        // GitHub names the event in a header: the sample's own name.
        let event = webhook_guard::fixtures::of("github")
            .find(|f| f.body == body)
            .map_or("ping", |f| f.event_type);
        Ok(github.sign_headers(id, event, body))
    });
    let stripe = Stripe::new("whsec_test_secret")?;
    ok &= open_samples(&stripe, |_, body| Ok(stripe.sign_headers(NOW, body)));

    if ok {
        println!("every outcome as expected");
        Ok(())
    } else {
        Err("an outcome was not the expected one".into())
    }
}
