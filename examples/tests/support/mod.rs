//! Running the example receivers as processes, for the tests of this folder.

#![allow(dead_code, unreachable_pub)]

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

/// The providers of the example receiver contract: one route each.
pub const ROUTES: [&str; 6] = [
    "parallel",
    "sixtyfour",
    "fullenrich",
    "parseflow",
    "github",
    "stripe",
];

/// The example binary, built by `cargo test` beside this test's binary. A run filtered with
/// `--test` does not rebuild it (cargo has no dependency from a test on an example): run
/// `cargo build -p webhook-guard-examples --examples` first, or it tests a stale binary.
pub fn example(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().expect("test binary path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join(name)
}

pub mod inbox;

pub struct Running {
    child: Child,
    /// The address from `listening on`.
    pub addr: String,
    /// The stdout lines.
    pub lines: mpsc::Receiver<String>,
}

impl Running {
    /// The process's resident memory now and at its peak (`VmRSS`, `VmHWM`), in bytes.
    pub fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .map(|kib| kib * 1024)
                .expect("the field")
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Running {
    /// Kills the process (`SIGKILL`) and answers every line it had printed.
    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            lines.push(line);
        }
        lines
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts example `name` on a free port with the demo secrets, `SIXTYFOUR_ALLOW_UNSIGNED=1`
/// when `allow_unsigned`, and `REDIS_URL` when `redis` is given.
pub fn start(name: &str, allow_unsigned: bool, redis: Option<&str>) -> Running {
    start_with(name, allow_unsigned, redis, &[])
}

/// As [`start`], with more environment variables.
pub fn start_with(
    name: &str,
    allow_unsigned: bool,
    redis: Option<&str>,
    env: &[(&str, &str)],
) -> Running {
    let mut command = Command::new(example(name));
    command.env_remove("DATABASE_URL");
    command.envs(env.iter().copied());
    command.env("BIND", "127.0.0.1:0");
    match redis {
        Some(url) => command.env("REDIS_URL", url),
        None => command.env_remove("REDIS_URL"),
    };
    if allow_unsigned {
        command.env("SIXTYFOUR_ALLOW_UNSIGNED", "1");
    } else {
        command.env_remove("SIXTYFOUR_ALLOW_UNSIGNED");
    }
    for name in [
        "PARALLEL_WEBHOOK_SECRET",
        "SIXTYFOUR_WEBHOOK_SECRET",
        "FULLENRICH_API_KEY",
        "PARSEFLOW_WEBHOOK_SECRET",
        "GITHUB_WEBHOOK_SECRET",
        "STRIPE_WEBHOOK_SECRET",
    ] {
        command.env_remove(name);
    }
    let mut child = command
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

pub fn sign(provider: &str, id: &str, body: &[u8]) -> SignedHeaders {
    let secret = fixtures::demo::secret(provider).expect("a known provider");
    fixtures::sign(provider, secret, id, unix_now(), body).expect("signed")
}

pub async fn post(
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

/// A small generator for the kill points (no dependency for it), seeded from the clock; the
/// seed is printed, so a failing run can be replayed.
pub struct Lcg(u64);

impl Lcg {
    /// Seeded from the clock; prints the seed.
    pub fn from_clock() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        eprintln!("kill points seeded with {seed}");
        Self(seed)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}
