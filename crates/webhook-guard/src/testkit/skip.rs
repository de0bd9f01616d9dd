//! [`skipped`]: a check that could not run here, said on stderr and listed at the end of the
//! test run.

use std::io::Write as _;

/// The environment variable naming the file skipped checks are listed in: `scripts/test`
/// sets it and prints the list when the run ends, so a check that did not run is never
/// mistaken for one that passed.
pub const SKIPPED_LIST: &str = "WEBHOOK_GUARD_SKIPPED";

/// Records that the current test skips a check for `reason` (a missing server, a missing
/// tool): printed on stderr, and appended as `<test>: <reason>` to the file named by
/// [`SKIPPED_LIST`], when set. The test is the current thread's name, as the test harness
/// names it.
///
/// ```no_run
/// // In a test that needs a server it could not start:
/// webhook_guard::testkit::skipped("redis-server is not installed");
/// ```
pub fn skipped(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    eprintln!("skipped: {reason}");
    let Some(path) = std::env::var_os(SKIPPED_LIST) else {
        return;
    };
    // One short line per write, appended: lines from test binaries running at once do not
    // interleave within a line.
    let line = format!("{test}: {reason}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "could not list the skipped check in {}: {error}",
            path.to_string_lossy()
        );
    }
}
