//! A throwaway Postgres for tests (feature `test-server`).
//!
//! [`PostgresServer::start`] runs `initdb` into a temporary directory and `postgres` on a free
//! loopback port (its socket in that directory too), and stops it when dropped. Postgres
//! refuses to run as root: run as root, it runs as the `postgres` user (with `setpriv`, or
//! `runuser`), which owns the directory. The binaries are looked for on the `PATH`, then in
//! Debian's `/usr/lib/postgresql/<version>/bin`. Without them it returns `None` after
//! printing why, so a test can skip, unless `REQUIRE_POSTGRES=1`, where it panics instead (CI
//! sets it).

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// Whether the environment demands Postgres tests (`REQUIRE_POSTGRES=1`).
#[must_use]
pub fn required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A `postgres` child process on a loopback port, with its data in a temporary directory.
#[derive(Debug)]
pub struct PostgresServer {
    child: Option<Child>,
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// The user the server runs as, when this process is root.
    run_as: Option<&'static str>,
    durable: bool,
}

fn skip(reason: &str) -> Option<PostgresServer> {
    assert!(!required(), "REQUIRE_POSTGRES=1 but {reason}");
    webhook_guard::testkit::skipped(reason);
    None
}

/// The directory of `initdb` and `postgres`: on the `PATH`, or Debian's newest.
fn bin_dir() -> Option<PathBuf> {
    // A `postgres` on the PATH may be a link into the installation: its directory is where
    // the link leads (with `pg_isready` beside it).
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .filter(|dir| dir.join("initdb").is_file())
            .find_map(|dir| std::fs::canonicalize(dir.join("postgres")).ok())
            .and_then(|postgres| postgres.parent().map(Path::to_path_buf))
            .filter(|dir| dir.join("initdb").is_file() && dir.join("pg_isready").is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

impl PostgresServer {
    /// Starts a server for tests (`fsync` off: a killed *server* loses nothing, as the
    /// operating system keeps what it wrote; commits are still synchronous), or explains on
    /// stderr why not and returns `None`.
    ///
    /// # Panics
    /// When the server cannot be started and `REQUIRE_POSTGRES=1`.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// As [`start`](Self::start), with `fsync` on, as in production (for benchmarks).
    #[must_use]
    pub fn start_durable() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Option<Self> {
        let Some(bin) = bin_dir() else {
            return skip(
                "PostgreSQL is not installed (initdb and postgres not found; e.g. `apt-get install postgresql`)",
            );
        };
        let run_as = is_root().then_some("postgres");
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "webhook-guard-postgres-{}-{port}",
            std::process::id()
        ));
        if let Err(error) = std::fs::create_dir_all(&dir) {
            return skip(&format!("no data directory for postgres: {error}"));
        }
        let server = Self {
            child: None,
            bin,
            dir,
            port,
            run_as,
            durable,
        };
        if let Some(user) = run_as {
            let owned = Command::new("chown")
                .args([&format!("{user}:{user}")])
                .arg(&server.dir)
                .status()
                .is_ok_and(|s| s.success());
            if !owned {
                return skip(&format!(
                    "running as root, and the data directory cannot be given to the `{user}` user"
                ));
            }
        }
        let initdb = server
            .command("initdb")
            .arg("-D")
            .arg(server.data())
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output();
        match initdb {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return skip(&format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Err(error) => return skip(&format!("initdb could not run: {error}")),
        }
        let mut server = server;
        server.spawn();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A command for one of the server's binaries, as the server's user.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            None => Command::new(program),
            Some(user) => {
                // `setpriv` runs the program in place (its process id is the server's);
                // `runuser` where there is no setpriv.
                if Path::new("/usr/bin/setpriv").is_file() {
                    let mut command = Command::new("setpriv");
                    command
                        .args([
                            &format!("--reuid={user}"),
                            &format!("--regid={user}"),
                            "--init-groups",
                            "--",
                        ])
                        .arg(program);
                    command
                } else {
                    let mut command = Command::new("runuser");
                    command.args(["-u", user, "--"]).arg(program);
                    command
                }
            }
        }
    }

    fn spawn(&mut self) {
        let fsync = if self.durable { "on" } else { "off" };
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .arg("-k")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-h", "127.0.0.1"])
            .args(["-c", &format!("fsync={fsync}")])
            .args(["-c", "max_connections=300", "-c", "shared_buffers=64MB"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.ready() {
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections on port {} within 30 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ready(&self) -> bool {
        if TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            return false;
        }
        Command::new(self.bin.join("pg_isready"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The server's URL, `postgres://postgres@127.0.0.1:<port>/postgres` (no password: the
    /// server trusts loopback connections).
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The server's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once, as a crash would: an immediate shutdown (`SIGQUIT`), every
    /// connection cut, no checkpoint; the next start recovers from the write-ahead log.
    pub fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // A paused server would not see the signals below.
        self.send_all("-CONT");
        // The postmaster's id is the child's (setpriv runs it in place), or in its pid file.
        let pid = self
            .postmaster_pid()
            .unwrap_or_else(|| child.id().to_string());
        let quiet = |signal: &str| {
            let _ = Command::new("kill")
                .args([signal, &pid])
                .stderr(Stdio::null())
                .status();
        };
        quiet("-QUIT");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        quiet("-KILL");
        let _ = child.kill();
        let _ = child.wait();
        // The backends end with the postmaster; wait for its pid file to go.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.data().join("postmaster.pid").exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops every process of the server without ending it (`SIGSTOP` to the postmaster and
    /// each backend): connections stay open and statements go unanswered, as in a long pause;
    /// [`resume`](Self::resume) lets them go on, and they then run what they had received.
    pub fn pause(&self) {
        self.signal_all("-STOP");
    }

    /// Lets a [`pause`](Self::pause)d server go on (`SIGCONT`).
    pub fn resume(&self) {
        self.signal_all("-CONT");
    }

    /// Sends `signal` to the postmaster and its children (found through `/proc`).
    fn signal_all(&self, signal: &str) {
        assert!(self.send_all(signal), "kill {signal} failed");
    }

    fn send_all(&self, signal: &str) -> bool {
        let Some(postmaster) = self.postmaster_pid() else {
            return false;
        };
        let mut pids = vec![postmaster.clone()];
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.filter_map(Result::ok) {
                let pid = entry.file_name().to_string_lossy().into_owned();
                let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                    continue;
                };
                // `pid (comm) state ppid ...`: the command may hold spaces, so split after `)`.
                let parent = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1));
                if parent == Some(postmaster.as_str()) {
                    pids.push(pid);
                }
            }
        }
        Command::new("kill")
            .arg(signal)
            .args(&pids)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn postmaster_pid(&self) -> Option<String> {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next().map(str::to_owned))
    }

    /// Starts the server again on the same port and data.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for PostgresServer {
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
