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
        let available = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            let reason = "redis-server is not installed (e.g. `apt-get install redis-server`)";
            assert!(!required(), "REQUIRE_REDIS=1 but {reason}");
            eprintln!("skipped: {reason}");
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "webhook-guard-redis-{}-{port}",
            std::process::id()
        ));
        let mut server = Self {
            child: None,
            port,
            dir,
        };
        if let Err(error) = std::fs::create_dir_all(&server.dir) {
            assert!(!required(), "REQUIRE_REDIS=1 but no data directory: {error}");
            eprintln!("skipped: no data directory for redis-server: {error}");
            return None;
        }
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
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
