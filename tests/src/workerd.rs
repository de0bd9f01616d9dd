//! [`Workerd`]: the example Worker (`examples/worker`) running on workerd, the Workers
//! runtime, on a free loopback port, for `tests/worker.rs`.
//!
//! The Worker's bundle comes from `scripts/worker-bundle` (run here, so it is this tree's
//! code); workerd from `WORKERD`, from
//! `examples/worker/node_modules` (`npm ci --prefix examples/worker`), or from the `PATH`.
//! Without either, [`Workerd::start`] says why and returns `None`, unless `REQUIRE_WORKERD=1`
//! (CI sets it), where it panics.

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use webhook_guard::{fixtures::demo, testkit::skipped};

/// A workerd process serving the example Worker; stopped when dropped.
#[derive(Debug)]
pub struct Workerd {
    child: Child,
    port: u16,
    second_port: u16,
    _dir: TempDir,
}

/// Whether the environment demands the Worker tests (`REQUIRE_WORKERD=1`).
fn required() -> bool {
    std::env::var("REQUIRE_WORKERD").is_ok_and(|v| v == "1")
}

fn unavailable(reason: &str) -> Option<Workerd> {
    assert!(!required(), "REQUIRE_WORKERD=1: {reason}");
    skipped(reason);
    None
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// The workerd binary, if there is one.
fn workerd_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WORKERD") {
        return Some(PathBuf::from(path));
    }
    let local = workspace().join("examples/worker/node_modules/.bin/workerd");
    if local.exists() {
        return Some(local);
    }
    let found = Command::new("workerd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    found.then(|| PathBuf::from("workerd"))
}

/// The bundle, built now by `scripts/worker-bundle` (a no-op rebuild when nothing changed), so
/// the Worker tested is the code of this tree; once per test binary.
fn bundle() -> Result<PathBuf, String> {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let output = Command::new(workspace().join("scripts/worker-bundle"))
                .output()
                .map_err(|e| format!("scripts/worker-bundle did not start: {e}"))?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            match output.status.code() {
                Some(0) => Ok(workspace().join("target/worker-bundle")),
                // A missing tool: the script says which.
                Some(3) => Err(stderr
                    .lines()
                    .last()
                    .unwrap_or("a tool is missing")
                    .to_owned()),
                _ => panic!("scripts/worker-bundle failed:\n{stderr}"),
            }
        })
        .clone()
}

/// The modules of the bundle, the entry first, as workerd's config in `dir` lists them.
fn modules(bundle: &Path, dir: &Path) -> String {
    let mut lines = vec![
        module("shim.mjs", "esModule", bundle, dir),
        module("index_bg.js", "esModule", bundle, dir),
        module("index_bg.wasm", "wasm", bundle, dir),
    ];
    let mut pending = vec![bundle.join("snippets")];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                let name = path.strip_prefix(bundle).expect("inside the bundle");
                lines.push(module(&name.to_string_lossy(), "esModule", bundle, dir));
            }
        }
    }
    lines.join(",\n")
}

/// A module of the config, copied beside it (workerd embeds files relative to its config).
fn module(name: &str, kind: &str, bundle: &Path, dir: &Path) -> String {
    let copy = dir.join(name);
    if let Some(parent) = copy.parent() {
        std::fs::create_dir_all(parent).expect("module directory");
    }
    std::fs::copy(bundle.join(name), &copy).expect("module copied");
    format!("    (name = \"{name}\", {kind} = embed \"{name}\")")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

impl Workerd {
    /// The example Worker on workerd, its secrets the demo secrets, its Durable Objects in
    /// memory; `None` (after saying why) when workerd or the bundle is missing.
    ///
    /// # Panics
    /// When either is missing and `REQUIRE_WORKERD=1`, or workerd does not start.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with_handler_delay(Duration::ZERO)
    }

    /// As [`start`](Self::start), with the handler waiting `handler_delay` before it answers
    /// (the example's `HANDLER_DELAY_MS`).
    ///
    /// # Panics
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_with_handler_delay(handler_delay: Duration) -> Option<Self> {
        let Some(binary) = workerd_binary() else {
            return unavailable(
                "workerd is not installed (npm ci --prefix examples/worker, or set WORKERD)",
            );
        };
        let bundle = match bundle() {
            Ok(bundle) => bundle,
            Err(reason) => return unavailable(&reason),
        };
        let dir = TempDir::new();
        let (port, second_port) = (free_port(), free_port());
        let modules = modules(&bundle, &dir.0);
        // One Worker of the example; the one that `owns` the Durable Object class keeps them.
        let worker = |dedup: &str, owns: bool| {
            format!(
                r#"(
  modules = [
{modules}
  ],
  compatibilityDate = "2025-01-01",
  bindings = [
    (name = "PARALLEL_WEBHOOK_SECRET", text = "{parallel}"),
    (name = "GITHUB_WEBHOOK_SECRET", text = "{github}"),
    (name = "HANDLER_DELAY_MS", text = "{delay}"),
    (name = "WEBHOOK_DEDUP", durableObjectNamespace = {dedup}),
  ],{namespaces}
)"#,
                parallel = demo::PARALLEL_SECRET,
                github = demo::GITHUB_SECRET,
                delay = handler_delay.as_millis(),
                namespaces = if owns {
                    "\n  durableObjectNamespaces = [ (className = \"DedupObject\", uniqueKey = \"webhook-guard-dedup\") ],\n  durableObjectStorage = (inMemory = void),"
                } else {
                    ""
                },
            )
        };
        let config = format!(
            r#"using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .main), (name = "second", worker = .second) ],
  sockets = [
    (name = "http", address = "127.0.0.1:{port}", http = (), service = "main"),
    (name = "second", address = "127.0.0.1:{second_port}", http = (), service = "second"),
  ],
);
const main :Workerd.Worker = {main};
const second :Workerd.Worker = {second};
"#,
            main = worker("\"DedupObject\"", true),
            // The second Worker's dedup binding is the first one's namespace.
            second = worker(
                "(className = \"DedupObject\", serviceName = \"main\")",
                false
            ),
        );
        let config_path = dir.0.join("config.capnp");
        std::fs::write(&config_path, config).expect("config written");
        let child = Command::new(&binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} did not start: {e}", binary.display()));
        let mut workerd = Self {
            child,
            port,
            second_port,
            _dir: dir,
        };
        workerd.wait_until_listening(port);
        workerd.wait_until_listening(second_port);
        Some(workerd)
    }

    fn wait_until_listening(&mut self, port: u16) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("workerd exited before it listened: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "workerd did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A second Worker of the same code, in an isolate of its own (so with receivers of its
    /// own), whose dedup binding is the first one's Durable Object namespace: two Workers
    /// that share nothing but the objects, as two Cloudflare locations do.
    #[must_use]
    pub fn second_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.second_port)
    }

    /// The loopback port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("webhook-guard-workerd-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
