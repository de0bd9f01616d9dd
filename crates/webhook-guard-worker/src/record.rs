//! What a dedup object keeps for its one key, and the store calls as pure functions of the
//! record, the call and the time: the whole protocol, testable without a Worker.

use serde::{Deserialize, Serialize};

/// How long a release that found no record fences the token (the core asks at least 60 s).
pub(crate) const FENCE_MILLIS: i64 = 60_000;

/// The one record a dedup object holds (the object's storage key `record`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum Record {
    /// Claimed by `owner` until `until` (Unix milliseconds).
    InFlight {
        /// The owner token, as hex (JSON numbers cannot hold 128 bits).
        owner: Token,
        /// When the lease ends.
        until: i64,
    },
    /// Handled; a copy is a duplicate until `until`.
    Done {
        /// When the record is forgotten.
        until: i64,
    },
    /// A release found nothing: a late claim by `owner` is refused until `until`.
    Fence {
        /// The fenced token.
        owner: Token,
        /// When the fence is lifted.
        until: i64,
    },
}

/// A claim token on the wire: 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token(pub(crate) u128);

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:032x}", self.0))
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        u128::from_str_radix(&text, 16)
            .map(Token)
            .map_err(|_| serde::de::Error::custom("a claim token is 32 hex digits"))
    }
}

/// A store call, as the Worker sends it to the key's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub(crate) enum Call {
    /// `DedupStore::claim`, for `lease` milliseconds.
    Claim {
        /// The caller's token.
        token: Token,
        /// The lease.
        millis: i64,
    },
    /// `DedupStore::renew`.
    Renew {
        /// The caller's token.
        token: Token,
        /// The new lease, from now.
        millis: i64,
    },
    /// `DedupStore::complete`, kept for `millis`.
    Complete {
        /// The caller's token.
        token: Token,
        /// The retention.
        millis: i64,
    },
    /// `DedupStore::release`.
    Release {
        /// The caller's token.
        token: Token,
    },
    /// `DedupStore::inspect`.
    Inspect,
    /// `DedupStore::forget`.
    Forget,
}

/// The object's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub(crate) enum Answer {
    /// `claim`: the key is the caller's now.
    Claimed,
    /// `claim`: another claim holds the key (or the caller's token is fenced).
    InFlight,
    /// `claim`: the key was handled.
    Done,
    /// `renew`, `forget`: whether it took effect.
    Flag {
        /// The result.
        value: bool,
    },
    /// `complete`, `release`: done (or nothing to do).
    Ok,
    /// `inspect`: what is held, with the milliseconds left.
    Held {
        /// `in_flight`, `done`, or absent for nothing.
        record: Option<HeldRecord>,
    },
}

/// What `inspect` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum HeldRecord {
    /// A claim in flight.
    InFlight {
        /// Milliseconds to the end of the lease.
        left: i64,
    },
    /// A handled delivery.
    Done {
        /// Milliseconds until it is forgotten.
        left: i64,
    },
}

/// What the object does after a call: its answer, and the record to keep (`None`: delete it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) answer: Answer,
    pub(crate) keep: Keep,
}

/// What becomes of the stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Leave storage as it is.
    Unchanged,
    /// Write this record (and set the alarm to its end).
    Write(Record),
    /// Delete the record.
    Delete,
}

impl Record {
    /// When the record stops counting.
    pub(crate) fn until(&self) -> i64 {
        match self {
            Self::InFlight { until, .. } | Self::Done { until } | Self::Fence { until, .. } => {
                *until
            }
        }
    }
}

/// Applies `call` to the stored `record` at `now` (Unix milliseconds). A record past its
/// `until` counts as none.
pub(crate) fn apply(record: Option<Record>, call: Call, now: i64) -> Step {
    let live = record.filter(|r| r.until() > now);
    let step = |answer, keep| Step { answer, keep };
    match call {
        Call::Claim { token, millis } => match live {
            Some(Record::Done { .. }) => step(Answer::Done, Keep::Unchanged),
            // The owner's retried claim (its first answer was lost) is its own again.
            Some(Record::InFlight { owner, .. }) if owner != token => {
                step(Answer::InFlight, Keep::Unchanged)
            }
            Some(Record::Fence { owner, .. }) if owner == token => {
                step(Answer::InFlight, Keep::Unchanged)
            }
            _ => step(
                Answer::Claimed,
                Keep::Write(Record::InFlight {
                    owner: token,
                    until: now.saturating_add(millis.max(1)),
                }),
            ),
        },
        Call::Renew { token, millis } => match live {
            Some(Record::InFlight { owner, .. }) if owner == token => step(
                Answer::Flag { value: true },
                Keep::Write(Record::InFlight {
                    owner,
                    until: now.saturating_add(millis.max(1)),
                }),
            ),
            _ => step(Answer::Flag { value: false }, Keep::Unchanged),
        },
        // A lease that ran out but was not taken over is still the owner's to complete.
        Call::Complete { token, millis } => match record {
            Some(Record::InFlight { owner, .. }) if owner == token => step(
                Answer::Ok,
                Keep::Write(Record::Done {
                    until: now.saturating_add(millis.max(1)),
                }),
            ),
            _ => step(Answer::Ok, Keep::Unchanged),
        },
        Call::Release { token } => match live {
            Some(Record::InFlight { owner, .. }) if owner == token => {
                step(Answer::Ok, Keep::Delete)
            }
            // Nothing here: the claim this release undoes may still arrive; fence it.
            None => step(
                Answer::Ok,
                Keep::Write(Record::Fence {
                    owner: token,
                    until: now.saturating_add(FENCE_MILLIS),
                }),
            ),
            Some(_) => step(Answer::Ok, Keep::Unchanged),
        },
        Call::Inspect => {
            let record = match live {
                Some(Record::InFlight { until, .. }) => {
                    Some(HeldRecord::InFlight { left: until - now })
                }
                Some(Record::Done { until }) => Some(HeldRecord::Done { left: until - now }),
                Some(Record::Fence { .. }) | None => None,
            };
            step(Answer::Held { record }, Keep::Unchanged)
        }
        Call::Forget => {
            let held = matches!(live, Some(Record::InFlight { .. } | Record::Done { .. }));
            step(Answer::Flag { value: held }, Keep::Delete)
        }
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
