//! The table of delivery ids: its name, its definition, and the statements run on it.

use std::fmt;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// The default schema: `webhook_guard`.
pub const DEFAULT_SCHEMA: &str = "webhook_guard";
/// The default table: `deliveries`.
pub const DEFAULT_TABLE: &str = "deliveries";

/// How long past its time a record stays before the purge deletes it : the
/// least time a fence written by a release refuses a late claim of its owner.
pub(crate) const PURGE_GRACE_SECS: u32 = 60;

/// A schema or table name that is not a plain lowercase SQL identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    name: String,
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid schema or table name `{}`: use 1 to 63 of a-z, 0-9 and _, not starting with a digit",
            self.name.escape_debug()
        )
    }
}

impl std::error::Error for InvalidName {}

/// Checks a schema or table name: lowercase ASCII letters, digits and `_`, not starting with
/// a digit, at most 63 bytes (Postgres's limit). Such a name needs no quoting, so it cannot
/// smuggle SQL into the statements it is formatted into; it is quoted all the same.
pub(crate) fn check_name(name: &str) -> Result<(), InvalidName> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(InvalidName {
            name: name.to_owned(),
        })
    }
}

/// The statements of one table, formatted once when the store is built.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// `"schema"."table"`.
    pub(crate) qualified: String,
    pub(crate) claim: SqlStr,
    pub(crate) renew: SqlStr,
    pub(crate) complete: SqlStr,
    pub(crate) release: SqlStr,
    pub(crate) begin_claim: SqlStr,
    pub(crate) held: SqlStr,
    pub(crate) commit: SqlStr,
    pub(crate) purge: SqlStr,
    pub(crate) inspect: SqlStr,
    pub(crate) forget: SqlStr,
}

fn sql(text: String) -> SqlStr {
    AssertSqlSafe(text).into_sql_str()
}

impl Statements {
    /// The statements on `schema.table`; both names must have passed [`check_name`].
    pub(crate) fn new(schema: &str, table: &str) -> Self {
        let t = format!("\"{schema}\".\"{table}\"");
        // One row per key: `owner` is the claim's token while in flight and NULL once done;
        // `expires_at` is the end of the lease, or of the retention once done. Times are the
        // database's clock, shared by every replica.
        //
        // Claim, in one statement: insert the key with this owner, or take over a record
        // whose time is up (an expired lease, or a done record past its retention) and is
        // another owner's, or keep a live claim already this owner's (a try whose answer was
        // lost). A record past its time that is this owner's own is a fence (below) or a lease
        // this owner let run out: refused (the `<>` is "exactly one of the two"). Otherwise report what
        // holds the key: 0 claimed, 1 in flight, 2 done (COALESCE stops at the first answer,
        // so a claim reads no more). A key inserted by a transaction that committed after this
        // statement's snapshot is invisible to the second subquery: reported in flight (the
        // retry finds it done).
        let claim = format!(
            "WITH claimed AS (
               INSERT INTO {t} AS r (key, owner, expires_at)
               VALUES ($1, $2::text::uuid, now() + $3 * interval '1 millisecond')
               ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
               WHERE (r.expires_at <= now()) <> (r.owner IS NOT DISTINCT FROM EXCLUDED.owner)
               RETURNING 0 AS found
             )
             SELECT COALESCE(
               (SELECT found FROM claimed),
               (SELECT CASE WHEN r.owner IS NULL THEN 2 ELSE 1 END FROM {t} AS r WHERE r.key = $1),
               1
             )"
        );
        let renew = format!(
            "UPDATE {t} SET expires_at = now() + $3 * interval '1 millisecond'
             WHERE key = $1 AND owner = $2::text::uuid AND expires_at > now()"
        );
        let complete = format!(
            "UPDATE {t} SET owner = NULL, expires_at = now() + $3 * interval '1 millisecond'
             WHERE key = $1 AND owner = $2::text::uuid"
        );
        // Release, in one statement: delete this owner's claim; if the key has no record at
        // all, insert a fence: the owner's token on a record already past its time. Any other
        // owner takes it over at once; a claim of this owner still on its way (sent on a
        // connection the client gave up on) finds it and is refused. The purge leaves it for
        // `PURGE_GRACE_SECS`.
        let release = format!(
            "WITH released AS (
               DELETE FROM {t} WHERE key = $1 AND owner = $2::text::uuid RETURNING 1
             )
             INSERT INTO {t} (key, owner, expires_at)
             SELECT $1, $2::text::uuid, now() WHERE NOT EXISTS (SELECT 1 FROM released)
             ON CONFLICT (key) DO NOTHING"
        );
        // The transactional claim, in the open transaction, in one plain `INSERT` (what a
        // hand-written inbox sends, plus two function calls in its `WHERE`): take the key's
        // advisory lock without waiting (held by an open transaction: in flight, answered at
        // once instead of waiting on its uncommitted row), set the session's idle timeout for
        // this transaction only (a connection lost without a FIN still ends it), then insert
        // the key as done, or take over a record past its time. It returns a row only when it
        // claimed. Nothing of it is visible until the commit, and a rollback (or a dropped
        // connection) takes it all back.
        let begin_claim = format!(
            "INSERT INTO {t} AS r (key, owner, expires_at)
             SELECT $1, NULL::uuid, now() + $3 * interval '1 millisecond'
             WHERE pg_try_advisory_xact_lock($2)
               AND set_config('idle_in_transaction_session_timeout', $4, true) IS NOT NULL
             ON CONFLICT (key) DO UPDATE SET owner = NULL, expires_at = EXCLUDED.expires_at
             WHERE r.expires_at <= now()
             RETURNING 0"
        );
        // Only when the claim returned nothing (a copy of the delivery): what holds the key.
        // 1 in flight: the lock is held by another open transaction (taking it again in this
        // transaction succeeds at once, a lock is re-entrant), or a live claim of the leased
        // mode; 2 done: a live done record. A record that vanished in between (its
        // transaction rolled back) is answered in flight: the sender retries, and finds it free.
        let held = format!(
            "SELECT CASE
                      WHEN NOT pg_try_advisory_xact_lock($2) THEN 1
                      WHEN EXISTS (SELECT 1 FROM {t} AS r
                                   WHERE r.key = $1 AND r.owner IS NULL AND r.expires_at > now()) THEN 2
                      ELSE 1
                    END"
        );
        // The commit, in one simple query (one round trip): `SELECT 1` first, as any statement
        // fails in a transaction that a failed statement of the handler aborted, where a bare
        // COMMIT would roll back without an error (and the 2xx would lose the delivery); then
        // COMMIT; then an empty transaction for sqlx's own transaction object to roll back when
        // it is dropped (sqlx still counts the connection as in its transaction, and sends
        // that ROLLBACK with the ping it makes when the connection goes back to the pool).
        let commit = "SELECT 1; COMMIT; BEGIN".to_owned();
        // A batch of records past their time by more than `PURGE_GRACE_SECS` (a fence lives that
        // long), found by the `expires_at` index (never a scan of the table), skipping rows
        // another purge or a claim holds.
        let purge = format!(
            "DELETE FROM {t} WHERE key IN (
               SELECT key FROM {t} WHERE expires_at < now() - interval '{PURGE_GRACE_SECS} seconds'
               ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
             )"
        );
        // What a key holds (a fence, or a record past its time, holds nothing): done or in
        // flight, and the milliseconds left.
        let inspect = format!(
            "SELECT owner IS NULL,
                    (EXTRACT(EPOCH FROM expires_at - now()) * 1000)::bigint
             FROM {t} WHERE key = $1 AND expires_at > now()"
        );
        let forget = format!("DELETE FROM {t} WHERE key = $1");
        Self {
            inspect: sql(inspect),
            forget: sql(forget),
            claim: sql(claim),
            renew: sql(renew),
            complete: sql(complete),
            release: sql(release),
            begin_claim: sql(begin_claim),
            held: sql(held),
            commit: sql(commit),
            purge: sql(purge),
            qualified: t,
        }
    }
}

/// The definition of the table `schema.table`: what [`PgStore::migrate`] runs, for a
/// migration tool of your own.
///
/// [`PgStore::migrate`]: crate::PgStore::migrate
///
/// ```
/// let sql = webhook_guard_postgres::schema_sql("webhook_guard", "deliveries")?;
/// assert!(sql.contains(r#"CREATE TABLE IF NOT EXISTS "webhook_guard"."deliveries""#));
/// assert!(webhook_guard_postgres::schema_sql("public", "x; DROP TABLE users").is_err());
/// # Ok::<(), webhook_guard_postgres::InvalidName>(())
/// ```
///
/// # Errors
/// A name that is not 1 to 63 of `a-z`, `0-9` and `_`, not starting with a digit.
pub fn schema_sql(schema: &str, table: &str) -> Result<String, InvalidName> {
    check_name(schema)?;
    check_name(table)?;
    Ok(format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
CREATE TABLE IF NOT EXISTS \"{schema}\".\"{table}\" (
    key        text        COLLATE \"C\" PRIMARY KEY,
    owner      uuid,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS \"{table}_expires_at\" ON \"{schema}\".\"{table}\" (expires_at);
"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_identifiers() {
        for good in ["webhook_guard", "deliveries", "_x", "t1", &"a".repeat(63)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1t",
            "Deliveries",
            "a-b",
            "a\"b",
            "a;b",
            "a b",
            "é",
            &"a".repeat(64),
        ] {
            let error = check_name(bad).expect_err(bad);
            assert!(error.to_string().contains("invalid schema or table name"));
        }
    }
}
