//! How a [`RedisInbox`](crate::RedisInbox) entry's hash is written and read back: the stored
//! headers as one length-prefixed field, the history as records, the other fields as text.

use std::collections::HashMap;

use bytes::Bytes;
use webhook_guard::inbox::{
    AttemptRecord, ClaimedEntry, Entry, EntryId, EntryState, Lease, PauseScope, StoredHeaders,
};

/// Separates the history's records (ASCII record separator).
const RECORD: char = '\u{1e}';
/// Separates a record's fields (ASCII unit separator).
const UNIT: char = '\u{1f}';

/// The headers as one value: for each, the name's length (4 bytes, big-endian), the name, the
/// value's length, the value.
pub(crate) fn encode_headers(headers: &StoredHeaders) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.byte_len() + 8 * headers.pairs().len());
    for (name, value) in headers.pairs() {
        for part in [name.as_bytes(), value.as_slice()] {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&part[..len as usize]);
        }
    }
    out
}

/// The headers of [`encode_headers`]; a truncated or altered value yields the headers read
/// before the damage.
pub(crate) fn decode_headers(mut bytes: &[u8]) -> StoredHeaders {
    let mut pairs = Vec::new();
    let take = |bytes: &mut &[u8]| -> Option<Vec<u8>> {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        let (part, rest) = rest.split_at_checked(len)?;
        *bytes = rest;
        Some(part.to_vec())
    };
    while !bytes.is_empty() {
        let (Some(name), Some(value)) = (take(&mut bytes), take(&mut bytes)) else {
            break;
        };
        pairs.push((String::from_utf8_lossy(&name).into_owned(), value));
    }
    StoredHeaders::from_pairs(pairs)
}

/// An error as stored: the history's separators replaced by spaces.
pub(crate) fn clean_error(error: &str) -> String {
    error.replace([RECORD, UNIT], " ")
}

/// The history's records, oldest first.
pub(crate) fn decode_history(text: &str) -> Vec<AttemptRecord> {
    text.split(RECORD)
        .filter(|record| !record.is_empty())
        .filter_map(|record| {
            let mut fields = record.splitn(4, UNIT);
            let attempt = fields.next()?.parse().ok()?;
            let at_ms = fields.next()?.parse().ok()?;
            let outcome = fields.next()?;
            let error = fields.next().filter(|e| !e.is_empty()).map(str::to_owned);
            Some(AttemptRecord::new(attempt, at_ms, outcome, error))
        })
        .collect()
}

/// The fields an entry's summary is read from, in this order (for `HMGET`).
pub(crate) const SUMMARY_FIELDS: [&str; 14] = [
    "st", "p", "ep", "did", "dk", "t", "ok", "n", "seen", "rcv", "last", "run", "err", "hist",
];

/// An entry from its fields (`HGETALL`, or [`SUMMARY_FIELDS`] by name); `None` when it has no
/// state (deleted).
pub(crate) fn entry(id: i64, fields: &HashMap<String, Vec<u8>>) -> Option<Entry> {
    let text = |name: &str| {
        fields
            .get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let number = |name: &str| text(name).and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
    let state: EntryState = text("st")?.parse().ok()?;
    let mut entry = Entry::new(EntryId::new(id), state);
    entry.provider = text("p").unwrap_or_default();
    entry.endpoint = text("ep").unwrap_or_default();
    entry.delivery_id = text("did").unwrap_or_default();
    entry.dedup_key = text("dk").unwrap_or_default();
    entry.event_type = text("t").unwrap_or_default();
    entry.ordering_key = text("ok");
    entry.attempts = u32::try_from(number("n")).unwrap_or(0);
    entry.times_seen = u32::try_from(number("seen")).unwrap_or(u32::MAX);
    entry.received_at_ms = number("rcv");
    entry.last_seen_ms = number("last");
    entry.run_at_ms = number("run");
    entry.last_error = text("err").filter(|e| !e.is_empty());
    entry.history = decode_history(&text("hist").unwrap_or_default());
    if let Some(headers) = fields.get("h") {
        entry.headers = decode_headers(headers);
    }
    if let Some(body) = fields.get("b") {
        entry.body = Bytes::copy_from_slice(body);
    }
    Some(entry)
}

/// The fields of an `HMGET` of [`SUMMARY_FIELDS`], by name.
pub(crate) fn summary_fields(values: Vec<Option<Vec<u8>>>) -> HashMap<String, Vec<u8>> {
    SUMMARY_FIELDS
        .iter()
        .zip(values)
        .filter_map(|(name, value)| Some(((*name).to_owned(), value?)))
        .collect()
}

/// One claimed entry as the claim script answers it.
pub(crate) type ClaimedRow = (
    i64,
    u32,
    String,
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    i64,
);

pub(crate) fn claimed(row: ClaimedRow, token: &str) -> ClaimedEntry {
    let (id, attempt, provider, endpoint, event_type, signed_by, headers, body, received) = row;
    let lease = Lease {
        id: EntryId::new(id),
        token: token.to_owned(),
    };
    let mut entry = ClaimedEntry::new(lease, provider, endpoint);
    entry.event_type = event_type;
    entry.signed_by = signed_by.parse().ok();
    entry.headers = decode_headers(&headers);
    entry.body = Bytes::from(body);
    entry.attempt = attempt;
    entry.received_at_ms = received;
    entry
}

/// A pause scope as a member of the `:paused` set.
pub(crate) fn pause_member(scope: &PauseScope) -> String {
    match &scope.endpoint {
        None => format!("a\n{}", scope.provider),
        Some(endpoint) => format!("e\n{}\n{endpoint}", scope.provider),
    }
}

/// The scopes of the pause set's members, sorted.
pub(crate) fn scopes(members: &[String]) -> Vec<PauseScope> {
    let mut scopes: Vec<PauseScope> = members
        .iter()
        .filter_map(|member| {
            let mut parts = member.splitn(3, '\n');
            let (kind, provider) = (parts.next()?, parts.next()?.to_owned());
            let endpoint = match kind {
                "a" => None,
                _ => Some(parts.next()?.to_owned()),
            };
            Some(PauseScope { provider, endpoint })
        })
        .collect();
    scopes.sort();
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_damage_is_bounded() {
        let headers = StoredHeaders::from_pairs(vec![
            ("webhook-id".to_owned(), b"msg_1".to_vec()),
            ("x-bin".to_owned(), vec![0, 255, 10]),
            ("empty".to_owned(), Vec::new()),
        ]);
        let bytes = encode_headers(&headers);
        assert_eq!(decode_headers(&bytes), headers);
        let damaged = decode_headers(&bytes[..bytes.len() - 3]);
        assert_eq!(damaged.pairs(), &headers.pairs()[..2]);
        assert!(decode_headers(&[0, 0, 0, 200, 1]).pairs().is_empty());
    }

    #[test]
    fn history_keeps_errors_with_separators_whole() {
        let error = clean_error("bad\u{1f}thing\u{1e}here");
        let text =
            format!("1\u{1f}10\u{1f}retry\u{1f}{error}\u{1e}2\u{1f}20\u{1f}done\u{1f}\u{1e}");
        let history = decode_history(&text);
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].error.as_deref(), Some("bad thing here"));
        assert_eq!((history[1].attempt, history[1].at_ms), (2, 20));
        assert_eq!(history[1].error, None);
        assert!(decode_history("garbage").is_empty());
    }
}
