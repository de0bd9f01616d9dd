//! The state of a [`MemoryInbox`](super::MemoryInbox): entries by id and key, pauses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::inbox::entry::{
    AttemptRecord, Entry, EntryId, EntryState, Lease, PauseScope, StoredHeaders,
};

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) next_id: i64,
    pub(super) entries: BTreeMap<EntryId, Stored>,
    pub(super) by_key: HashMap<String, EntryId>,
    pub(super) paused: BTreeSet<PauseScope>,
}

#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub(super) entry: Entry,
    pub(super) signed_by: Option<u16>,
    pub(super) lease: Option<(String, i64)>,
    pub(super) finished_at_ms: Option<i64>,
}

impl State {
    /// Is an earlier entry of `key` unfinished?
    pub(super) fn blocked(&self, id: EntryId, key: &str) -> bool {
        self.entries.range(..id).any(|(_, s)| {
            s.entry.ordering_key.as_deref() == Some(key)
                && matches!(s.entry.state, EntryState::Pending | EntryState::Running)
        })
    }

    pub(super) fn paused(&self, entry: &Entry) -> bool {
        self.paused
            .iter()
            .any(|scope| scope.covers(&entry.provider, &entry.endpoint))
    }

    pub(super) fn held<'s>(&'s mut self, lease: &Lease) -> Option<&'s mut Stored> {
        self.entries.get_mut(&lease.id).filter(|s| {
            s.entry.state == EntryState::Running
                && s.lease
                    .as_ref()
                    .is_some_and(|(token, _)| *token == lease.token)
        })
    }
}

pub(super) fn replay_one(stored: &mut Stored, now: i64) -> bool {
    if stored.entry.state == EntryState::Running {
        return false;
    }
    let entry = &mut stored.entry;
    entry
        .history
        .push(AttemptRecord::new(entry.attempts, now, "replayed", None));
    entry.state = EntryState::Pending;
    entry.attempts = 0;
    entry.run_at_ms = now;
    stored.finished_at_ms = None;
    true
}

pub(super) fn summary(entry: &Entry) -> Entry {
    Entry {
        headers: StoredHeaders::default(),
        body: bytes::Bytes::new(),
        ..entry.clone()
    }
}
