//! A throwaway `redis-server` for tests (feature `test-server`).
//!
//! [`RedisServer::start`] runs `redis-server` on a free loopback port with its data in a
//! temporary directory (append-only file, fsync on every write, so a restart keeps what was
//! written), and stops it when dropped. Without the binary it returns `None` after printing
//! why, so a test can skip, unless `REQUIRE_REDIS=1`, where it panics instead (CI sets it).

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A `redis-server` child process on a loopback port.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    persistent: bool,
    /// `appendfsync`: `always`, or `everysec`.
    fsync: &'static str,
}

/// Whether the environment demands Redis tests (`REQUIRE_REDIS=1`).
#[must_use]
pub fn required() -> bool {
    std::env::var("REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

impl RedisServer {
    /// Starts a server, or explains on stderr why not and returns `None`.
    ///
    /// # Panics
    /// When the server cannot be started and `REQUIRE_REDIS=1`.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with(true)
    }

    /// As [`start`](Self::start), with the append-only file synced to disk once a second
    /// (`appendfsync everysec`, the usual production setting): writes reach the kernel before
    /// the answer, so a killed server loses nothing, only a machine crash could.
    #[must_use]
    pub fn start_everysec() -> Option<Self> {
        let mut server = Self::start_with(true)?;
        server.fsync = "everysec";
        server.restart();
        Some(server)
    }

    /// As [`start`](Self::start), without the append-only file: nothing survives a restart,
    /// and writes do not wait for the disk (for benchmarks).
    #[must_use]
    pub fn start_in_memory() -> Option<Self> {
        Self::start_with(false)
    }

    fn start_with(persistent: bool) -> Option<Self> {
        let available = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            let reason = "redis-server is not installed (e.g. `apt-get install redis-server`)";
            assert!(!required(), "REQUIRE_REDIS=1 but {reason}");
            webhook_guard::testkit::skipped(reason);
            return None;
        }
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("webhook-guard-redis-{}-{port}", std::process::id()));
        let mut server = Self {
            child: None,
            port,
            dir,
            persistent,
            fsync: "always",
        };
        if let Err(error) = std::fs::create_dir_all(&server.dir) {
            assert!(
                !required(),
                "REQUIRE_REDIS=1 but no data directory: {error}"
            );
            webhook_guard::testkit::skipped(&format!(
                "no data directory for redis-server: {error}"
            ));
            return None;
        }
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let appendonly = if self.persistent { "yes" } else { "no" };
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                appendonly,
                "--appendfsync",
                self.fsync,
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0_u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }

    /// The server's URL, `redis://127.0.0.1:<port>/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    /// Stops the server process without ending it (`SIGSTOP`): connections stay open and calls
    /// go unanswered, as in a long pause; [`resume`](Self::resume) lets it go on, and it then
    /// applies what it had received.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a [`pause`](Self::pause)d server go on (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let sent = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status();
            assert!(sent.is_ok_and(|s| s.success()), "kill {signal} failed");
        }
    }

    /// Ends the server process at once (`SIGKILL`).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// A Redis Cluster of three primaries (no replicas) on free loopback ports, each node a
/// `redis-server` child, stopped when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts the nodes and joins them with `redis-cli --cluster create`; `None` with a
    /// printed reason when that is not possible, unless `REQUIRE_REDIS=1`.
    ///
    /// # Panics
    /// When the cluster cannot be formed and `REQUIRE_REDIS=1`.
    #[must_use]
    pub fn start() -> Option<Self> {
        // Checks the binary (and REQUIRE_REDIS) the same way as a single server.
        drop(RedisServer::start_in_memory()?);
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!(
            "webhook-guard-redis-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let mut cluster = Self {
            nodes: Vec::new(),
            ports,
            dir,
        };
        for &port in &cluster.ports {
            let node = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .arg("--dir")
                .arg(&cluster.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            cluster.nodes.push(node);
        }
        for &port in &cluster.ports {
            let node = Self::node(port);
            let deadline = Instant::now() + Duration::from_secs(10);
            while !node.answers_ping() {
                assert!(Instant::now() < deadline, "node {port} did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
            // The probe server owns no process: forget it without killing anything.
            std::mem::forget(node);
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !created {
            let reason = "`redis-cli --cluster create` failed";
            assert!(!required(), "REQUIRE_REDIS=1 but {reason}");
            webhook_guard::testkit::skipped(reason);
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.ports.iter().all(|&p| cluster_ok(p)) {
            assert!(
                Instant::now() < deadline,
                "the cluster did not reach cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(cluster)
    }

    /// A handle on a node's port, for pinging (it owns no process).
    fn node(port: u16) -> RedisServer {
        RedisServer {
            child: None,
            port,
            dir: PathBuf::new(),
            persistent: false,
            fsync: "always",
        }
    }

    /// The nodes' URLs.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}/"))
            .collect()
    }
}

/// Whether the node on `port` reports `cluster_state:ok`.
fn cluster_ok(port: u16) -> bool {
    Command::new("redis-cli")
        .args(["-p", &port.to_string(), "cluster", "info"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
