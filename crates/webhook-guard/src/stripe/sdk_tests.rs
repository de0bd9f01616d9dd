//! Stripe's own Python SDK against this crate: a delivery signed here passes the SDK's
//! `Webhook.construct_event`, and a signature computed by the SDK passes [`Stripe`].
//!
//! Needs `python3` with the `stripe` package (`.ci/run` installs it); without it the test says
//! why and passes, unless `REQUIRE_STRIPE_SDK=1`.

use std::process::Command;

use crate::{fixtures, prelude::*, stripe::Stripe};

const SECRET: &str = "whsec_test_secret";

/// Runs a Python snippet with the SDK; `None` when the SDK is not there.
fn python(script: &str, args: &[&str]) -> Option<String> {
    let probe = Command::new("python3")
        .args(["-c", "import stripe"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        let reason = "python3 with the `stripe` package is not installed";
        assert!(
            std::env::var("REQUIRE_STRIPE_SDK").as_deref() != Ok("1"),
            "REQUIRE_STRIPE_SDK=1 but {reason}"
        );
        crate::testkit::skipped(reason);
        return None;
    }
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn stripe_sdk_and_this_crate_agree() {
    let stripe = Stripe::new(SECRET).expect("secret");
    let now = crate::scheme::unix_now();
    for fixture in fixtures::of("stripe") {
        let body = std::str::from_utf8(fixture.body).expect("UTF-8 fixture");
        // Signed here, verified by the SDK (with its own 300 s tolerance, against its clock).
        let headers = stripe.sign_headers(now, fixture.body);
        let header = headers.get("stripe-signature").expect("signed");
        let verified = python(
            "import sys, stripe\n\
             event = stripe.Webhook.construct_event(sys.argv[1], sys.argv[2], sys.argv[3])\n\
             print(event['id'])",
            &[body, header, SECRET],
        );
        let Some(verified) = verified else { return };
        let expected =
            serde_json::from_slice::<serde_json::Value>(fixture.body).expect("JSON")["id"]
                .as_str()
                .expect("an id")
                .to_owned();
        assert_eq!(verified, expected, "{}", fixture.name);

        // Signed by the SDK, verified here.
        let signature = python(
            "import sys, stripe\n\
             print(stripe.WebhookSignature._compute_signature(sys.argv[1] + '.' + sys.argv[2], sys.argv[3]))",
            &[&now.to_string(), body, SECRET],
        )
        .expect("the SDK is there");
        let header = format!("t={now},v1={signature}");
        let opened = stripe
            .open(&[("stripe-signature", header.as_str())], fixture.body, now)
            .expect("the SDK's signature verifies");
        assert_eq!(opened.delivery_id.as_str(), expected);
        assert!(
            stripe
                .authenticate(&[("stripe-signature", header.as_str())], b"{}", now)
                .is_err()
        );
    }
}
