//! Properties of every scheme and provider: a single-bit flip anywhere in a signed delivery
//! (the name or value of a header the signature covers, or the body) is rejected, and
//! arbitrary header values never panic and never verify.
//!
//! Two flips leave a delivery the same and may pass: a letter of a header *name* changing
//! case (HTTP names are case-insensitive), and a hex digit of a hex signature changing case
//! (`a` and `A` are the same digit). Every other flip must fail.

use proptest::prelude::*;
use webhook_guard::{
    BodyHmac, Ed25519SigningKey, Provider, StandardWebhooks, TimestampedHmac, fixtures,
    fullenrich::FullEnrich,
    parallel::Parallel,
    parseflow::ParseFlow,
    scheme::{Digest, Encoding, Scheme},
    sixtyfour::Sixtyfour,
};

const NOW: i64 = 1_761_577_000;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

type Headers = Vec<(String, Vec<u8>)>;

/// Whether a delivery (headers, body) verifies.
type Check = Box<dyn Fn(&Headers, &[u8]) -> bool>;

/// A signed delivery and the function that checks one.
struct Case {
    name: &'static str,
    headers: Headers,
    /// Header names whose value is a hex signature (where a case change is no change).
    hex_values: &'static [&'static str],
    check: Check,
}

fn owned(pairs: impl IntoIterator<Item = (String, String)>) -> Headers {
    pairs
        .into_iter()
        .map(|(n, v)| (n, v.into_bytes()))
        .collect()
}

fn by_scheme(scheme: impl Scheme + 'static) -> Check {
    Box::new(move |h: &Headers, b: &[u8]| scheme.verify_at(h, b, NOW).is_ok())
}

fn by_provider(provider: impl Provider + 'static) -> Check {
    Box::new(move |h: &Headers, b: &[u8]| provider.authenticate(h, b, NOW).is_ok())
}

fn cases(body: &[u8]) -> Vec<Case> {
    let standard = StandardWebhooks::new(SECRET).expect("secret");
    let standard_headers = owned(
        standard
            .sign_headers("msg_1", NOW, body)
            .expect("signs")
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    let key = Ed25519SigningKey::from_seed([9; 32]);
    let ed25519 = StandardWebhooks::builder()
        .public_key(key.public_key().as_str())
        .build()
        .expect("key");
    let ed_headers = owned([
        ("webhook-id".to_owned(), "msg_1".to_owned()),
        ("webhook-timestamp".to_owned(), NOW.to_string()),
        ("webhook-signature".to_owned(), key.sign("msg_1", NOW, body)),
    ]);
    let timestamped = TimestampedHmac::builder()
        .header("stripe-signature")
        .secret("sk_test")
        .build()
        .expect("secret");
    let timestamped_headers = owned([("stripe-signature".to_owned(), timestamped.sign(NOW, body))]);
    let github = BodyHmac::builder()
        .header("x-hub-signature-256")
        .prefix("sha256=")
        .secret("gh_secret")
        .build()
        .expect("secret");
    let github_headers = owned([("x-hub-signature-256".to_owned(), github.sign(body))]);
    let base64 = BodyHmac::builder()
        .header("x-signature")
        .encoding(Encoding::Base64)
        .digest(Digest::Sha1)
        .secret("b64_secret")
        .build()
        .expect("secret");
    let base64_headers = owned([("x-signature".to_owned(), base64.sign(body))]);

    // The headers the provider's signature covers. Sixtyfour's event id and ParseFlow's
    // delivery and event headers travel outside the signature (the providers sign the body,
    // or the timestamp and the body): flipping them cannot be caught by verification (see
    // SECURITY.md on replays).
    let provider_headers = |provider: &str| {
        let secret = fixtures::demo::secret(provider).expect("secret");
        owned(
            fixtures::sign(provider, secret, "dlv_1", NOW, body)
                .expect("signs")
                .iter()
                .filter(|(n, _)| n.starts_with("webhook-") || n.contains("signature"))
                .map(|(n, v)| (n.to_owned(), v.to_owned())),
        )
    };
    vec![
        Case {
            name: "standard v1",
            headers: standard_headers,
            hex_values: &[],
            check: by_scheme(standard),
        },
        Case {
            name: "standard v1a",
            headers: ed_headers,
            hex_values: &[],
            check: by_scheme(ed25519),
        },
        Case {
            name: "t=,v1=",
            headers: timestamped_headers,
            hex_values: &["stripe-signature"],
            check: by_scheme(timestamped),
        },
        Case {
            name: "github",
            headers: github_headers,
            hex_values: &["x-hub-signature-256"],
            check: by_scheme(github),
        },
        Case {
            name: "body base64",
            headers: base64_headers,
            hex_values: &[],
            check: by_scheme(base64),
        },
        Case {
            name: "parallel",
            headers: provider_headers("parallel"),
            hex_values: &[],
            check: by_provider(Parallel::new(fixtures::demo::PARALLEL_SECRET).expect("secret")),
        },
        Case {
            name: "sixtyfour",
            headers: provider_headers("sixtyfour"),
            hex_values: &["sixtyfour-signature"],
            check: by_provider(Sixtyfour::new(fixtures::demo::SIXTYFOUR_SECRET).expect("secret")),
        },
        Case {
            name: "fullenrich",
            headers: provider_headers("fullenrich"),
            hex_values: &["x-signature-sha1"],
            check: by_provider(
                FullEnrich::new(fixtures::demo::FULLENRICH_API_KEY).expect("secret"),
            ),
        },
        Case {
            name: "parseflow",
            headers: provider_headers("parseflow"),
            hex_values: &["x-parseflow-signature"],
            check: by_provider(ParseFlow::new(fixtures::demo::PARSEFLOW_SECRET).expect("secret")),
        },
    ]
}

/// Where a flipped bit landed.
enum Spot {
    Name(usize, usize),
    Value(usize, usize),
    Body(usize),
}

fn spot(headers: &Headers, body: &[u8], mut position: usize) -> Spot {
    for (i, (name, value)) in headers.iter().enumerate() {
        if position < name.len() {
            return Spot::Name(i, position);
        }
        position -= name.len();
        if position < value.len() {
            return Spot::Value(i, position);
        }
        position -= value.len();
    }
    Spot::Body(position % body.len().max(1))
}

fn is_hex_letter(byte: u8) -> bool {
    matches!(byte.to_ascii_lowercase(), b'a'..=b'f')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_single_bit_flip_is_rejected(
        body in proptest::collection::vec(any::<u8>(), 1..300),
        position in any::<usize>(),
        bit in 0_u8..8,
    ) {
        for case in cases(&body) {
            prop_assert!((case.check)(&case.headers, &body), "{}: the signed delivery verifies", case.name);
            let total: usize = case.headers.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>() + body.len();
            let (mut headers, mut flipped_body) = (case.headers.clone(), body.clone());
            let mask = 1_u8 << bit;
            let same = match spot(&case.headers, &body, position % total) {
                Spot::Name(i, at) => {
                    let mut name = headers[i].0.clone().into_bytes();
                    name[at] ^= mask;
                    let name = String::from_utf8_lossy(&name).into_owned();
                    let same = name.eq_ignore_ascii_case(&headers[i].0);
                    headers[i].0 = name;
                    same
                }
                Spot::Value(i, at) => {
                    let original = headers[i].1[at];
                    headers[i].1[at] ^= mask;
                    case.hex_values.contains(&headers[i].0.as_str())
                        && mask == 0x20
                        && is_hex_letter(original)
                        && is_hex_letter(headers[i].1[at])
                }
                Spot::Body(at) => {
                    flipped_body[at] ^= mask;
                    false
                }
            };
            let accepted = (case.check)(&headers, &flipped_body);
            prop_assert!(
                !accepted || same,
                "{}: a flip of bit {bit} at {} was accepted", case.name, position % total
            );
        }
    }

    #[test]
    fn arbitrary_header_values_never_panic_and_never_verify(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 8),
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let names = [
            "webhook-id", "webhook-timestamp", "webhook-signature", "stripe-signature",
            "x-hub-signature-256", "x-signature", "sixtyfour-signature", "x-parseflow-signature",
        ];
        let headers: Headers = names
            .iter()
            .zip(values)
            .map(|(n, v)| ((*n).to_owned(), v))
            .collect();
        for case in cases(&body) {
            prop_assert!(!(case.check)(&headers, &body), "{}: random headers verified", case.name);
        }
    }
}
