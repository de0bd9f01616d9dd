//! What an inbox stores: [`NewEntry`] (written by the receiver), [`Entry`] (read back by
//! operations), [`ClaimedEntry`] (handed to a worker), their states and ids.

use std::{fmt, str::FromStr, time::Duration};

use bytes::Bytes;

use crate::{headers::HeaderEntry, headers::HeaderName, headers::Headers};

/// The id of an entry in an inbox, unique in it; entries received later have larger ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(i64);

impl EntryId {
    /// An id as the store numbers it.
    #[must_use]
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for EntryId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(Self)
    }
}

/// Where an entry is in its life.
///
/// `pending` (waiting for a worker, maybe until a retry's time) → `running` (a worker holds its
/// lease) → `done`, or back to `pending` for a retry, or `dead` after the last attempt. A
/// replay puts a `done` or `dead` entry back to `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryState {
    /// Waiting for a worker.
    Pending,
    /// A worker runs its handler.
    Running,
    /// Handled.
    Done,
    /// Failed its last attempt (or the handler said it never will succeed).
    Dead,
}

impl EntryState {
    /// Every state, in the order of an entry's life.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Running, Self::Done, Self::Dead];

    /// `pending`, `running`, `done` or `dead`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of `pending`, `running`, `done`, `dead`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownState(pub String);

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown entry state {:?} (pending, running, done or dead)",
            self.0
        )
    }
}

impl std::error::Error for UnknownState {}

impl FromStr for EntryState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// The request headers stored with an entry, in order: enough to parse the delivery again, and
/// to verify it again by hand. `authorization`, `cookie` and `proxy-authorization` are never
/// stored (the sender's signature is in its own headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredHeaders(Vec<(String, Vec<u8>)>);

/// Headers an inbox never stores: credentials of the app's own, not the sender's.
const NOT_STORED: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

impl StoredHeaders {
    /// The headers of a request worth storing (see the type).
    pub fn from_request(headers: &(impl Headers + ?Sized)) -> Self {
        let mut stored = Vec::new();
        headers.each(&mut |name, value| {
            let name = name.to_ascii_lowercase();
            if !NOT_STORED.contains(&name.as_str()) {
                stored.push((name, value.to_vec()));
            }
        });
        Self(stored)
    }

    /// Headers as stored: lowercase names and raw values.
    #[must_use]
    pub fn from_pairs(pairs: Vec<(String, Vec<u8>)>) -> Self {
        Self(pairs)
    }

    /// The pairs.
    #[must_use]
    pub fn pairs(&self) -> &[(String, Vec<u8>)] {
        &self.0
    }

    /// Bytes of names and values together.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.0.iter().map(|(n, v)| n.len() + v.len()).sum()
    }
}

impl Headers for StoredHeaders {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        self.0.entry(name)
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        self.0.each(visit);
    }
}

/// An authentic delivery to store, as the receiver writes it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewEntry {
    /// The provider's name.
    pub provider: String,
    /// The receiver's endpoint.
    pub endpoint: String,
    /// The delivery id, as the handler sees it.
    pub delivery_id: String,
    /// The key the delivery is deduplicated under (unique in the inbox).
    pub dedup_key: String,
    /// The event type.
    pub event_type: String,
    /// Entries sharing a key run one at a time, in the order of their ids.
    pub ordering_key: Option<String>,
    /// `Some(index)` of the key that verified it; `None` for an unsigned delivery the
    /// provider's configuration allowed.
    pub signed_by: Option<u16>,
    /// The request's headers.
    pub headers: StoredHeaders,
    /// The raw body.
    pub body: Bytes,
}

impl NewEntry {
    /// An entry of `provider` on `endpoint` with its delivery id and dedup key, for tests and
    /// stores: no event type, headers or body yet (set the fields).
    #[must_use]
    pub fn new(provider: &str, endpoint: &str, delivery_id: &str, dedup_key: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            endpoint: endpoint.to_owned(),
            delivery_id: delivery_id.to_owned(),
            dedup_key: dedup_key.to_owned(),
            event_type: String::new(),
            ordering_key: None,
            signed_by: None,
            headers: StoredHeaders::default(),
            body: Bytes::new(),
        }
    }
}

/// What storing an entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Enqueued {
    /// Stored, committed: safe to answer 2xx.
    Stored(EntryId),
    /// An entry with the same dedup key is stored already (in any state): it was counted as
    /// seen once more, nothing else.
    Duplicate(EntryId),
}

/// An entry a worker claimed: run its handler, then settle it through its [`Lease`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClaimedEntry {
    /// Its lease: the entry's id and the claim's token.
    pub lease: Lease,
    /// The provider's name.
    pub provider: String,
    /// The receiver's endpoint.
    pub endpoint: String,
    /// The event type stored.
    pub event_type: String,
    /// Which key verified it (see [`NewEntry::signed_by`]).
    pub signed_by: Option<u16>,
    /// The stored headers.
    pub headers: StoredHeaders,
    /// The raw body.
    pub body: Bytes,
    /// This attempt's number, from 1 (attempts cut off by a crash count).
    pub attempt: u32,
    /// When the receiver stored it, Unix milliseconds.
    pub received_at_ms: i64,
}

impl ClaimedEntry {
    /// A claimed entry of `provider` on `endpoint`, for a store to fill in: no headers, an
    /// empty body, attempt 1.
    #[must_use]
    pub fn new(lease: Lease, provider: String, endpoint: String) -> Self {
        Self {
            lease,
            provider,
            endpoint,
            event_type: String::new(),
            signed_by: None,
            headers: StoredHeaders::default(),
            body: Bytes::new(),
            attempt: 1,
            received_at_ms: 0,
        }
    }
}

/// A worker's hold on a running entry: settling or renewing it needs both parts, so a worker
/// whose lease was taken over (it stalled past it, the entry was rescued and claimed again)
/// changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The entry.
    pub id: EntryId,
    /// The claim's random token.
    pub token: String,
}

/// One attempt in an entry's history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptRecord {
    /// Its number, from 1.
    pub attempt: u32,
    /// When it ended, Unix milliseconds.
    pub at_ms: i64,
    /// `done`, `retry`, `dead`, `released`, `lease expired`, or `replayed`.
    pub outcome: String,
    /// The error, if any.
    pub error: Option<String>,
}

impl AttemptRecord {
    /// A record.
    #[must_use]
    pub fn new(attempt: u32, at_ms: i64, outcome: &str, error: Option<String>) -> Self {
        Self {
            attempt,
            at_ms,
            outcome: outcome.to_owned(),
            error,
        }
    }
}

/// An entry as operations read it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Entry {
    /// Its id.
    pub id: EntryId,
    /// Its state.
    pub state: EntryState,
    /// The provider's name.
    pub provider: String,
    /// The receiver's endpoint.
    pub endpoint: String,
    /// The delivery id.
    pub delivery_id: String,
    /// The dedup key.
    pub dedup_key: String,
    /// The event type.
    pub event_type: String,
    /// Its ordering key.
    pub ordering_key: Option<String>,
    /// Attempts started since it was stored or last replayed.
    pub attempts: u32,
    /// How many times it was received (1, plus the duplicates that reached the store).
    pub times_seen: u32,
    /// When the receiver stored it, Unix milliseconds.
    pub received_at_ms: i64,
    /// When a copy of it was last received, Unix milliseconds.
    pub last_seen_ms: i64,
    /// When a pending entry is due (a retry's time), Unix milliseconds.
    pub run_at_ms: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Every attempt's end, oldest first.
    pub history: Vec<AttemptRecord>,
    /// The stored headers (empty in [`list`](super::InboxStore::list)'s answers).
    pub headers: StoredHeaders,
    /// The raw body (empty in [`list`](super::InboxStore::list)'s answers).
    pub body: Bytes,
}

impl Entry {
    /// An entry `id` in `state`, for a store to fill in: every other field empty or zero.
    #[must_use]
    pub fn new(id: EntryId, state: EntryState) -> Self {
        Self {
            id,
            state,
            provider: String::new(),
            endpoint: String::new(),
            delivery_id: String::new(),
            dedup_key: String::new(),
            event_type: String::new(),
            ordering_key: None,
            attempts: 0,
            times_seen: 1,
            received_at_ms: 0,
            last_seen_ms: 0,
            run_at_ms: 0,
            last_error: None,
            history: Vec::new(),
            headers: StoredHeaders::default(),
            body: Bytes::new(),
        }
    }
}

/// Which entries an operation applies to; every field set must match. Write it with
/// `..Filter::default()` so that a field added later does not break your code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this state.
    pub state: Option<EntryState>,
    /// Only this provider.
    pub provider: Option<String>,
    /// Only this endpoint.
    pub endpoint: Option<String>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Received at or after, Unix milliseconds.
    pub since_ms: Option<i64>,
    /// Received before, Unix milliseconds.
    pub until_ms: Option<i64>,
    /// Ids up to this one.
    pub up_to: Option<EntryId>,
}

impl Filter {
    /// Does `entry` match?
    #[must_use]
    pub fn matches(&self, entry: &Entry) -> bool {
        self.state.is_none_or(|s| s == entry.state)
            && self.provider.as_deref().is_none_or(|p| p == entry.provider)
            && self.endpoint.as_deref().is_none_or(|e| e == entry.endpoint)
            && (self.event_type.as_deref()).is_none_or(|t| t == entry.event_type)
            && self.since_ms.is_none_or(|t| entry.received_at_ms >= t)
            && self.until_ms.is_none_or(|t| entry.received_at_ms < t)
            && self.up_to.is_none_or(|id| entry.id <= id)
    }
}

/// What processing is paused for: one provider on every endpoint, or on one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PauseScope {
    /// The provider.
    pub provider: String,
    /// One endpoint, or `None` for all of the provider's.
    pub endpoint: Option<String>,
}

impl PauseScope {
    /// Does it cover entries of `provider` on `endpoint`?
    #[must_use]
    pub fn covers(&self, provider: &str, endpoint: &str) -> bool {
        self.provider == provider && self.endpoint.as_deref().is_none_or(|e| e == endpoint)
    }
}

/// Counts by state, and the age of the oldest pending entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Waiting for a worker (due or not).
    pub pending: u64,
    /// Held by a worker.
    pub running: u64,
    /// Handled, not purged yet.
    pub done: u64,
    /// Dead letters.
    pub dead: u64,
    /// How long the oldest pending entry has waited since it was received.
    pub oldest_pending: Option<Duration>,
}

impl ClaimRequest {
    /// A request for up to `limit` entries under `lease`, with the claim's `token`, of no
    /// route yet (set [`routes`](Self::routes)).
    #[must_use]
    pub fn new(limit: usize, lease: Duration, token: &str) -> Self {
        Self {
            limit,
            lease,
            routes: Vec::new(),
            token: token.to_owned(),
        }
    }
}

/// What a worker asks for when it claims entries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClaimRequest {
    /// At most this many.
    pub limit: usize,
    /// The lease, renewed while the handler runs.
    pub lease: Duration,
    /// Only entries of these `(provider, endpoint)` pairs (the worker's routes).
    pub routes: Vec<(String, String)>,
    /// The claim's token (random, one per claim call).
    pub token: String,
}
