//! [`PgStore`]: the table of delivery ids, as a dedup store.

use std::{
    fmt,
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use sqlx::{PgPool, Row as _};
use webhook_guard::dedup::{
    Claim, ClaimToken, DedupKey, DedupStore, Record, StoreError, StoreErrorKind, StoreFuture,
};

use crate::schema::{self, InvalidName, Statements};

/// The default time limit of every store call (a connection from the pool included): 2 s. A
/// call that takes longer fails with `StoreErrorKind::Timeout`, and the receiver answers per
/// its fail mode.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the records past their time are purged by default: every 60 s.
pub const DEFAULT_PURGE_INTERVAL: Duration = Duration::from_secs(60);
/// How many records one purge statement deletes at most.
pub const PURGE_BATCH: i64 = 1000;
/// The most purge statements of one purge round: 100 batches of [`PURGE_BATCH`].
const PURGE_ROUND: usize = 100;
/// How long a transaction may sit idle (between the handler's statements) by default: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A [`DedupStore`](webhook_guard::dedup::DedupStore) and a
/// [`TransactionalStore`](webhook_guard::dedup::TransactionalStore) in a Postgres table, on
/// your own [`PgPool`](sqlx::PgPool).
///
/// As a `DedupStore` (`Receiver::builder(..).store(..)`), each call is one statement, one
/// round trip: the claim inserts the key with the claim's owner token and a lease, or takes
/// over a record past its time; renew, complete and release are compare-and-set on the owner
/// token, so a late call from a claim whose lease expired and was taken over never touches
/// the new owner's record. Times are the database's clock, shared by every replica.
///
/// As a `TransactionalStore` (`Receiver::builder(..).transactional_store(..)`), the claim is
/// written in a transaction that the handler writes in too ([`PgTx`]), committed only when
/// it answers 2xx: the delivery's effects in the database happen once (see the crate's
/// documentation).
///
/// Keys are the receiver's (`<provider>:<endpoint>:<id>`), in one table you name
/// ([`schema`](PgStoreBuilder::schema), [`table`](PgStoreBuilder::table)) and create with
/// [`migrate`](Self::migrate) or [`schema_sql`](crate::schema_sql). Records past their time
/// are purged in the background, in batches found through the `expires_at` index, never by
/// a scan of the table. Every call has a time limit ([`DEFAULT_TIMEOUT`]).
///
/// [`PgTx`]: crate::PgTx
///
/// ```no_run
/// use std::sync::Arc;
/// use webhook_guard::{Receiver, parallel::Parallel};
/// use webhook_guard_postgres::PgStore;
///
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
/// let store = PgStore::builder(pool).table("billing_webhooks").build()?;
/// store.migrate().await?;
/// let receiver = Receiver::builder(Parallel::new(std::env::var("PARALLEL_WEBHOOK_SECRET")?)?)
///     .store(Arc::new(store))
///     .build()?;
/// # let _ = receiver;
/// # Ok(()) }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct PgStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) statements: Statements,
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) timeout: Duration,
    pub(crate) idle_timeout: Duration,
}

/// Why a [`PgStore`] could not be built or its table created.
#[derive(Debug)]
#[non_exhaustive]
pub enum PgStoreError {
    /// The schema or table name is not a plain identifier.
    InvalidName(InvalidName),
    /// The timeout is zero.
    InvalidTimeout,
    /// The database refused or did not answer.
    Database(StoreError),
}

impl fmt::Display for PgStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(error) => error.fmt(f),
            Self::InvalidTimeout => f.write_str("the timeouts must be longer than zero"),
            Self::Database(error) => write!(f, "could not create the table: {error}"),
        }
    }
}

impl std::error::Error for PgStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidName(error) => Some(error),
            Self::Database(error) => Some(error),
            Self::InvalidTimeout => None,
        }
    }
}

impl From<InvalidName> for PgStoreError {
    fn from(error: InvalidName) -> Self {
        Self::InvalidName(error)
    }
}

/// Builds a [`PgStore`] on a pool.
#[derive(Debug, Clone)]
#[must_use]
pub struct PgStoreBuilder {
    pool: PgPool,
    schema: String,
    table: String,
    timeout: Duration,
    idle_timeout: Duration,
    purge_interval: Option<Duration>,
}

impl PgStore {
    /// A builder for a store on `pool` (the app's own: the store takes one connection per
    /// call, and in transactional mode one per delivery in flight).
    pub fn builder(pool: PgPool) -> PgStoreBuilder {
        PgStoreBuilder {
            pool,
            schema: schema::DEFAULT_SCHEMA.to_owned(),
            table: schema::DEFAULT_TABLE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            purge_interval: Some(DEFAULT_PURGE_INTERVAL),
        }
    }

    /// A store on `pool` in `webhook_guard.deliveries`, with the defaults.
    ///
    /// # Panics
    /// Never: the default names are valid.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        match Self::builder(pool).build() {
            Ok(store) => store,
            Err(error) => unreachable!("the defaults are valid: {error}"),
        }
    }

    /// Creates the schema, the table and its index if they do not exist ([`schema_sql`]),
    /// in a transaction under an advisory lock, so replicas starting together do not race.
    ///
    /// [`schema_sql`]: crate::schema_sql
    ///
    /// # Errors
    /// The database refused (no right to create the schema, say) or did not answer.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        let inner = &*self.inner;
        let ddl = schema::schema_sql(&inner.schema, &inner.table)?;
        // Creating a table may wait on locks: more time than one call.
        run_ddl(&inner.pool, ddl, inner.timeout * 10).await
    }

    /// Deletes the records past their time (expired leases, done records past their
    /// retention), in batches of [`PURGE_BATCH`] through the `expires_at` index; the store
    /// runs this in the background every [`purge_interval`](PgStoreBuilder::purge_interval).
    /// Answers how many were deleted.
    ///
    /// # Errors
    /// The database failed or did not answer in time.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        self.inner.purge().await
    }

    /// The table, `"schema"."table"`.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.statements.qualified
    }

    /// The pool.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }
}

impl PgStoreBuilder {
    /// The schema of the table (default [`DEFAULT_SCHEMA`](crate::DEFAULT_SCHEMA)).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The table (default [`DEFAULT_TABLE`](crate::DEFAULT_TABLE)): one per app, or one per
    /// set of endpoints sharing a store.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The time limit of each call, from taking a connection to the answer (default
    /// [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// In transactional mode, how long the delivery's transaction may sit idle between the
    /// handler's statements before Postgres ends it (`idle_in_transaction_session_timeout`,
    /// set for that transaction only; default [`DEFAULT_IDLE_TIMEOUT`]). It ends a
    /// transaction whose process vanished without closing its connection; a handler that
    /// waits longer than this between statements gets its transaction rolled back, and a 503.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How often records past their time are purged in the background (default
    /// [`DEFAULT_PURGE_INTERVAL`]); `None` for never (call [`PgStore::purge`] yourself).
    pub fn purge_interval(mut self, interval: Option<Duration>) -> Self {
        self.purge_interval = interval;
        self
    }

    /// Builds the store, and starts its background purge on the current Tokio runtime (none
    /// without one, or with `purge_interval(None)`). It ends when the last clone of the store
    /// is dropped. Does not touch the database: see [`PgStore::migrate`].
    ///
    /// # Errors
    /// An invalid schema or table name, a zero timeout.
    pub fn build(self) -> Result<PgStore, PgStoreError> {
        schema::check_name(&self.schema)?;
        schema::check_name(&self.table)?;
        if self.timeout.is_zero() || self.idle_timeout.is_zero() {
            return Err(PgStoreError::InvalidTimeout);
        }
        let inner = Arc::new(Inner {
            statements: Statements::new(&self.schema, &self.table),
            pool: self.pool,
            schema: self.schema,
            table: self.table,
            timeout: self.timeout,
            idle_timeout: self.idle_timeout,
        });
        if let Some(interval) = self.purge_interval.filter(|i| !i.is_zero()) {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(purge_every(Arc::downgrade(&inner), interval))),
                Err(_) => tracing::warn!(
                    "no Tokio runtime: records past their time are not purged in the background (call PgStore::purge)"
                ),
            }
        }
        Ok(PgStore { inner })
    }
}

/// Purges every `interval` while the store lives.
async fn purge_every(store: Weak<Inner>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(store) = store.upgrade() else {
            return;
        };
        match store.purge().await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "purged delivery records past their time"),
            Err(error) => tracing::warn!(%error, "could not purge delivery records"),
        }
    }
}

impl Inner {
    async fn purge(&self) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for _ in 0..PURGE_ROUND {
            let query = sqlx::query(self.statements.purge.clone()).bind(PURGE_BATCH);
            let batch = within(self.timeout, query.execute(&self.pool))
                .await?
                .rows_affected();
            deleted += batch;
            if batch < PURGE_BATCH.unsigned_abs() {
                break;
            }
        }
        Ok(deleted)
    }
}

/// Runs `ddl` in a transaction under the crate's migration lock, within `limit`.
pub(crate) async fn run_ddl(
    pool: &PgPool,
    ddl: String,
    limit: Duration,
) -> Result<(), PgStoreError> {
    let pool = pool.clone();
    // In a task of its own, which the time limit does not cut off: sqlx cannot roll back
    // a `BEGIN` cancelled in flight (its connection would go back to the pool inside an
    // open transaction). Past the limit the task finishes or fails on its own.
    let run = tokio::spawn(async move {
        let mut transaction = pool.begin().await?;
        // A fixed key of this crate's own: one migration at a time, on any table.
        sqlx::query("SELECT pg_advisory_xact_lock(7305924312118457001)")
            .execute(&mut *transaction)
            .await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await
    });
    match tokio::time::timeout(limit, run).await {
        Ok(Ok(migrated)) => migrated.map_err(|e| PgStoreError::Database(failed(&e))),
        Ok(Err(failed_task)) => Err(PgStoreError::Database(StoreError::new(
            StoreErrorKind::Unavailable,
            format!("postgres: the migration's task failed: {failed_task}"),
        ))),
        Err(_) => Err(PgStoreError::Database(StoreError::new(
            StoreErrorKind::Timeout,
            format!("postgres: no answer within {} ms", limit.as_millis()),
        ))),
    }
}

/// Runs a database call within `limit`: its error or time-out as a [`StoreError`].
pub(crate) async fn within<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => Err(failed(&error)),
        Err(_) => Err(StoreError::new(
            StoreErrorKind::Timeout,
            format!("postgres: no answer within {} ms", limit.as_millis()),
        )),
    }
}

/// A database error as a store error. The pool's time-out is a time-out; anything else
/// leaves the store unavailable. (sqlx's messages name the failure, not the credentials.)
pub(crate) fn failed(error: &sqlx::Error) -> StoreError {
    let kind = match error {
        sqlx::Error::PoolTimedOut => StoreErrorKind::Timeout,
        _ => StoreErrorKind::Unavailable,
    };
    StoreError::new(kind, format!("postgres: {error}"))
}

/// The owner token as Postgres reads a uuid.
fn owner(token: &ClaimToken) -> String {
    let hex = format!("{:032x}", token.as_u128());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A duration in whole milliseconds, at least 1 (a zero lease would be over at once).
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

impl DedupStore for PgStore {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(async move {
            let inner = &*self.inner;
            let query = sqlx::query(inner.statements.claim.clone())
                .bind(key.as_str())
                .bind(owner(token))
                .bind(millis(lease));
            let found: i32 = within(inner.timeout, query.fetch_one(&inner.pool))
                .await?
                .try_get(0)
                .map_err(|e| failed(&e))?;
            Ok(match found {
                0 => Claim::Claimed,
                2 => Claim::Done,
                // Another owner's claim, or a record committed since this statement began.
                _ => Claim::InFlight,
            })
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let inner = &*self.inner;
            let query = sqlx::query(inner.statements.renew.clone())
                .bind(key.as_str())
                .bind(owner(token))
                .bind(millis(lease));
            let done = within(inner.timeout, query.execute(&inner.pool)).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let inner = &*self.inner;
            let query = sqlx::query(inner.statements.complete.clone())
                .bind(key.as_str())
                .bind(owner(token))
                .bind(millis(retention));
            let done = within(inner.timeout, query.execute(&inner.pool)).await?;
            if done.rows_affected() == 0 {
                tracing::warn!(
                    key = key.as_str(),
                    "claim lost before completion (its lease expired); the record was left to its new owner"
                );
            }
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let inner = &*self.inner;
            let query = sqlx::query(inner.statements.release.clone())
                .bind(key.as_str())
                .bind(owner(token));
            within(inner.timeout, query.execute(&inner.pool)).await?;
            Ok(())
        })
    }

    fn inspect<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, Option<Record>> {
        Box::pin(self.inspect_record(key))
    }

    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        Box::pin(self.forget_record(key))
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("table", &self.inner.statements.qualified)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_uuids_and_durations_positive_milliseconds() {
        let text = owner(&ClaimToken::from_u128(
            0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        ));
        assert_eq!(text, "01234567-89ab-cdef-0011-223344556677");
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(3)), 3000);
        assert_eq!(millis(Duration::MAX), i64::MAX);
    }
}
