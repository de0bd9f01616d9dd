//! The inbox's tables and statements, formatted once per inbox.

use sha2::{Digest as _, Sha256};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::schema::{InvalidName, check_name};

/// The default inbox table: `inbox` (in [`DEFAULT_SCHEMA`](crate::DEFAULT_SCHEMA)).
pub const DEFAULT_INBOX_TABLE: &str = "inbox";

/// The longest inbox table name: its indexes and pause table add up to 15 bytes to it, and
/// Postgres names stop at 63.
const MAX_INBOX_TABLE: usize = 48;

fn sql(text: String) -> SqlStr {
    AssertSqlSafe(text).into_sql_str()
}

/// The columns an operation reads, without the headers and body.
const SUMMARY: &str = "id, state, provider, endpoint, delivery_id, dedup_key, event_type, ordering_key, \
     attempts, times_seen, (extract(epoch FROM received_at) * 1000)::bigint, \
     (extract(epoch FROM last_seen) * 1000)::bigint, (extract(epoch FROM run_at) * 1000)::bigint, \
     last_error, history::text";

/// Now, in Unix milliseconds.
const NOW_MS: &str = "(extract(epoch FROM now()) * 1000)::bigint";

/// A filter's conditions on `$1` (state), `$2` (provider), `$3` (endpoint), `$4` (event
/// type), `$5`/`$6` (received since/until, ms), `$7` (after id), `$8` (up to id).
const FILTER: &str = "($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR provider = $2) \
     AND ($3::text IS NULL OR endpoint = $3) AND ($4::text IS NULL OR event_type = $4) \
     AND ($5::bigint IS NULL OR received_at >= to_timestamp($5 / 1000.0)) \
     AND ($6::bigint IS NULL OR received_at < to_timestamp($6 / 1000.0)) \
     AND ($7::bigint IS NULL OR id > $7) AND ($8::bigint IS NULL OR id <= $8)";

/// The statements of one inbox.
#[derive(Debug, Clone)]
pub(crate) struct InboxStatements {
    /// `"schema"."table"`.
    pub(crate) qualified: String,
    /// The `LISTEN` channel: new and due entries are announced on it.
    pub(crate) channel: String,
    pub(crate) ddl: String,
    pub(crate) enqueue: SqlStr,
    pub(crate) claim: SqlStr,
    pub(crate) renew: SqlStr,
    pub(crate) settle: SqlStr,
    pub(crate) rescue: SqlStr,
    pub(crate) get: SqlStr,
    pub(crate) list: SqlStr,
    pub(crate) stats: SqlStr,
    pub(crate) newest: SqlStr,
    pub(crate) replay: SqlStr,
    pub(crate) replay_step: SqlStr,
    pub(crate) pause: SqlStr,
    pub(crate) resume: SqlStr,
    pub(crate) paused: SqlStr,
    pub(crate) purge: SqlStr,
    pub(crate) forget: SqlStr,
    pub(crate) notify: SqlStr,
}

/// The `CREATE` statements of the inbox (a queue's rows change state several times each:
/// autovacuum is asked to vacuum and analyze it after 2% of its rows changed instead of 20%,
/// so that claims keep walking the due index in order) `schema.table` (and its pause table
/// `schema.table_paused`), for a migration tool of your own; [`PgInbox::migrate`] runs them.
///
/// [`PgInbox::migrate`]: crate::PgInbox::migrate
///
/// # Errors
/// A name that is not a plain lowercase identifier, or a table name over 48 bytes.
pub fn inbox_schema_sql(schema: &str, table: &str) -> Result<String, InvalidName> {
    check_name(schema)?;
    check_name(table)?;
    if table.len() > MAX_INBOX_TABLE {
        // The same error as any other unusable name.
        check_name(&"x".repeat(64))?;
    }
    let t = format!("\"{schema}\".\"{table}\"");
    Ok(format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
CREATE TABLE IF NOT EXISTS {t} (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key     text        COLLATE \"C\" NOT NULL,
    provider      text        NOT NULL,
    endpoint      text        NOT NULL,
    delivery_id   text        NOT NULL,
    event_type    text        NOT NULL,
    ordering_key  text,
    signed_by     integer,
    header_names  text[]      NOT NULL,
    header_values bytea[]     NOT NULL,
    body          bytea       NOT NULL,
    state         text        NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts      integer     NOT NULL DEFAULT 0,
    run_at        timestamptz NOT NULL DEFAULT now(),
    lease_token   text,
    lease_until   timestamptz,
    times_seen    integer     NOT NULL DEFAULT 1,
    received_at   timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    last_error    text,
    history       jsonb       NOT NULL DEFAULT '[]'
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
CREATE UNIQUE INDEX IF NOT EXISTS \"{table}_dedup_key\" ON {t} (dedup_key);
CREATE INDEX IF NOT EXISTS \"{table}_due\" ON {t} (run_at, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS \"{table}_leases\" ON {t} (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS \"{table}_finished\" ON {t} (finished_at) WHERE state IN ('done', 'dead');
CREATE INDEX IF NOT EXISTS \"{table}_dead\" ON {t} (id) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS \"{table}_ordering\" ON {t} (ordering_key, id)
    WHERE ordering_key IS NOT NULL AND state IN ('pending', 'running');
CREATE TABLE IF NOT EXISTS \"{schema}\".\"{table}_paused\" (
    provider text NOT NULL,
    endpoint text NOT NULL DEFAULT '',
    PRIMARY KEY (provider, endpoint)
);
"
    ))
}

impl InboxStatements {
    pub(crate) fn new(schema: &str, table: &str) -> Result<Self, InvalidName> {
        let ddl = inbox_schema_sql(schema, table)?;
        let t = format!("\"{schema}\".\"{table}\"");
        let paused = format!("\"{schema}\".\"{table}_paused\"");
        let digest = Sha256::digest(format!("{schema}.{table}").as_bytes());
        let channel = format!("webhook_guard_inbox_{}", hex_prefix(&digest[..6]));
        // One statement: the entry, or one more sighting of the stored entry with its key
        // (the unique index is the dedup record); `xmax = 0` tells an insert from an update.
        // New entries are announced to the workers after the commit (`Inner::announce`).
        let enqueue = format!(
            "WITH up AS (
               INSERT INTO {t} AS e (dedup_key, provider, endpoint, delivery_id, event_type,
                 ordering_key, signed_by, header_names, header_values, body)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (dedup_key) DO UPDATE
                 SET times_seen = e.times_seen + 1, last_seen = now()
               RETURNING e.id, (e.xmax = 0) AS inserted
             )
             SELECT id, inserted FROM up"
        );
        // The due entries of the worker's routes, not paused, each the oldest unfinished one
        // of its ordering key; skipped when another worker is claiming them.
        let claim = format!(
            "WITH next AS (
               SELECT e.id FROM {t} AS e
               WHERE e.state = 'pending' AND e.run_at <= now()
                 AND (e.provider || '/' || e.endpoint) = ANY($2::text[])
                 AND NOT EXISTS (SELECT 1 FROM {paused} AS p
                   WHERE p.provider = e.provider AND (p.endpoint = '' OR p.endpoint = e.endpoint))
                 AND (e.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM {t} AS o
                   WHERE o.ordering_key = e.ordering_key AND o.state IN ('pending', 'running')
                     AND o.id < e.id))
               ORDER BY e.run_at, e.id
               LIMIT $1
               FOR UPDATE SKIP LOCKED
             )
             UPDATE {t} AS e SET state = 'running', attempts = e.attempts + 1, lease_token = $3,
               lease_until = now() + $4 * interval '1 millisecond'
             FROM next WHERE e.id = next.id
             RETURNING e.id, e.provider, e.endpoint, e.event_type, e.signed_by, e.header_names,
               e.header_values, e.body, e.attempts, (extract(epoch FROM e.received_at) * 1000)::bigint"
        );
        let renew = format!(
            "UPDATE {t} AS e SET lease_until = now() + $3 * interval '1 millisecond'
             FROM unnest($1::bigint[], $2::text[]) AS l(id, token)
             WHERE e.id = l.id AND e.lease_token = l.token AND e.state = 'running'
             RETURNING e.id"
        );
        // $3 the new state, $4 the retry's delay (ms), $5 attempts to take back (a release),
        // $6 the error, $7 the history's outcome.
        let settle = format!(
            "UPDATE {t} SET state = $3,
               run_at = CASE WHEN $3 = 'pending' THEN now() + $4 * interval '1 millisecond' ELSE run_at END,
               attempts = attempts - $5, lease_token = NULL, lease_until = NULL,
               finished_at = CASE WHEN $3 IN ('done', 'dead') THEN now() END,
               last_error = COALESCE($6, last_error),
               history = history || jsonb_build_object('attempt', attempts, 'at', {NOW_MS},
                 'outcome', $7::text, 'error', $6::text)
             WHERE id = $1 AND lease_token = $2 AND state = 'running'"
        );
        let rescue = format!(
            "WITH lost AS (
               SELECT id FROM {t} WHERE state = 'running' AND lease_until <= now()
               ORDER BY lease_until LIMIT 1000 FOR UPDATE SKIP LOCKED
             )
             UPDATE {t} AS e SET
               state = CASE WHEN e.attempts >= $1 THEN 'dead' ELSE 'pending' END,
               run_at = now(), lease_token = NULL, lease_until = NULL,
               finished_at = CASE WHEN e.attempts >= $1 THEN now() END,
               last_error = 'the lease expired: the worker stopped or stalled',
               history = e.history || jsonb_build_object('attempt', e.attempts, 'at', {NOW_MS},
                 'outcome', 'lease expired', 'error', 'the lease expired: the worker stopped or stalled')
             FROM lost WHERE e.id = lost.id"
        );
        let get =
            format!("SELECT {SUMMARY}, header_names, header_values, body FROM {t} WHERE id = $1");
        let list = format!("SELECT {SUMMARY} FROM {t} WHERE {FILTER} ORDER BY id LIMIT $9");
        let stats = format!(
            "SELECT
               count(*) FILTER (WHERE state = 'pending'),
               count(*) FILTER (WHERE state = 'running'),
               count(*) FILTER (WHERE state = 'done'),
               count(*) FILTER (WHERE state = 'dead'),
               (extract(epoch FROM now() - min(received_at) FILTER (WHERE state = 'pending')) * 1000)::bigint
             FROM {t}"
        );
        let newest = format!("SELECT max(id) FROM {t}");
        let replayed = format!(
            "state = 'pending', run_at = now(), attempts = 0, lease_token = NULL,
             lease_until = NULL, finished_at = NULL,
             history = e.history || jsonb_build_object('attempt', e.attempts, 'at', {NOW_MS},
               'outcome', 'replayed', 'error', NULL)"
        );
        let replay = format!(
            "UPDATE {t} AS e SET {replayed}
             WHERE e.id = ANY($1::bigint[]) AND e.state <> 'running' RETURNING e.id"
        );
        // One step: a batch of matching entries, each replayed whole by one statement.
        let replay_step = format!(
            "WITH batch AS (
               SELECT id FROM {t} WHERE {FILTER} AND state <> 'running'
               ORDER BY id LIMIT $9 FOR UPDATE SKIP LOCKED
             ), done AS (
               UPDATE {t} AS e SET {replayed} FROM batch WHERE e.id = batch.id RETURNING e.id
             )
             SELECT (SELECT count(*) FROM done), (SELECT max(id) FROM batch)"
        );
        let pause = format!(
            "INSERT INTO {paused} (provider, endpoint) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        );
        let resume = format!("DELETE FROM {paused} WHERE provider = $1 AND endpoint = $2");
        let paused_list = format!("SELECT provider, endpoint FROM {paused} ORDER BY 1, 2");
        let purge = format!(
            "DELETE FROM {t} WHERE id IN (
               SELECT id FROM {t}
               WHERE (state = 'done' OR ($2 AND state = 'dead'))
                 AND finished_at < now() - $1 * interval '1 millisecond'
               LIMIT $3)"
        );
        let forget = format!("DELETE FROM {t} WHERE dedup_key = $1 AND state IN ('done', 'dead')");
        let notify = format!("SELECT pg_notify('{channel}', '')::text");
        Ok(Self {
            qualified: t,
            channel,
            ddl,
            enqueue: sql(enqueue),
            claim: sql(claim),
            renew: sql(renew),
            settle: sql(settle),
            rescue: sql(rescue),
            get: sql(get),
            list: sql(list),
            stats: sql(stats),
            newest: sql(newest),
            replay: sql(replay),
            replay_step: sql(replay_step),
            pause: sql(pause),
            resume: sql(resume),
            paused: sql(paused_list),
            purge: sql(purge),
            forget: sql(forget),
            notify: sql(notify),
        })
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_channels_differ() {
        assert!(inbox_schema_sql("webhook_guard", "inbox").is_ok());
        assert!(inbox_schema_sql("webhook_guard", &"a".repeat(49)).is_err());
        assert!(inbox_schema_sql("webhook_guard", "in;box").is_err());
        let a = InboxStatements::new("s", "a").expect("valid");
        let b = InboxStatements::new("s", "b").expect("valid");
        assert_ne!(a.channel, b.channel);
        assert!(a.channel.len() < 63);
    }
}
