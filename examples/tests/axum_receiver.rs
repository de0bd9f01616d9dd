//! Runs the `axum_receiver` example as a process and checks the example contract.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, ChildStdout, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use webhook_guard::{
    fixtures,
    scheme::{SignedHeaders, unix_now},
};

/// The example binary, built by `cargo test` beside this test's binary.
fn example(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().expect("test binary path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join(name)
}

struct Running {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str) -> Running {
    let mut child = Command::new(example(name))
        .env("BIND", "127.0.0.1:0")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e} (run through `cargo test`)"));
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (send_addr, addr) = mpsc::channel();
    // Keep reading stderr (logs) so the child never writes to a closed pipe.
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("listening on ") {
                let _ = send_addr.send(rest.trim().to_owned());
            }
        }
    });
    let addr = addr.recv_timeout(Duration::from_secs(30)).ok();
    let stdout: ChildStdout = child.stdout.take().expect("stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        addr: addr.expect("the example printed `listening on`"),
        lines,
    }
}

fn sign(provider: &str, id: &str, body: &[u8]) -> SignedHeaders {
    let secret = fixtures::demo::secret(provider).expect("a known provider");
    fixtures::sign(provider, secret, id, unix_now(), body).expect("signed")
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &SignedHeaders,
    body: &[u8],
) -> reqwest::Response {
    let mut request = client.post(url).body(body.to_vec());
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    request.send().await.expect("sent")
}

#[tokio::test]
async fn the_axum_example_follows_the_contract() {
    let running = start("axum_receiver");
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{}/healthz", running.addr))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);

    for &provider in fixtures::PROVIDERS {
        let url = format!("http://{}/webhooks/{provider}", running.addr);
        for (i, fixture) in fixtures::of(provider).enumerate() {
            let id = format!("{provider}-{i}");
            let headers = sign(provider, &id, fixture.body);
            let response = post(&client, &url, &headers, fixture.body).await;
            assert_eq!(response.status(), 200, "{provider}/{}", fixture.name);
            let line = running
                .lines
                .recv_timeout(Duration::from_secs(5))
                .expect("one stdout line per processed delivery");
            let line: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            let expected_id = if provider == "fullenrich" {
                webhook_guard::fullenrich::body_digest(fixture.body)
            } else {
                id.clone()
            };
            assert_eq!(
                line,
                serde_json::json!({
                    "provider": provider,
                    "delivery_id": expected_id,
                    "event_type": fixture.event_type,
                    "known": true,
                })
            );
            // A retry is a duplicate: 200, the header, no line.
            let again = post(&client, &url, &headers, fixture.body).await;
            assert_eq!(again.status(), 200);
            assert!(again.headers().get("webhook-guard-duplicate").is_some());
        }
        // A tampered body: 401, no line.
        let body = fixtures::of(provider).next().expect("fixture").body;
        let headers = sign(provider, "tampered", body);
        let mut tampered = body.to_vec();
        tampered[1] ^= 1;
        assert_eq!(post(&client, &url, &headers, &tampered).await.status(), 401);
    }
    assert!(
        running
            .lines
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "nothing else on stdout"
    );
}
