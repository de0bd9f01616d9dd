//! Runs the `webhook-guard` binary as a process, command by command.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use webhook_guard::{
    Authenticator as _, StandardWebhooks, fixtures,
    fixtures::demo::PARALLEL_SECRET,
    parallel::Parallel,
    scheme::{SignedHeaders, unix_now},
};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
        .args(args)
        .env_remove("PARALLEL_WEBHOOK_SECRET")
        .env_remove("SIXTYFOUR_WEBHOOK_SECRET")
        .env_remove("FULLENRICH_API_KEY")
        .env_remove("PARSEFLOW_WEBHOOK_SECRET")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh file with `bytes`.
fn file(bytes: &[u8]) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("webhook-guard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("f{}", COUNT.fetch_add(1, Ordering::SeqCst)));
    std::fs::write(&path, bytes).expect("write");
    path
}

fn headers_file(headers: &SignedHeaders) -> PathBuf {
    let mut text = String::from("POST /webhooks/x HTTP/1.1\r\nContent-Type: application/json\r\n");
    for (name, value) in headers.iter() {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    file(text.as_bytes())
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn demo_processes_every_documented_event_type_and_exits_0() {
    let output = cli(&["demo"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    for provider in fixtures::providers() {
        for event_type in fixtures::event_types(provider) {
            assert!(
                out.lines().any(|l| l.contains(provider)
                    && l.contains(event_type)
                    && l.contains("processed")),
                "{provider} {event_type} missing from:\n{out}"
            );
        }
    }
    for expected in [
        "duplicate (handler not run)",
        "tampered body",
        "stale (signed an hour ago)",
        "handler ran 1x: 1 processed",
        "every outcome as expected",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    assert!(!out.contains('✗'), "{out}");
}

#[test]
fn the_readme_starts_with_the_demo_and_the_tests() {
    // The workspace's README, which a packaged crate does not have: there is nothing to check.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let Ok(readme) = std::fs::read_to_string(path) else {
        let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
        assert!(
            !std::path::Path::new(workspace).exists(),
            "the workspace is here but its README is not"
        );
        webhook_guard::testkit::skipped(&format!(
            "no workspace README at {path} (a packaged crate)"
        ));
        return;
    };
    let commands: Vec<&str> = readme
        .split("```sh\n")
        .nth(1)
        .expect("a sh block")
        .lines()
        .take(2)
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(
        commands,
        ["cargo run -p webhook-guard-cli -- demo", "scripts/test"]
    );
}

#[test]
fn samples_lists_and_shows_byte_for_byte() {
    let output = cli(&["samples"]);
    assert!(output.status.success());
    let out = stdout(&output);
    for fixture in fixtures::all() {
        assert!(out.contains(fixture.name), "{}", fixture.name);
    }
    let output = cli(&["samples", "fullenrich"]);
    assert!(!stdout(&output).contains("parseflow"));
    for fixture in fixtures::all() {
        let output = cli(&["samples", "show", fixture.provider, fixture.name]);
        assert!(output.status.success());
        assert_eq!(output.stdout, fixture.body, "{}", fixture.name);
    }
    let output = cli(&["samples", "show", "sixtyfour", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("completed, failed"));
}

#[test]
fn sign_prints_headers_that_verify_and_a_curl_command() {
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let body_file = file(body);
    let now = unix_now();
    let output = cli(&[
        "sign",
        "parallel",
        "--body",
        path(&body_file),
        "--id",
        "msg_sign_1",
        "--timestamp",
        &now.to_string(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let headers: Vec<(String, String)> = out
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(headers.len(), 3, "{out}");
    let parallel = Parallel::new(PARALLEL_SECRET).expect("secret");
    parallel
        .authenticate(&headers, body, now)
        .expect("the printed headers verify");
    assert!(out.contains("curl -i -X POST 'http://127.0.0.1:3000/webhooks/parallel'"));
    assert!(out.contains(&format!("--data-binary '@{}'", body_file.display())));
    assert!(stderr(&output).contains("demo secret"));
}

/// The axum example receiver, built by `cargo test` beside this test's binary.
struct Receiver {
    child: Child,
    addr: String,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` outside the workspace (a packaged crate has no examples), after saying so.
fn axum_receiver() -> Option<Receiver> {
    let mut binary = std::env::current_exe().expect("test binary");
    binary.pop();
    if binary.ends_with("deps") {
        binary.pop();
    }
    let binary = binary.join("examples").join("axum_receiver");
    let workspace = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/axum_receiver.rs"
    );
    if !binary.exists() && !std::path::Path::new(workspace).exists() {
        webhook_guard::testkit::skipped(
            "no example receiver outside the workspace (a packaged crate)",
        );
        return None;
    }
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test --workspace` (it builds the examples) or `cargo build -p webhook-guard-examples --example axum_receiver`",
        binary.display()
    );
    let mut child = Command::new(&binary)
        .env("BIND", "127.0.0.1:0")
        .env_remove("REDIS_URL")
        .env_remove("SIXTYFOUR_ALLOW_UNSIGNED")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (send, addr) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = send.send(addr.trim().to_owned());
            }
        }
    });
    let addr = addr
        .recv_timeout(Duration::from_secs(30))
        .expect("`listening on`");
    Some(Receiver { child, addr })
}

#[test]
fn send_gets_200_from_the_axum_example_for_every_sample() {
    let Some(receiver) = axum_receiver() else {
        return;
    };
    // The example receivers serve every built-in provider.
    for fixture in fixtures::all() {
        let url = format!("http://{}/webhooks/{}", receiver.addr, fixture.provider);
        let output = cli(&["send", fixture.provider, fixture.name, "--url", &url]);
        let out = stdout(&output);
        assert!(
            output.status.success() && out.starts_with("200 in "),
            "{}/{}: {out}{}",
            fixture.provider,
            fixture.name,
            stderr(&output)
        );
    }
    // The curl command `sign` prints, run as printed, is processed (once per provider, on a
    // receiver of its own: the samples above were sent already).
    if Command::new("curl").arg("--version").output().is_ok() {
        let receiver = axum_receiver().expect("a second example receiver");
        for provider in [
            "parallel",
            "sixtyfour",
            "fullenrich",
            "parseflow",
            "github",
            "stripe",
        ] {
            let fixture = fixtures::of(provider).last().expect("a sample");
            let body = file(fixture.body);
            let url = format!("http://{}/webhooks/{provider}", receiver.addr);
            let output = cli(&["sign", provider, "--body", path(&body), "--url", &url]);
            let out = stdout(&output);
            let curl = out
                .lines()
                .find(|line| line.starts_with("curl "))
                .unwrap_or_else(|| panic!("{provider}: no curl command in {out}"));
            let ran = Command::new("sh")
                .args(["-c", &format!("{curl} -s")])
                .output()
                .expect("sh");
            let answer = String::from_utf8_lossy(&ran.stdout);
            assert!(
                answer.starts_with("HTTP/1.1 200") && !answer.contains("webhook-guard-duplicate"),
                "{provider}: {curl}\n{answer}"
            );
        }
    } else {
        webhook_guard::testkit::skipped(
            "running the curl commands `sign` prints (no curl on this machine)",
        );
    }
    // A small load: 40 requests, 4 at a time, each with its own id.
    let url = format!("http://{}/webhooks/parseflow", receiver.addr);
    let output = cli(&[
        "send",
        "parseflow",
        "quota.warning",
        "--url",
        &url,
        "--count",
        "40",
        "--concurrency",
        "4",
        "--id",
        "load",
    ]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}{}", stderr(&output));
    assert!(out.starts_with("40 requests in "), "{out}");
    assert!(out.contains("p50 ") && out.contains("p99 "), "{out}");
    assert!(out.contains("200: 40"), "{out}");
    // The same again: every one is now a duplicate.
    let output = cli(&[
        "send",
        "parseflow",
        "quota.warning",
        "--url",
        &url,
        "--count",
        "40",
        "--id",
        "load",
    ]);
    assert!(
        stdout(&output).contains("200 duplicate: 40"),
        "{}",
        stdout(&output)
    );
    // A wrong secret: 401, exit 1.
    let output = cli(&[
        "send",
        "parseflow",
        "quota.warning",
        "--url",
        &url,
        "--secret",
        "whsec_wrong",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("401 in "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn send_to_nothing_is_one_line_and_exit_2() {
    let output = cli(&[
        "send",
        "parallel",
        "task_run.status",
        "--url",
        "http://127.0.0.1:1/webhooks/parallel",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    let errors: Vec<&str> = err.lines().filter(|l| !l.starts_with("note:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("could not connect"), "{err}");
}

/// Runs `verify` on a captured request; returns the exit code and stdout.
fn verify(
    provider: &str,
    secret: &str,
    headers: &SignedHeaders,
    body: &[u8],
    extra: &[&str],
) -> (i32, String) {
    let (headers, body) = (headers_file(headers), file(body));
    let mut args = vec![
        "verify",
        provider,
        "--secret",
        secret,
        "--headers",
        path(&headers),
        "--body",
        path(&body),
    ];
    args.extend_from_slice(extra);
    let output = cli(&args);
    (output.status.code().unwrap_or(-1), stdout(&output))
}

fn parallel_signed(body: &[u8], timestamp: i64) -> SignedHeaders {
    Parallel::new(PARALLEL_SECRET)
        .expect("secret")
        .sign_headers("msg_verify", timestamp, body)
        .expect("signs")
}

fn parallel_legacy_signed(body: &[u8]) -> SignedHeaders {
    StandardWebhooks::builder()
        .raw_secret(PARALLEL_SECRET)
        .build()
        .expect("legacy verifier")
        .sign_headers("msg_verify", unix_now(), body)
        .expect("signed")
}

#[test]
fn verify_names_each_cause() {
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let now = unix_now();

    let (code, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &parallel_signed(body, now),
        body,
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("PASS: the signature matches"), "{out}");
    assert!(out.contains("key form: current"), "{out}");

    // Parallel's legacy key form: accepted by default, named, and refused when pinned.
    let legacy = parallel_legacy_signed(body);
    let (code, out) = verify("parallel", PARALLEL_SECRET, &legacy, body, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("key form: legacy"), "{out}");
    let (code, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &legacy,
        body,
        &["--key-form", "current"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAIL: key form: signed with the legacy key form"),
        "{out}"
    );

    // Clock skew, with the number of seconds, both ways.
    let (code, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &parallel_signed(body, now - 3600),
        body,
        &["--now", &now.to_string()],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(
            "FAIL: clock skew: the signature is valid, but its timestamp is 3600 s in the past"
        ),
        "{out}"
    );
    let (_, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &parallel_signed(body, now + 900),
        body,
        &["--now", &now.to_string()],
    );
    assert!(out.contains("900 s in the future"), "{out}");

    // The body re-serialized: sent compact, captured pretty-printed (a log or a tool
    // reformatted it): the same JSON value, other bytes.
    let sent = br#"{"type":"task_run.status","timestamp":"2025-10-27T15:02:11Z","data":{"run_id":"trun_1","status":"completed","tags":["a b","c"]}}"#;
    let captured = b"{\n  \"type\": \"task_run.status\",\n  \"timestamp\": \"2025-10-27T15:02:11Z\",\n  \"data\": {\n    \"run_id\": \"trun_1\",\n    \"status\": \"completed\",\n    \"tags\": [\"a b\", \"c\"]\n  }\n}\n";
    let (code, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &parallel_signed(sent, now),
        captured,
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("FAIL: body changed:"), "{out}");
    assert!(
        out.contains("re-serialized: the same JSON value with different bytes"),
        "{out}"
    );
    let mut with_newline = body.to_vec();
    with_newline.push(b'\n');
    let (_, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &parallel_signed(body, now),
        &with_newline,
        &[],
    );
    assert!(
        out.starts_with("FAIL: body changed:") && out.contains("trailing newline"),
        "{out}"
    );

    // Missing and malformed headers.
    let mut missing = parallel_signed(body, now);
    missing.remove("webhook-signature");
    let (code, out) = verify("parallel", PARALLEL_SECRET, &missing, body, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAIL: missing header: header `webhook-signature` is missing"),
        "{out}"
    );
    let mut malformed = parallel_signed(body, now);
    malformed.insert("webhook-timestamp", "yesterday");
    let (_, out) = verify("parallel", PARALLEL_SECRET, &malformed, body, &[]);
    assert!(out.starts_with("FAIL: malformed header:"), "{out}");

    // The wrong secret.
    let (code, out) = verify(
        "parallel",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        &parallel_signed(body, now),
        body,
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("FAIL: wrong secret:"), "{out}");

    // The wrong scheme: a ParseFlow request checked as Parallel.
    let parseflow_body = fixtures::of("parseflow").next().expect("fixture").body;
    let parseflow = fixtures::sign(
        "parseflow",
        fixtures::demo::PARSEFLOW_SECRET,
        "dlv_1",
        now,
        parseflow_body,
    )
    .expect("signed");
    let (code, out) = verify("parallel", PARALLEL_SECRET, &parseflow, parseflow_body, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(
            "FAIL: wrong scheme: the request carries `x-parseflow-signature` (parseflow's scheme)"
        ),
        "{out}"
    );
    assert!(out.contains("webhook-guard verify parseflow"), "{out}");

    // The other providers pass with their own secrets.
    for provider in ["sixtyfour", "fullenrich", "parseflow"] {
        let secret = fixtures::demo::secret(provider).expect("secret");
        let body = fixtures::of(provider).next().expect("fixture").body;
        let headers = fixtures::sign(provider, secret, "id_1", now, body).expect("signed");
        let (code, out) = verify(provider, secret, &headers, body, &[]);
        assert_eq!(code, 0, "{provider}: {out}");
    }
}

#[test]
fn verify_without_a_secret_is_one_line_and_exit_2() {
    let body = file(b"{}");
    let headers = file(b"webhook-id: x\n");
    let output = cli(&[
        "verify",
        "parallel",
        "--headers",
        path(&headers),
        "--body",
        path(&body),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        "webhook-guard: no secret for parallel: pass --secret or set PARALLEL_WEBHOOK_SECRET"
    );
}

#[test]
fn every_command_has_help() {
    for command in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["send", "--help"],
        vec!["sign", "--help"],
        vec!["verify", "--help"],
        vec!["samples", "--help"],
        vec!["samples", "show", "--help"],
    ] {
        let output = cli(&command);
        assert!(output.status.success(), "{command:?}");
        assert!(
            stdout(&output).contains("Usage: webhook-guard"),
            "{command:?}"
        );
    }
}

#[test]
fn secrets_come_from_the_contract_variables() {
    let body = fixtures::of("parallel").next().expect("fixture").body;
    let headers = headers_file(&parallel_signed(body, unix_now()));
    let body = file(body);
    let output = Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
        .args([
            "verify",
            "parallel",
            "--headers",
            path(&headers),
            "--body",
            path(&body),
        ])
        .env("PARALLEL_WEBHOOK_SECRET", PARALLEL_SECRET)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).starts_with("PASS"));
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    // `webhook-guard samples | head -0`: the reader is gone before anything is written; the
    // output is dropped, no panic.
    for args in [vec!["samples"], vec!["sign", "parseflow", "--body", "-"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        drop(child.stdout.take());
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write as _;
            let _ = stdin.write_all(b"{}");
        }
        let output = child.wait_with_output().expect("exits");
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}

/// `sign` then `verify`, for every fixture of every provider of the catalogue: the printed
/// headers pass `verify` with the demo secret, and fail it with another secret.
#[test]
fn sign_and_verify_cover_every_provider_of_the_catalogue() {
    let now = unix_now();
    for fixture in fixtures::all() {
        let entry = webhook_guard::catalog::get(fixture.provider).expect("in the catalogue");
        let body_file = file(fixture.body);
        let output = cli(&[
            "sign",
            fixture.provider,
            "--body",
            path(&body_file),
            "--id",
            "dlv_cli_1",
            "--timestamp",
            &now.to_string(),
            "--event-type",
            fixture.event_type,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let out = stdout(&output);
        let mut headers = SignedHeaders::new();
        for (name, value) in out
            .lines()
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(": "))
        {
            headers.insert(name, value);
        }
        assert!(
            entry
                .signature_headers
                .iter()
                .all(|h| headers.get(h).is_some()),
            "{}: {out}",
            fixture.name
        );
        let (code, verdict) = verify(
            fixture.provider,
            entry.secret.demo,
            &headers,
            fixture.body,
            &["--now", &now.to_string()],
        );
        assert_eq!(code, 0, "{}/{}: {verdict}", fixture.provider, fixture.name);
        assert!(verdict.starts_with("PASS"), "{verdict}");
        // Another secret of the same form: the last character changed.
        let mut wrong = entry.secret.demo.to_owned();
        let last = wrong.pop().expect("a secret");
        wrong.push(if last == 'a' { 'b' } else { 'a' });
        let (code, verdict) = verify(
            fixture.provider,
            &wrong,
            &headers,
            fixture.body,
            &["--now", &now.to_string()],
        );
        assert_eq!(code, 1, "{}/{}: {verdict}", fixture.provider, fixture.name);
    }
}

/// A server with a guarded route per provider of the catalogue (demo secrets), counting the
/// handler's runs, on a runtime of its own.
struct CatalogServer {
    addr: std::net::SocketAddr,
    runs: std::sync::Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

fn catalog_server() -> CatalogServer {
    use std::sync::Arc;
    use webhook_guard::{Receiver, catalog, provider::AnyEvent};
    use webhook_guard_tower::{Webhook, WebhookGuardLayer};

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let runs = Arc::new(AtomicUsize::new(0));
    let mut app = axum::Router::new();
    for entry in catalog::all() {
        let provider =
            (entry.build)(&catalog::Config::new(entry.secret.demo)).expect("demo secret");
        let receiver = Receiver::builder(provider).build().expect("receiver");
        let runs = Arc::clone(&runs);
        app = app.route(
            &format!("/webhooks/{}", entry.name),
            axum::routing::post(move |Webhook(_): Webhook<AnyEvent>| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::OK
            })
            .layer(WebhookGuardLayer::new(receiver)),
        );
    }
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { axum::serve(listener, app).await });
    CatalogServer {
        addr,
        runs,
        _runtime: runtime,
    }
}

#[test]
fn send_covers_every_provider_of_the_catalogue() {
    let server = catalog_server();
    let mut expected_runs = 0;
    for fixture in fixtures::all() {
        let url = format!("http://{}/webhooks/{}", server.addr, fixture.provider);
        let output = cli(&["send", fixture.provider, fixture.name, "--url", &url]);
        let out = stdout(&output);
        assert!(
            output.status.success() && out.starts_with("200 in ") && !out.contains("duplicate"),
            "{}/{}: {out}{}",
            fixture.provider,
            fixture.name,
            stderr(&output)
        );
        expected_runs += 1;
        assert_eq!(
            server.runs.load(Ordering::SeqCst),
            expected_runs,
            "{}",
            fixture.name
        );
    }
    // A load of distinct deliveries, for a provider keyed by a body field (Stripe's event
    // `id`) and one keyed by the body's digest (GitHub): each request is a delivery of its own.
    for provider in ["stripe", "github"] {
        let sample = fixtures::of(provider).next().expect("a sample");
        let url = format!("http://{}/webhooks/{provider}", server.addr);
        let output = cli(&[
            "send",
            provider,
            sample.name,
            "--url",
            &url,
            "--count",
            "20",
            "--concurrency",
            "4",
        ]);
        assert!(
            output.status.success(),
            "{}{}",
            stdout(&output),
            stderr(&output)
        );
        expected_runs += 20;
        assert_eq!(
            server.runs.load(Ordering::SeqCst),
            expected_runs,
            "{provider}: {}",
            stdout(&output)
        );
    }
}

/// Every provider's secret is declared with its environment variable: `--help` names each
/// (never a value), and a secret from the environment or `--<provider>-secret` signs.
#[test]
fn secrets_are_declared_with_their_environment_variables() {
    for command in ["sign", "send", "verify"] {
        let output = Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
            .args([command, "--help"])
            .env("STRIPE_WEBHOOK_SECRET", "whsec_do_not_print_me")
            .output()
            .expect("runs");
        let help = stdout(&output);
        for entry in webhook_guard::catalog::all() {
            assert!(
                help.contains(&format!("[env: {}]", entry.secret.variable)),
                "{command}: {} missing from\n{help}",
                entry.secret.variable
            );
        }
        assert!(!help.contains("do_not_print_me"), "{help}");
    }
    let body = file(b"{}");
    let signed_with = |args: &[&str], env: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-guard"));
        command
            .args([
                "sign",
                "github",
                "--body",
                path(&body),
                "--event-type",
                "ping",
            ])
            .args(args)
            .env_remove("GITHUB_WEBHOOK_SECRET");
        if let Some(secret) = env {
            command.env("GITHUB_WEBHOOK_SECRET", secret);
        }
        let output = command.output().expect("runs");
        assert!(output.status.success(), "{}", stderr(&output));
        (
            stdout(&output)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            stderr(&output),
        )
    };
    let (from_env, note) = signed_with(&[], Some("s3cret-from-env"));
    assert!(!note.contains("demo secret"), "{note}");
    let (from_flag, _) = signed_with(&["--github-secret", "s3cret-from-env"], None);
    let (from_demo, note) = signed_with(&[], None);
    assert!(note.contains("demo secret"), "{note}");
    assert_eq!(from_env, from_flag);
    assert_ne!(from_env, from_demo);
}

/// `verify` on a body a framework parsed and wrote again (compact, keys sorted): the bytes
/// differ from what was signed, and it says so rather than blaming the secret; the PASS line
/// gives the timestamp's age the right way round.
#[test]
fn verify_diagnoses_a_re_serialized_body_and_the_age_of_a_timestamp() {
    let now = unix_now();
    let sent = b"{\n  \"type\": \"task_run.status\",\n  \"data\": {\"status\": \"completed\", \"run_id\": \"trun_1\"},\n  \"timestamp\": \"2025-10-27T15:02:11Z\"\n}\n";
    let headers = parallel_signed(sent, now);
    let value: serde_json::Value = serde_json::from_slice(sent).expect("JSON");
    let rewritten = serde_json::to_vec(&value).expect("compact, keys sorted");
    let (code, out) = verify("parallel", PARALLEL_SECRET, &headers, &rewritten, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("FAIL: body changed (likely)"), "{out}");
    assert!(out.contains("re-serialized before the guard"), "{out}");

    // Compact with its keys in another order: either cause, both named.
    let compact = br#"{"type":"x","data":{"b":1,"a":2}}"#;
    let headers = parallel_signed(b"{}", now);
    let (code, out) = verify("parallel", PARALLEL_SECRET, &headers, compact, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAIL: wrong secret or changed body"),
        "{out}"
    );

    // The age of a timestamp in the past, and of one in the future.
    let headers = parallel_signed(sent, now - 42);
    let (code, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &headers,
        sent,
        &["--now", &now.to_string()],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("signed 42 s ago"), "{out}");
    let headers = parallel_signed(sent, now + 7);
    let (_, out) = verify(
        "parallel",
        PARALLEL_SECRET,
        &headers,
        sent,
        &["--now", &now.to_string()],
    );
    assert!(out.contains("7 s in the future"), "{out}");
}

/// `send stripe` names the event id the handler sees (the body's `evt_...`), `--id` sets it,
/// and `--timestamp` signs another time: an hour old, the receiver refuses it (401).
#[test]
fn send_names_the_id_the_handler_sees_and_signs_the_timestamp_given() {
    let server = catalog_server();
    let sample = fixtures::of("stripe").next().expect("a sample");
    let body_id = serde_json::from_slice::<serde_json::Value>(sample.body).expect("JSON")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let url = format!("http://{}/webhooks/stripe", server.addr);
    let output = cli(&["send", "stripe", sample.name, "--url", &url]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}{}", stderr(&output));
    assert!(out.contains(&format!("id {body_id}")), "{out}");
    let output = cli(&[
        "send",
        "stripe",
        sample.name,
        "--url",
        &url,
        "--id",
        "evt_cli_chosen",
    ]);
    let out = stdout(&output);
    assert!(
        output.status.success() && out.contains("id evt_cli_chosen"),
        "{out}"
    );
    assert!(!out.contains("duplicate"), "a delivery of its own: {out}");
    assert_eq!(server.runs.load(Ordering::SeqCst), 2);

    let old = (unix_now() - 3600).to_string();
    let parallel = fixtures::of("parallel").next().expect("a sample");
    let url = format!("http://{}/webhooks/parallel", server.addr);
    let output = cli(&[
        "send",
        "parallel",
        parallel.name,
        "--url",
        &url,
        "--timestamp",
        &old,
    ]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.starts_with("401 "), "{out}");
    assert_eq!(server.runs.load(Ordering::SeqCst), 2, "not run");
}

/// Runs the CLI with `env` set (and the store variables cleared otherwise).
fn cli_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-guard"));
    command
        .args(args)
        .env_remove("REDIS_URL")
        .env_remove("DATABASE_URL");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the CLI runs")
}

/// `dedup show` and `dedup forget` on the shared store of `env`: a completed ParseFlow
/// delivery (its id the body's digest, given as --body) is shown done, forgotten, then shown
/// as nothing, and its next claim is processed.
fn dedup_show_and_forget(store: &dyn webhook_guard::dedup::DedupStore, env: (&str, &str)) {
    use webhook_guard::dedup::{Claim, ClaimToken, DedupKey};
    let body = fixtures::of("parseflow").next().expect("a sample").body;
    let id = webhook_guard::DeliveryId::body_digest(body);
    let key = DedupKey::new("parseflow:default", id.as_str());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let token = ClaimToken::random();
    let lease = Duration::from_secs(60);
    assert_eq!(
        runtime.block_on(store.claim(&key, &token, lease)),
        Ok(Claim::Claimed)
    );
    runtime
        .block_on(store.complete(&key, &token, Duration::from_secs(3600)))
        .expect("complete");
    let body_file = file(body);
    let show = ["dedup", "show", "parseflow", "--body", path(&body_file)];
    let out = stdout(&cli_with_env(&show, &[env]));
    assert!(
        out.starts_with("done: ") && out.contains(id.as_str()),
        "{out}"
    );
    let forget = ["dedup", "forget", "parseflow", "--id", id.as_str()];
    let output = cli_with_env(&forget, &[env]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("forgotten: "),
        "{}",
        stdout(&output)
    );
    let out = stdout(&cli_with_env(&show, &[env]));
    assert!(out.starts_with("nothing: "), "{out}");
    let again = ClaimToken::random();
    assert_eq!(
        runtime.block_on(store.claim(&key, &again, lease)),
        Ok(Claim::Claimed)
    );
}

#[test]
fn dedup_show_and_forget_on_redis() {
    let Some(server) = webhook_guard_redis::test_server::RedisServer::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = runtime
        .block_on(webhook_guard_redis::RedisStore::connect(server.url()))
        .expect("connected");
    dedup_show_and_forget(&store, ("REDIS_URL", &server.url()));
}

#[test]
fn dedup_show_and_forget_on_postgres() {
    let Some(server) = webhook_guard_postgres::test_server::PostgresServer::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&server.url())
            .await
            .expect("connected");
        let store = webhook_guard_postgres::PgStore::new(pool);
        store.migrate().await.expect("migrated");
        store
    });
    dedup_show_and_forget(&store, ("DATABASE_URL", &server.url()));
}

/// Without a shared store, `dedup` says what to set; an id in a header needs --id.
#[test]
fn dedup_needs_a_shared_store_and_an_id() {
    let output = cli_with_env(&["dedup", "show", "parallel", "--id", "msg_1"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("set REDIS_URL or DATABASE_URL"),
        "{}",
        stderr(&output)
    );
    let output = cli_with_env(&["dedup", "forget", "parallel"], &[]);
    assert_eq!(output.status.code(), Some(2), "neither --id nor --body");
}
