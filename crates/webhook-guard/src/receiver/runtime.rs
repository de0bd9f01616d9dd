//! [`Runtime`]: what the core needs of the adapter's async runtime.

use std::{fmt, future::Future, pin::Pin, time::Duration};

/// A background task: a store call that must finish after its request is gone.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A timer of the adapter's runtime.
pub type Timer = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How an adapter runs a [`Task`] on its framework's runtime (for instance `tokio::spawn`).
pub type Spawn = fn(Task);

/// What the core needs of the adapter's async runtime, which it does not have itself: a way to
/// run a task in the background, one to run it where no handler can hold it up, and a timer.
///
/// With the feature `tokio`, `Runtime::TOKIO` is all three for Tokio (and for actix-web,
/// whose workers are Tokio runtimes).
///
/// ```
/// use webhook_guard::adapter::Runtime;
///
/// // A runtime of your own: tasks dropped, timers that never fire.
/// const NONE: Runtime = Runtime {
///     spawn: |task| drop(task),
///     background: |task| drop(task),
///     sleep: |_| Box::pin(std::future::pending()),
/// };
/// # let _ = NONE;
/// ```
#[derive(Clone, Copy)]
pub struct Runtime {
    /// Runs a task to its end in the background (a store call that outlives its request).
    pub spawn: Spawn,
    /// Runs a task where the handlers do not run, so a handler that blocks its thread cannot
    /// hold it up: the renewals of the claims whose handlers run. Tasks it runs may call
    /// `spawn` and `sleep`.
    pub background: Spawn,
    /// A future that is ready after the duration.
    pub sleep: fn(Duration) -> Timer,
}

#[cfg(feature = "tokio")]
impl Runtime {
    /// Tokio: `spawn` on the current runtime, `sleep` on its timer, and `background` on a
    /// thread of this crate's own (`webhook-guard-background`, a current-thread Tokio runtime
    /// started with the first task), so a renewal runs while every handler blocks its thread.
    pub const TOKIO: Runtime = Runtime {
        spawn: tokio_spawn,
        background: tokio_background,
        sleep: |after| Box::pin(tokio::time::sleep(after)),
    };
}

#[cfg(feature = "tokio")]
fn tokio_spawn(task: Task) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(task)),
        Err(_) => {
            tracing::warn!("no Tokio runtime for a store call; the claim expires with its lease")
        }
    }
}

#[cfg(feature = "tokio")]
fn tokio_background(task: Task) {
    static BACKGROUND: std::sync::OnceLock<Option<tokio::runtime::Handle>> =
        std::sync::OnceLock::new();
    let handle = BACKGROUND.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .inspect_err(|error| tracing::warn!(%error, "no background runtime; renewals run beside the handlers"))
            .ok()?;
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("webhook-guard-background".to_owned())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .inspect_err(|error| tracing::warn!(%error, "no background thread; renewals run beside the handlers"))
            .ok()?;
        Some(handle)
    });
    match handle {
        Some(handle) => drop(handle.spawn(task)),
        None => tokio_spawn(task),
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}
