//! [`MemoryInbox`]: the inbox in this process's memory, for the demo, tests and one-process
//! apps that accept losing pending entries with the process.

mod state;

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::sync::Notify;

use self::state::{State, Stored, replay_one, summary};
use super::{
    entry::{
        AttemptRecord, ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, EntryState, Filter,
        Lease, NewEntry, PauseScope, Stats,
    },
    store::{InboxStore, ReplayStep, Settlement},
};
use crate::{
    clock::{Clock, SystemClock},
    dedup::StoreFuture,
};

/// An inbox in memory. Not durable: a 2xx from a receiver on it means "queued in this
/// process", so use it for the demo and tests, and a durable store (`PgInbox`, in
/// `webhook-guard-postgres`) for anything real. Cheap to clone (shared).
///
/// ```
/// use webhook_guard::inbox::{Inbox, MemoryInbox};
///
/// let inbox = Inbox::new(MemoryInbox::new());
/// # let _ = inbox;
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryInbox {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    notify: Notify,
    clock: Arc<dyn Clock>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            notify: Notify::new(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl MemoryInbox {
    /// An empty inbox on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty inbox on `clock` (a [`ManualClock`](crate::clock::ManualClock) in tests).
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Shared {
                clock,
                ..Shared::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is made whole before anything can panic.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> i64 {
        self.inner.clock.unix_millis()
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(Ok(value)))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl InboxStore for MemoryInbox {
    fn enqueue<'a>(&'a self, new: &'a NewEntry) -> StoreFuture<'a, Enqueued> {
        let now = self.now();
        let mut state = self.lock();
        if let Some(&id) = state.by_key.get(&new.dedup_key) {
            if let Some(stored) = state.entries.get_mut(&id) {
                stored.entry.times_seen = stored.entry.times_seen.saturating_add(1);
                stored.entry.last_seen_ms = now;
            }
            return ready(Enqueued::Duplicate(id));
        }
        state.next_id += 1;
        let id = EntryId::new(state.next_id);
        let entry = Entry {
            id,
            state: EntryState::Pending,
            provider: new.provider.clone(),
            endpoint: new.endpoint.clone(),
            delivery_id: new.delivery_id.clone(),
            dedup_key: new.dedup_key.clone(),
            event_type: new.event_type.clone(),
            ordering_key: new.ordering_key.clone(),
            attempts: 0,
            times_seen: 1,
            received_at_ms: now,
            last_seen_ms: now,
            run_at_ms: now,
            last_error: None,
            history: Vec::new(),
            headers: new.headers.clone(),
            body: new.body.clone(),
        };
        state.by_key.insert(new.dedup_key.clone(), id);
        let stored = Stored {
            entry,
            signed_by: new.signed_by,
            lease: None,
            finished_at_ms: None,
        };
        state.entries.insert(id, stored);
        drop(state);
        self.inner.notify.notify_waiters();
        ready(Enqueued::Stored(id))
    }

    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> StoreFuture<'a, Vec<ClaimedEntry>> {
        let now = self.now();
        let mut state = self.lock();
        let mut due: Vec<(i64, EntryId)> = state
            .entries
            .values()
            .filter(|s| {
                let e = &s.entry;
                e.state == EntryState::Pending
                    && e.run_at_ms <= now
                    && request
                        .routes
                        .iter()
                        .any(|(p, ep)| *p == e.provider && *ep == e.endpoint)
                    && !state.paused(e)
                    && e.ordering_key
                        .as_deref()
                        .is_none_or(|key| !state.blocked(e.id, key))
            })
            .map(|s| (s.entry.run_at_ms, s.entry.id))
            .collect();
        due.sort_unstable();
        due.truncate(request.limit);
        let until = now.saturating_add(millis(request.lease));
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            let Some(stored) = state.entries.get_mut(&id) else {
                continue;
            };
            stored.entry.state = EntryState::Running;
            stored.entry.attempts += 1;
            stored.lease = Some((request.token.clone(), until));
            let e = &stored.entry;
            claimed.push(ClaimedEntry {
                lease: Lease {
                    id,
                    token: request.token.clone(),
                },
                provider: e.provider.clone(),
                endpoint: e.endpoint.clone(),
                event_type: e.event_type.clone(),
                signed_by: stored.signed_by,
                headers: e.headers.clone(),
                body: e.body.clone(),
                attempt: e.attempts,
                received_at_ms: e.received_at_ms,
            });
        }
        ready(claimed)
    }

    fn renew<'a>(
        &'a self,
        leases: &'a [Lease],
        duration: Duration,
    ) -> StoreFuture<'a, Vec<EntryId>> {
        let until = self.now().saturating_add(millis(duration));
        let mut state = self.lock();
        let mut renewed = Vec::new();
        for lease in leases {
            if let Some(stored) = state.held(lease) {
                stored.lease = Some((lease.token.clone(), until));
                renewed.push(lease.id);
            }
        }
        ready(renewed)
    }

    fn settle<'a>(&'a self, lease: &'a Lease, settlement: &'a Settlement) -> StoreFuture<'a, bool> {
        let now = self.now();
        let mut state = self.lock();
        let Some(stored) = state.held(lease) else {
            return ready(false);
        };
        stored.lease = None;
        let entry = &mut stored.entry;
        let error = settlement.error().map(str::to_owned);
        entry.history.push(AttemptRecord::new(
            entry.attempts,
            now,
            settlement.outcome(),
            error.clone(),
        ));
        match settlement {
            Settlement::Done => {
                entry.state = EntryState::Done;
                stored.finished_at_ms = Some(now);
            }
            Settlement::Retry { after, .. } => {
                entry.state = EntryState::Pending;
                entry.run_at_ms = now.saturating_add(millis(*after));
                entry.last_error = error;
            }
            Settlement::Dead { .. } => {
                entry.state = EntryState::Dead;
                entry.last_error = error;
                stored.finished_at_ms = Some(now);
            }
            Settlement::Release => {
                entry.state = EntryState::Pending;
                entry.run_at_ms = now;
                entry.attempts = entry.attempts.saturating_sub(1);
            }
        }
        drop(state);
        self.inner.notify.notify_waiters();
        ready(true)
    }

    fn rescue(&self, max_attempts: u32) -> StoreFuture<'_, u64> {
        let now = self.now();
        let mut state = self.lock();
        let mut rescued = 0;
        for stored in state.entries.values_mut() {
            let expired = stored
                .lease
                .as_ref()
                .is_some_and(|(_, until)| *until <= now);
            if stored.entry.state != EntryState::Running || !expired {
                continue;
            }
            stored.lease = None;
            let entry = &mut stored.entry;
            let error = "the lease expired: the worker stopped or stalled".to_owned();
            entry.history.push(AttemptRecord::new(
                entry.attempts,
                now,
                "lease expired",
                Some(error.clone()),
            ));
            entry.last_error = Some(error);
            if entry.attempts >= max_attempts {
                entry.state = EntryState::Dead;
                stored.finished_at_ms = Some(now);
            } else {
                entry.state = EntryState::Pending;
                entry.run_at_ms = now;
            }
            rescued += 1;
        }
        drop(state);
        if rescued > 0 {
            self.inner.notify.notify_waiters();
        }
        ready(rescued)
    }

    fn wait(&self, timeout: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let _ = tokio::time::timeout(timeout, self.inner.notify.notified()).await;
            Ok(())
        })
    }

    fn get(&self, id: EntryId) -> StoreFuture<'_, Option<Entry>> {
        ready(self.lock().entries.get(&id).map(|s| s.entry.clone()))
    }

    fn list<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<Entry>> {
        let state = self.lock();
        let start = after.map_or(i64::MIN, |a| a.get().saturating_add(1));
        let found = state
            .entries
            .range(EntryId::new(start)..)
            .map(|(_, s)| &s.entry)
            .filter(|e| filter.matches(e))
            .take(limit)
            .map(summary)
            .collect();
        ready(found)
    }

    fn newest(&self) -> StoreFuture<'_, Option<EntryId>> {
        ready(self.lock().entries.keys().next_back().copied())
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        let now = self.now();
        let state = self.lock();
        let mut stats = Stats::default();
        let mut oldest: Option<i64> = None;
        for stored in state.entries.values() {
            let e = &stored.entry;
            match e.state {
                EntryState::Pending => {
                    stats.pending += 1;
                    oldest = Some(oldest.map_or(e.received_at_ms, |o| o.min(e.received_at_ms)));
                }
                EntryState::Running => stats.running += 1,
                EntryState::Done => stats.done += 1,
                EntryState::Dead => stats.dead += 1,
            }
        }
        stats.oldest_pending = oldest.map(|received| {
            Duration::from_millis(u64::try_from(now.saturating_sub(received)).unwrap_or(0))
        });
        ready(stats)
    }

    fn replay<'a>(&'a self, ids: &'a [EntryId]) -> StoreFuture<'a, Vec<EntryId>> {
        let now = self.now();
        let mut state = self.lock();
        let replayed = ids
            .iter()
            .copied()
            .filter(|id| {
                state
                    .entries
                    .get_mut(id)
                    .is_some_and(|s| replay_one(s, now))
            })
            .collect();
        drop(state);
        self.inner.notify.notify_waiters();
        ready(replayed)
    }

    fn replay_step<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        limit: usize,
    ) -> StoreFuture<'a, ReplayStep> {
        let now = self.now();
        let mut state = self.lock();
        let start = after.map_or(i64::MIN, |a| a.get().saturating_add(1));
        let mut replayed = 0;
        let mut last = None;
        let matching = state
            .entries
            .range_mut(EntryId::new(start)..)
            .filter(|(_, s)| s.entry.state != EntryState::Running && filter.matches(&s.entry))
            .take(limit);
        for (id, stored) in matching {
            last = Some(*id);
            if replay_one(stored, now) {
                replayed += 1;
            }
        }
        drop(state);
        self.inner.notify.notify_waiters();
        ready(ReplayStep::new(replayed, last))
    }

    fn pause<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, ()> {
        self.lock().paused.insert(scope.clone());
        ready(())
    }

    fn resume<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, bool> {
        let removed = self.lock().paused.remove(scope);
        self.inner.notify.notify_waiters();
        ready(removed)
    }

    fn paused(&self) -> StoreFuture<'_, Vec<PauseScope>> {
        ready(self.lock().paused.iter().cloned().collect())
    }

    fn purge(&self, older_than: Duration, dead: bool, limit: usize) -> StoreFuture<'_, u64> {
        let before = self.now().saturating_sub(millis(older_than));
        let mut state = self.lock();
        let old: Vec<(EntryId, String)> = state
            .entries
            .values()
            .filter(|s| {
                let finished = s.finished_at_ms.is_some_and(|at| at < before);
                finished
                    && (s.entry.state == EntryState::Done
                        || (dead && s.entry.state == EntryState::Dead))
            })
            .take(limit)
            .map(|s| (s.entry.id, s.entry.dedup_key.clone()))
            .collect();
        for (id, key) in &old {
            state.entries.remove(id);
            state.by_key.remove(key);
        }
        ready(old.len() as u64)
    }

    fn forget<'a>(&'a self, dedup_key: &'a str) -> StoreFuture<'a, bool> {
        let mut state = self.lock();
        let Some(&id) = state.by_key.get(dedup_key) else {
            return ready(false);
        };
        let finished = state
            .entries
            .get(&id)
            .is_some_and(|s| matches!(s.entry.state, EntryState::Done | EntryState::Dead));
        if finished {
            state.entries.remove(&id);
            state.by_key.remove(dedup_key);
        }
        ready(finished)
    }
}
