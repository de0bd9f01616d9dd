//! [`DedupObject`]: the Durable Object class that holds one delivery key's record.

// `#[durable_object]` adds the class's JavaScript glue (its constructor, `fetch`, `alarm`...),
// public and undocumented: the docs are the trait's.
#![allow(missing_docs)]

use std::fmt;

use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::record::{Call, Keep, Record, apply};

/// Where an object keeps its record in its storage.
const RECORD: &str = "record";

/// The Durable Object class of a [`DurableObjectStore`](crate::DurableObjectStore): each
/// object is named by one delivery key and holds that key's record (in flight with its owner
/// and lease, done, or a fence), and deletes it with an alarm when it ends.
///
/// A Worker exports it by naming it in `wrangler.toml` (the crate defines the class; nothing
/// else is needed in the Worker's code):
///
/// ```toml
/// [[durable_objects.bindings]]
/// name = "WEBHOOK_DEDUP"
/// class_name = "DedupObject"
///
/// [[migrations]]
/// tag = "v1"
/// new_sqlite_classes = ["DedupObject"]
/// ```
///
/// Each call reads the record and writes its successor with no other I/O between the two, so
/// the object's input gate runs it alone: no other call to the same key sees the record in
/// between.
#[durable_object]
pub struct DedupObject {
    state: State,
}

impl DurableObject for DedupObject {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let call: Call = match request.json().await {
            Ok(call) => call,
            Err(error) => return Response::error(format!("not a dedup call: {error}"), 400),
        };
        let storage = self.state.storage();
        let record: Option<Record> = storage.get(RECORD).await?;
        let step = apply(record, call, now());
        match step.keep {
            Keep::Unchanged => {}
            Keep::Write(record) => {
                storage.put(RECORD, record).await?;
                storage.set_alarm(alarm_at(record.until())).await?;
            }
            Keep::Delete => {
                storage.delete(RECORD).await?;
            }
        }
        Response::from_json(&step.answer)
    }

    async fn alarm(&self) -> Result<Response> {
        let storage = self.state.storage();
        let record: Option<Record> = storage.get(RECORD).await?;
        match record {
            // Renewed or rewritten since the alarm was set.
            Some(record) if record.until() > now() => {
                storage.set_alarm(alarm_at(record.until())).await?;
            }
            _ => storage.delete_all().await?,
        }
        Response::empty()
    }
}

impl fmt::Debug for DedupObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DedupObject").finish_non_exhaustive()
    }
}

/// The time now, in Unix milliseconds (JavaScript's `Date.now()`).
fn now() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}

/// An alarm at `until` (Unix milliseconds), as an offset from now.
fn alarm_at(until: i64) -> i64 {
    until.saturating_sub(now()).max(0)
}
