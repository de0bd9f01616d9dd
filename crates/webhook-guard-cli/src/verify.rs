//! `webhook-guard verify`: why a captured request passes or fails.

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use clap::ValueEnum;
use webhook_guard::{
    Authenticity, VerifyError,
    catalog::Config,
    provider::{AnyProvider, Authenticator as _},
    scheme::KeyForm,
};

use crate::{
    body_form::{JsonForm, json_form, minify},
    error::{Result, fail, read_input},
    headers_file,
    provider::{ProviderName, now, secret},
};

/// Checks a captured request (headers and body) against a secret and explains the result.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider the request claims to come from.
    #[arg(value_parser = ProviderName::parser())]
    provider: ProviderName,
    /// The secret (default: the provider's environment variable).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
    /// The request's headers: `Name: value` lines (as `curl -v` or a log prints them) or a
    /// JSON object.
    #[arg(long, value_name = "FILE")]
    headers: PathBuf,
    /// The request's body, byte for byte (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
    /// Check as if now were this Unix time (default: the system clock).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    now: Option<i64>,
    /// How far a signed timestamp may be from now, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    tolerance: u64,
    /// For providers whose secrets have several key forms (Parallel): which to accept, as
    /// your receiver does.
    #[arg(long, value_enum, default_value_t = KeyFormArg::Both)]
    key_form: KeyFormArg,
}

/// Parallel's key forms, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyFormArg {
    /// Both forms (the default of `Parallel`).
    Both,
    /// The current form: the base64 after `whsec_`, decoded.
    Current,
    /// The legacy form: the whole secret string as the key.
    Legacy,
}

impl KeyFormArg {
    /// The forms, or `None` for the provider's default.
    fn forms(self) -> Option<Vec<KeyForm>> {
        match self {
            Self::Both => None,
            Self::Current => Some(vec![KeyForm::Whsec]),
            Self::Legacy => Some(vec![KeyForm::Raw]),
        }
    }
}

/// The provider's verifier, configured as asked, from its catalogue entry.
struct Verifier(Arc<dyn AnyProvider>);

impl Verifier {
    fn new(
        provider: ProviderName,
        secret: &str,
        tolerance: Duration,
        key_forms: Option<Vec<KeyForm>>,
    ) -> Result<Self> {
        let mut config = Config::new(secret);
        if provider.signs_a_timestamp() {
            config = config.tolerance(tolerance);
        }
        if let Some(forms) = key_forms {
            config = config.key_forms(forms);
        }
        (provider.0.build)(&config).map(Self).map_err(|e| {
            fail(format!(
                "the secret is not usable for {}: {e}",
                provider.as_str()
            ))
        })
    }

    fn check(
        &self,
        headers: &Captured,
        body: &[u8],
        now: i64,
    ) -> std::result::Result<Authenticity, VerifyError> {
        self.0.authenticate(&headers.0, body, now)
    }
}

/// The captured headers, names in lowercase.
struct Captured(Vec<(String, String)>);

impl Captured {
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// The verdict: the first line, then details.
struct Verdict {
    pass: bool,
    summary: String,
    details: Vec<String>,
}

impl Verdict {
    fn pass(summary: impl Into<String>) -> Self {
        Self {
            pass: true,
            summary: summary.into(),
            details: Vec::new(),
        }
    }

    fn fail(cause: &str, explanation: impl Into<String>) -> Self {
        Self {
            pass: false,
            summary: format!("{cause}: {}", explanation.into()),
            details: Vec::new(),
        }
    }

    fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }
}

pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let headers = Captured(headers_file::parse(&read_input(&args.headers)?)?);
    let body = read_input(&args.body)?;
    let (secret, _) = secret(args.provider, args.secret.as_deref(), false)?;
    let now = args.now.unwrap_or_else(now);
    let request = Request {
        args,
        secret: &secret,
        headers: &headers,
        body: &body,
    };
    let verdict = diagnose(&request, now)?;
    if verdict.pass {
        say!("PASS: {}", verdict.summary);
    } else {
        say!("FAIL: {}", verdict.summary);
    }
    for line in &verdict.details {
        say!("  {line}");
    }
    Ok(if verdict.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What `verify` was given: the captured request and how to check it.
struct Request<'a> {
    args: &'a Args,
    secret: &'a str,
    headers: &'a Captured,
    body: &'a [u8],
}

impl Request<'_> {
    /// A verifier of the secret and tolerance given, trying the key `forms`.
    fn verifier(&self, forms: Option<Vec<KeyForm>>) -> Result<Verifier> {
        let tolerance = Duration::from_secs(self.args.tolerance);
        Verifier::new(self.args.provider, self.secret, tolerance, forms)
    }
}

fn diagnose(request: &Request<'_>, now: i64) -> Result<Verdict> {
    let (headers, body) = (request.headers, request.body);
    let provider = request.args.provider;
    let verifier = request.verifier(request.args.key_form.forms())?;

    // Another provider's signature header, and not this one's: the wrong scheme.
    if !headers.has(provider.signature_header())
        && let Some(other) =
            ProviderName::all().find(|p| *p != provider && headers.has(p.signature_header()))
    {
        return Ok(Verdict::fail(
            "wrong scheme",
            format!(
                "the request carries `{}` ({}'s scheme), not `{}` ({}'s)",
                other.signature_header(),
                other.as_str(),
                provider.signature_header(),
                provider.as_str()
            ),
        )
        .detail(format!(
            "try `webhook-guard verify {} ...`, or check which provider this endpoint is for",
            other.as_str()
        )));
    }

    match verifier.check(headers, body, now) {
        Ok(authenticity) => Ok(passed(provider, &authenticity, now)),
        Err(VerifyError::TimestampOutOfTolerance {
            skew_seconds,
            tolerance_seconds,
        }) => {
            let signed_at = now.saturating_sub(skew_seconds);
            let when = if skew_seconds >= 0 {
                format!("{skew_seconds} s in the past")
            } else {
                format!("{} s in the future", skew_seconds.unsigned_abs())
            };
            match verifier.check(headers, body, signed_at) {
                Ok(_) => Ok(Verdict::fail(
                    "clock skew",
                    format!(
                        "the signature is valid, but its timestamp is {when} (tolerance {tolerance_seconds} s)"
                    ),
                )
                .detail(if skew_seconds >= 0 {
                    "a replay, a delivery held in a queue, or this machine's clock is ahead; check both clocks (NTP)"
                } else {
                    "the sender's clock is ahead of this machine's; check both clocks (NTP)"
                })
                .detail("to check a captured request later, pass --now <its time>")),
                Err(_) => Ok(mismatch(request, signed_at)?
                    .detail(format!("also, the timestamp is {when} (tolerance {tolerance_seconds} s)"))),
            }
        }
        Err(VerifyError::SignatureMismatch) => mismatch(request, now),
        Err(error @ (VerifyError::MissingHeader { .. } | VerifyError::Unsigned)) => Ok(
            Verdict::fail("missing header", error.to_string()).detail(format!(
                "{} signs with `{}`; was the header dropped by a proxy, or not captured?",
                provider.as_str(),
                provider.signature_header()
            )),
        ),
        Err(
            error @ (VerifyError::MalformedHeader { .. }
            | VerifyError::InvalidTimestamp
            | VerifyError::NoSupportedSignature
            | VerifyError::RepeatedHeader { .. }),
        ) => Ok(Verdict::fail("malformed header", error.to_string())),
        Err(error) => Ok(Verdict::fail("rejected", error.to_string())),
    }
}

fn passed(provider: ProviderName, authenticity: &Authenticity, now: i64) -> Verdict {
    let Some(verified) = authenticity.verified() else {
        return Verdict::pass("accepted unsigned (the receiver allows unsigned deliveries)");
    };
    let mut verdict = Verdict::pass(format!("the signature matches ({})", provider.as_str()));
    if provider.0.key_forms.len() > 1 {
        verdict = verdict.detail(match verified.key_form {
            KeyForm::Raw => "key form: legacy (the whole secret string is the HMAC key); a receiver pinned to the current form rejects it",
            _ => "key form: current (the base64 after `whsec_`, decoded)",
        });
    }
    if let Some(timestamp) = verified.timestamp {
        let age = now.saturating_sub(timestamp);
        verdict = verdict.detail(if age >= 0 {
            format!("timestamp {timestamp}: signed {age} s ago")
        } else {
            format!(
                "timestamp {timestamp}: {} s in the future (the sender's clock is ahead)",
                age.unsigned_abs()
            )
        });
    }
    verdict
}

/// No signature matched: the other Parallel key form, a changed body, or the wrong secret.
fn mismatch(request: &Request<'_>, now: i64) -> Result<Verdict> {
    let (args, headers, body) = (request.args, request.headers, request.body);
    let provider = args.provider;
    if provider.0.key_forms.len() > 1 && args.key_form != KeyFormArg::Both {
        let (other, name, asked) = match args.key_form {
            KeyFormArg::Current => (
                KeyFormArg::Legacy,
                "the legacy key form (the whole secret string as the HMAC key)",
                "current",
            ),
            _ => (
                KeyFormArg::Current,
                "the current key form (the base64 after `whsec_`, decoded)",
                "legacy",
            ),
        };
        let verifier = request.verifier(other.forms())?;
        if verifier.check(headers, body, now).is_ok() {
            return Ok(Verdict::fail(
                "key form",
                format!("signed with {name}, but only the {asked} form was accepted"),
            )
            .detail("both forms are accepted by default; pin the form the account uses"));
        }
    }
    let verifier = request.verifier(args.key_form.forms())?;
    for (change, variant) in body_variants(body) {
        if verifier.check(headers, &variant, now).is_ok() {
            return Ok(Verdict::fail(
                "body changed",
                format!("the signature matches the body as it was before {change}"),
            )
            .detail("verify the raw bytes as received, before any parsing or formatting"));
        }
    }
    let check_secret = format!(
        "check {} (or --secret) against the provider's dashboard; after a rotation, configure both secrets",
        provider.secret_variable()
    );
    let raw_bytes = "verify the raw bytes as received, before any parsing or formatting (in axum, take `Bytes`, not `Json<T>`)";
    Ok(match json_form(body) {
        Some(JsonForm::Rewritten) => Verdict::fail(
            "body changed (likely)",
            "no signature matches, and the body is JSON in the form a JSON library writes              (compact, keys sorted): the bytes differ from what was signed; was it parsed and              re-serialized before the guard?",
        )
        .detail(raw_bytes)
        .detail(format!("if these are the raw bytes, the secret is wrong: {check_secret}")),
        Some(JsonForm::Compact) => Verdict::fail(
            "wrong secret or changed body",
            "no signature matches this secret and body",
        )
        .detail(check_secret)
        .detail(
            "the body is compact JSON: if the sender's bodies are not (Stripe's are indented),              it was parsed and re-serialized before the guard",
        )
        .detail(raw_bytes),
        Some(JsonForm::AsSent) => Verdict::fail(
            "wrong secret",
            "no signature matches this secret and body: most likely the secret is not the one that signed",
        )
        .detail(check_secret)
        .detail("the body may also have changed in a way this check cannot undo"),
        None => Verdict::fail(
            "wrong secret",
            "no signature matches this secret and body: most likely the secret is not the one that signed",
        )
        .detail(check_secret),
    })
}

/// Bodies the captured one may have been made from, with what changed.
fn body_variants(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut variants: Vec<(&'static str, Vec<u8>)> = Vec::new();
    if let Some(trimmed) = body.strip_suffix(b"\n") {
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        variants.push((
            "a trailing newline was added (an editor or `echo`)",
            trimmed.to_vec(),
        ));
    } else {
        let mut with_newline = body.to_vec();
        with_newline.push(b'\n');
        variants.push(("its trailing newline was removed", with_newline));
    }
    if body.windows(2).any(|w| w == b"\r\n") {
        let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
        variants.push(("line ends were changed to CRLF", text.into_bytes()));
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let what = "it was re-serialized: the same JSON value with different bytes";
        variants.push((what, minify(body)));
        if let Ok(compact) = serde_json::to_vec(&value) {
            variants.push((what, compact));
        }
        if let Ok(pretty) = serde_json::to_vec_pretty(&value) {
            variants.push((what, pretty));
        }
    }
    variants.retain(|(_, variant)| variant.as_slice() != body);
    variants
}
