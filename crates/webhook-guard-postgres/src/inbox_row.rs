//! Rows of the inbox table as entries, and filters as statement parameters.

use sqlx::Row as _;
use webhook_guard::inbox::{AttemptRecord, Entry, EntryId, EntryState, Filter, StoredHeaders};

pub(crate) fn to_u32(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn decode_history(text: &str) -> Vec<AttemptRecord> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let attempt = item["attempt"].as_u64().and_then(|n| u32::try_from(n).ok());
            AttemptRecord::new(
                attempt.unwrap_or(0),
                item["at"].as_i64().unwrap_or(0),
                item["outcome"].as_str().unwrap_or(""),
                item["error"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

pub(crate) fn summary(row: &sqlx::postgres::PgRow) -> Result<Entry, sqlx::Error> {
    let state: String = row.try_get(1)?;
    let state = state
        .parse::<EntryState>()
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let history: String = row.try_get(14)?;
    let mut entry = Entry::new(EntryId::new(row.try_get(0)?), state);
    entry.provider = row.try_get(2)?;
    entry.endpoint = row.try_get(3)?;
    entry.delivery_id = row.try_get(4)?;
    entry.dedup_key = row.try_get(5)?;
    entry.event_type = row.try_get(6)?;
    entry.ordering_key = row.try_get(7)?;
    entry.attempts = to_u32(row.try_get(8)?);
    entry.times_seen = to_u32(row.try_get(9)?);
    entry.received_at_ms = row.try_get(10)?;
    entry.last_seen_ms = row.try_get(11)?;
    entry.run_at_ms = row.try_get(12)?;
    entry.last_error = row.try_get(13)?;
    entry.history = decode_history(&history);
    Ok(entry)
}

pub(crate) fn headers(names: Vec<String>, values: Vec<Vec<u8>>) -> StoredHeaders {
    StoredHeaders::from_pairs(names.into_iter().zip(values).collect())
}

/// Binds a filter's `$1` to `$8`.
pub(crate) fn bind_filter<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    filter: &Filter,
    after: Option<EntryId>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(filter.state.map(|s| s.as_str().to_owned()))
        .bind(filter.provider.clone())
        .bind(filter.endpoint.clone())
        .bind(filter.event_type.clone())
        .bind(filter.since_ms)
        .bind(filter.until_ms)
        .bind(after.map(EntryId::get))
        .bind(filter.up_to.map(EntryId::get))
}

pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
