//! The receiver's settings: their defaults, and the checked values a [`Receiver`](super::Receiver)
//! runs with.

use std::{sync::Arc, time::Duration};

use super::{
    breaker::Breaker, budget::MemoryBudget, metrics::Labels, recent::RecentlyDone,
    renewer::Renewals, statuses::Statuses,
};
use crate::clock::Clock;

/// The default body limit: 5 MiB. A larger body gets 413.
pub const DEFAULT_BODY_LIMIT: usize = 5 * 1024 * 1024;
/// The default time for a whole body to arrive once the headers are in: 30 s. A slower
/// sender gets 408.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claim protects a delivery in flight without being renewed: 10 s.
///
/// While the handler runs, the claim is renewed every third of the lease, so a slow handler
/// keeps it however long it takes. When the process dies, the renewals stop and the claim is
/// free again at most one lease after the last one. The lease must end well before each
/// provider's last retry, which comes (after the first attempt that failed by the crash):
///
/// | provider | retries after a failed attempt | last retry | a crashed claim is free after ≤ 10 s, so the first retry processed is |
/// |---|---|---|---|
/// | Parallel | 5 s, then doubling, for 48 h | ~48 h | the one at +15 s (5 + 10) |
/// | Sixtyfour | 1, 2, 4, 8, 16 s (5 retries) | +31 s | the one at +15 s (1 + 2 + 4 + 8) |
/// | FullEnrich | every minute, 5 times | +5 min | the one at +60 s |
/// | ParseFlow | 30 s, 2 min, 15 min, 1 h, 4 h | +5 h 17 min 30 s | the one at +30 s |
///
/// Sixtyfour's schedule is the tight one: with a lease over 31 s, every retry of a delivery
/// whose handler crashed would find its claim still held (409), and the delivery would be lost.
/// The renewal interval (3.3 s) leaves a store two missed renewals before a live claim could
/// lapse.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);
/// How long a processed delivery is remembered (72 h: Parallel retries for 48 h).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(72 * 3600);
/// How long a processed delivery of a provider that signs no timestamp (GitHub, ParseFlow,
/// FullEnrich) is remembered by default: 7 days. Such a delivery, once captured, can be
/// replayed at any later time with a valid signature; only its record refuses it. A
/// completed record (no owner token) takes about 230 bytes in Redis and 261 in Postgres
/// with the longest ids, so 7 days at one delivery a second is about 140 MB (see
/// `docs/overload.md`).
pub const DEFAULT_REPLAY_HORIZON: Duration = Duration::from_secs(7 * 24 * 3600);
/// The `retry-after` of 409 and 503 answers (10 s).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The endpoint name unless configured otherwise.
pub const DEFAULT_ENDPOINT: &str = "default";

/// What to do when the dedup store fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailMode {
    /// Answer 503 with `retry-after`; the provider retries later (the default: nothing is
    /// processed twice).
    #[default]
    Closed,
    /// Process the delivery without deduplication (nothing is delayed, but a retry may run
    /// the handler again).
    Open,
}

/// A receiver's checked configuration, shared by every delivery.
pub(crate) struct Settings {
    /// The metrics' labels (provider and endpoint).
    pub(crate) labels: Arc<Labels>,
    /// The store namespaces of signed and of unsigned deliveries.
    pub(crate) signed_namespace: Box<str>,
    pub(crate) unsigned_namespace: Box<str>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) lease: Duration,
    /// How long a completed delivery is remembered: the retention, or for a provider that
    /// signs no timestamp, the longer of it and the replay horizon.
    pub(crate) retention: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) fail_mode: FailMode,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    /// The store's health: claims answered at once while it is down.
    pub(crate) breaker: Breaker,
    /// Development mode: rejection bodies say which check failed.
    pub(crate) explain_rejections: bool,
    /// The statuses configured for rejection kinds.
    pub(crate) statuses: Statuses,
    /// The memory unverified bodies may hold, shared with other receivers.
    pub(crate) memory_budget: MemoryBudget,
    /// The keys completed in the last minute: replays answered without a store call.
    pub(crate) recently_done: RecentlyDone,
    /// The claims whose handlers run, renewed by a task of their own.
    pub(crate) renewals: Arc<Renewals>,
}

/// A receiver's ordering key function (see `ReceiverBuilder::ordering_key`), kept type-erased
/// by the receiver.
pub(super) type OrderingKey<E> = std::sync::Arc<dyn Fn(&E) -> Option<String> + Send + Sync>;
