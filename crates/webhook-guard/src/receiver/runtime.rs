//! [`Runtime`]: what the core needs of the adapter's async runtime.

use std::{fmt, future::Future, pin::Pin, time::Duration};

/// A background task: a store call that must finish after its request is gone.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A timer of the adapter's runtime.
pub type Timer = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How an adapter runs a [`Task`] on its framework's runtime (for instance `tokio::spawn`).
pub type Spawn = fn(Task);

/// What the core needs of the adapter's async runtime, which it does not have itself: a way to
/// run a task in the background, and a timer.
///
/// ```
/// use webhook_guard::adapter::Runtime;
///
/// // With Tokio:
/// // const TOKIO: Runtime = Runtime {
/// //     spawn: |task| drop(tokio::spawn(task)),
/// //     sleep: |after| Box::pin(tokio::time::sleep(after)),
/// // };
/// const NONE: Runtime = Runtime { spawn: |task| drop(task), sleep: |_| Box::pin(std::future::pending()) };
/// # let _ = NONE;
/// ```
#[derive(Clone, Copy)]
pub struct Runtime {
    /// Runs a task to its end in the background.
    pub spawn: Spawn,
    /// A future that is ready after the duration.
    pub sleep: fn(Duration) -> Timer,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}
