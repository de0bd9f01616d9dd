//! [`WORKERS`]: what the core borrows of a Worker's event loop.

use std::time::Duration;

use webhook_guard::adapter::{Runtime, Task, Timer};
use worker::send::SendFuture;

/// The core's [`Runtime`] in a Worker: tasks on the isolate's event loop
/// (`wasm_bindgen_futures::spawn_local`), timers on `setTimeout` ([`worker::Delay`]).
///
/// A Worker has one thread, so the core's `background` (where renewals run out of the
/// handlers' way) is the same event loop: a handler that never yields holds its own claim's
/// renewals up, and the lease (10 s unless set) is what bounds it. A task still running
/// when the Worker's response is sent may be stopped with the request; the calls the core
/// leaves to a task (the release of an abandoned claim, retries of a failed call) are ones a
/// lease makes safe to lose: the key is free again when the lease ends.
pub const WORKERS: Runtime = Runtime {
    spawn,
    background: spawn,
    sleep,
};

fn spawn(task: Task) {
    wasm_bindgen_futures::spawn_local(task);
}

fn sleep(after: Duration) -> Timer {
    // A Worker runs on one thread: the timer never leaves it.
    Box::pin(SendFuture::new(worker::Delay::from(after)))
}
