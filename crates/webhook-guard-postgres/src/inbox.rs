//! [`PgInbox`]: the durable inbox in the app's Postgres.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use sqlx::{PgPool, Row as _, postgres::PgListener};
use webhook_guard::{
    dedup::{StoreError, StoreErrorKind, StoreFuture, Transaction, TransactionHandle},
    inbox::{
        AttemptRecord, ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, EntryState, Filter,
        InboxStore, Lease, NewEntry, PauseScope, ReplayStep, Settlement, Stats, StoredHeaders,
    },
};

use crate::{
    inbox_sql::{DEFAULT_INBOX_TABLE, InboxStatements},
    schema::DEFAULT_SCHEMA,
    store::{DEFAULT_TIMEOUT, PgStoreError, failed, millis, within},
    transaction::{Shared, SqlxTransaction},
};

/// The durable inbox in Postgres: one table (`webhook_guard.inbox` by default) holding each
/// entry with its raw body, the headers to parse and verify it again, its state, lease,
/// attempts and history; the unique index on its dedup key is the dedup record, so storing an
/// entry is one statement. Workers claim with `FOR UPDATE SKIP LOCKED`, wake on
/// `LISTEN/NOTIFY`, and the handler may take the attempt's transaction
/// ([`PgTx::from_attempt`](crate::PgTx::from_attempt)): the done mark, fenced by the lease,
/// commits with the handler's writes. Cheap to clone.
///
/// ```no_run
/// use webhook_guard::{Receiver, inbox::{Inbox, Verdict}, parseflow::ParseFlow};
/// use webhook_guard_postgres::{PgInbox, PgTx};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
/// let store = PgInbox::new(pool);
/// store.migrate().await?;
/// let inbox = Inbox::new(store);
/// let receiver = Receiver::builder(ParseFlow::new(std::env::var("PARSEFLOW_WEBHOOK_SECRET")?)?)
///     .inbox(&inbox)
///     .build()?;
/// // Mount `receiver` behind an adapter; and in the worker processes:
/// inbox
///     .worker()
///     .route(&receiver, async |delivery, attempt| {
///         let Ok(mut tx) = PgTx::from_attempt(&attempt) else {
///             return Verdict::retry("no transaction");
///         };
///         let inserted = sqlx::query("INSERT INTO documents (delivery_id) VALUES ($1)")
///             .bind(delivery.meta.delivery_id.as_str())
///             .execute(&mut *tx)
///             .await;
///         match inserted {
///             Ok(_) => Verdict::Done, // committed with the entry's done mark
///             Err(error) => Verdict::retry(error),
///         }
///     })
///     .run_until(std::future::pending())
///     .await;
/// # Ok(()) }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct PgInbox {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    statements: InboxStatements,
    timeout: Duration,
    notify: bool,
    listener: tokio::sync::Mutex<Option<PgListener>>,
}

impl fmt::Debug for PgInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgInbox")
            .field("table", &self.inner.statements.qualified)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`PgInbox`].
#[derive(Debug, Clone)]
#[must_use]
pub struct PgInboxBuilder {
    pool: PgPool,
    schema: String,
    table: String,
    timeout: Duration,
    notify: bool,
}

impl PgInbox {
    /// A builder for an inbox on `pool` (the app's own).
    pub fn builder(pool: PgPool) -> PgInboxBuilder {
        PgInboxBuilder {
            pool,
            schema: DEFAULT_SCHEMA.to_owned(),
            table: DEFAULT_INBOX_TABLE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            notify: true,
        }
    }

    /// An inbox on `pool` in `webhook_guard.inbox`, with the defaults.
    ///
    /// # Panics
    /// Never: the default names are valid.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        match Self::builder(pool).build() {
            Ok(inbox) => inbox,
            Err(error) => unreachable!("the defaults are valid: {error}"),
        }
    }

    /// Creates the schema, the tables and their indexes if missing
    /// ([`inbox_schema_sql`](crate::inbox_schema_sql)), under the crate's migration lock.
    ///
    /// # Errors
    /// The database refused or did not answer.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        crate::store::run_ddl(
            &self.inner.pool,
            self.inner.statements.ddl.clone(),
            self.inner.timeout * 10,
        )
        .await
    }

    /// The pool.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// `"schema"."table"`.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.statements.qualified
    }
}

impl PgInboxBuilder {
    /// The schema (default `webhook_guard`).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The table (default `inbox`; at most 48 bytes).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// How long one call may take (default 2 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Announce new entries with `NOTIFY` (default on): workers wake at once instead of at
    /// their next poll. Off, each commit skips Postgres's notification queue (a lock shared by
    /// every notifying commit), for ack throughput at the cost of up to a poll interval of
    /// latency.
    pub fn notify(mut self, notify: bool) -> Self {
        self.notify = notify;
        self
    }

    /// The inbox.
    ///
    /// # Errors
    /// A name that is not a plain lowercase identifier; a zero timeout.
    pub fn build(self) -> Result<PgInbox, PgStoreError> {
        if self.timeout.is_zero() {
            return Err(PgStoreError::InvalidTimeout);
        }
        let statements = InboxStatements::new(&self.schema, &self.table)?;
        Ok(PgInbox {
            inner: Arc::new(Inner {
                pool: self.pool,
                statements,
                timeout: self.timeout,
                notify: self.notify,
                listener: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

fn to_u32(n: i32) -> u32 {
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

fn summary(row: &sqlx::postgres::PgRow) -> Result<Entry, sqlx::Error> {
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

fn headers(names: Vec<String>, values: Vec<Vec<u8>>) -> StoredHeaders {
    StoredHeaders::from_pairs(names.into_iter().zip(values).collect())
}

/// Binds a filter's `$1` to `$8`.
fn bind_filter<'q>(
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

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Inner {
    async fn notify(&self) {
        if let Err(error) = sqlx::query(self.statements.notify.clone())
            .execute(&self.pool)
            .await
        {
            tracing::debug!(%error, "inbox NOTIFY failed; workers find the entries at their next poll");
        }
    }

    async fn settle_in(
        &self,
        executor: &mut sqlx::PgConnection,
        lease: &Lease,
        settlement: &Settlement,
    ) -> Result<bool, sqlx::Error> {
        let (state, delay, taken_back) = match settlement {
            Settlement::Done => ("done", 0, 0),
            // Zero stays zero here (`millis` makes a lease at least 1 ms).
            Settlement::Retry { after, .. } => (
                "pending",
                i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
                0,
            ),
            Settlement::Dead { .. } => ("dead", 0, 0),
            Settlement::Release => ("pending", 0, 1),
        };
        let done = sqlx::query(self.statements.settle.clone())
            .bind(lease.id.get())
            .bind(&lease.token)
            .bind(state)
            .bind(delay)
            .bind(taken_back)
            .bind(settlement.error())
            .bind(settlement.outcome())
            .execute(executor)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// An attempt's transaction: committing marks the entry done, fenced by its lease.
struct AttemptTx {
    shared: Arc<Shared>,
    inbox: Arc<Inner>,
    lease: Lease,
}

impl fmt::Debug for AttemptTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgInboxAttempt")
            .field("entry", &self.lease.id)
            .finish_non_exhaustive()
    }
}

impl Transaction for AttemptTx {
    fn handle(&self) -> TransactionHandle {
        TransactionHandle::new(Arc::clone(&self.shared))
    }

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            let Some(mut transaction) = self.shared.settle() else {
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "the handler kept its transaction (PgTx) past its answer: not committed",
                ));
            };
            let inbox = &*self.inbox;
            let marked = inbox.settle_in(&mut transaction, &self.lease, &Settlement::Done);
            if !within(inbox.timeout, marked).await? {
                // Dropping it rolls back the handler's writes.
                drop(transaction);
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "the entry's lease was taken over: the attempt's writes were rolled back",
                ));
            }
            within(inbox.timeout, transaction.commit()).await
        })
    }

    fn rollback(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            let Some(transaction) = self.shared.settle() else {
                return Ok(());
            };
            within(self.inbox.timeout, transaction.rollback()).await
        })
    }
}

/// Opens a transaction within `limit`, in a task the limit does not cut off (sqlx cannot
/// roll back a `BEGIN` cancelled in flight); past the limit it is dropped, rolled back.
async fn begin(pool: &PgPool, limit: Duration) -> Result<SqlxTransaction, StoreError> {
    let pool = pool.clone();
    let mut opening = tokio::spawn(async move { pool.begin().await });
    match tokio::time::timeout(limit, &mut opening).await {
        Ok(Ok(opened)) => opened.map_err(|e| failed(&e)),
        Ok(Err(task)) => Err(StoreError::new(
            StoreErrorKind::Unavailable,
            format!("postgres: the transaction's task failed: {task}"),
        )),
        Err(_) => Err(StoreError::new(
            StoreErrorKind::Timeout,
            format!("postgres: no answer within {} ms", limit.as_millis()),
        )),
    }
}

impl InboxStore for PgInbox {
    fn enqueue<'a>(&'a self, entry: &'a NewEntry) -> StoreFuture<'a, Enqueued> {
        Box::pin(async move {
            let inner = &*self.inner;
            let (names, values): (Vec<&str>, Vec<&[u8]>) = entry
                .headers
                .pairs()
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_slice()))
                .unzip();
            let sql = if inner.notify {
                inner.statements.enqueue.clone()
            } else {
                inner.statements.enqueue_quiet.clone()
            };
            let row = sqlx::query(sql)
                .bind(&entry.dedup_key)
                .bind(&entry.provider)
                .bind(&entry.endpoint)
                .bind(&entry.delivery_id)
                .bind(&entry.event_type)
                .bind(entry.ordering_key.as_deref())
                .bind(entry.signed_by.map(i32::from))
                .bind(names)
                .bind(values)
                .bind(&entry.body[..])
                .fetch_one(&inner.pool);
            let row = within(inner.timeout, row).await?;
            let id = EntryId::new(row.try_get(0).map_err(|e| failed(&e))?);
            let inserted: bool = row.try_get(1).map_err(|e| failed(&e))?;
            Ok(if inserted {
                Enqueued::Stored(id)
            } else {
                Enqueued::Duplicate(id)
            })
        })
    }

    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> StoreFuture<'a, Vec<ClaimedEntry>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let routes: Vec<String> = (request.routes.iter())
                .map(|(provider, endpoint)| format!("{provider}/{endpoint}"))
                .collect();
            let rows = sqlx::query(inner.statements.claim.clone())
                .bind(limit(request.limit))
                .bind(routes)
                .bind(&request.token)
                .bind(millis(request.lease))
                .fetch_all(&inner.pool);
            let rows = within(inner.timeout, rows).await?;
            let decode = |row: &sqlx::postgres::PgRow| -> Result<ClaimedEntry, sqlx::Error> {
                let signed_by: Option<i32> = row.try_get(4)?;
                let body: Vec<u8> = row.try_get(7)?;
                let mut claimed = ClaimedEntry::new(
                    Lease {
                        id: EntryId::new(row.try_get(0)?),
                        token: request.token.clone(),
                    },
                    row.try_get(1)?,
                    row.try_get(2)?,
                );
                claimed.event_type = row.try_get(3)?;
                claimed.signed_by = signed_by.and_then(|i| u16::try_from(i).ok());
                claimed.headers = headers(row.try_get(5)?, row.try_get(6)?);
                claimed.body = Bytes::from(body);
                claimed.attempt = to_u32(row.try_get(8)?);
                claimed.received_at_ms = row.try_get(9)?;
                Ok(claimed)
            };
            rows.iter()
                .map(decode)
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))
        })
    }

    fn begin<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Option<Box<dyn Transaction>>> {
        Box::pin(async move {
            let transaction = begin(&self.inner.pool, self.inner.timeout).await?;
            let open = AttemptTx {
                shared: Shared::new(transaction),
                inbox: Arc::clone(&self.inner),
                lease: lease.clone(),
            };
            Ok(Some(Box::new(open) as Box<dyn Transaction>))
        })
    }

    fn renew<'a>(
        &'a self,
        leases: &'a [Lease],
        duration: Duration,
    ) -> StoreFuture<'a, Vec<EntryId>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let ids: Vec<i64> = leases.iter().map(|l| l.id.get()).collect();
            let tokens: Vec<&str> = leases.iter().map(|l| l.token.as_str()).collect();
            let rows = sqlx::query(inner.statements.renew.clone())
                .bind(ids)
                .bind(tokens)
                .bind(millis(duration))
                .fetch_all(&inner.pool);
            let rows = within(inner.timeout, rows).await?;
            rows.iter()
                .map(|row| row.try_get(0).map(EntryId::new))
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))
        })
    }

    fn settle<'a>(&'a self, lease: &'a Lease, settlement: &'a Settlement) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let inner = &*self.inner;
            let settled = async {
                let mut connection = inner.pool.acquire().await?;
                inner.settle_in(&mut connection, lease, settlement).await
            };
            let settled = within(inner.timeout, settled).await?;
            if settled && matches!(settlement, Settlement::Release) {
                inner.notify().await;
            }
            Ok(settled)
        })
    }

    fn rescue(&self, max_attempts: u32) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let inner = &*self.inner;
            let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
            let done = sqlx::query(inner.statements.rescue.clone())
                .bind(max)
                .execute(&inner.pool);
            Ok(within(inner.timeout, done).await?.rows_affected())
        })
    }

    fn wait(&self, timeout: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let inner = &*self.inner;
            let waited = tokio::time::timeout(timeout, async {
                let mut listener = inner.listener.lock().await;
                if listener.is_none() {
                    match PgListener::connect_with(&inner.pool).await {
                        Ok(mut connected) => {
                            match connected.listen(&inner.statements.channel).await {
                                Ok(()) => *listener = Some(connected),
                                Err(error) => {
                                    tracing::debug!(%error, "inbox LISTEN failed; polling")
                                }
                            }
                        }
                        Err(error) => {
                            tracing::debug!(%error, "inbox listener could not connect; polling")
                        }
                    }
                }
                match listener.as_mut() {
                    Some(connected) => {
                        if connected.recv().await.is_err() {
                            // Reconnected at the next wait.
                            *listener = None;
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            });
            let _ = waited.await;
            Ok(())
        })
    }

    fn get(&self, id: EntryId) -> StoreFuture<'_, Option<Entry>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let row = sqlx::query(inner.statements.get.clone())
                .bind(id.get())
                .fetch_optional(&inner.pool);
            let Some(row) = within(inner.timeout, row).await? else {
                return Ok(None);
            };
            let decode = || -> Result<Entry, sqlx::Error> {
                let mut entry = summary(&row)?;
                entry.headers = headers(row.try_get(15)?, row.try_get(16)?);
                entry.body = Bytes::from(row.try_get::<Vec<u8>, _>(17)?);
                Ok(entry)
            };
            decode().map(Some).map_err(|e| failed(&e))
        })
    }

    fn list<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        n: usize,
    ) -> StoreFuture<'a, Vec<Entry>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let query = bind_filter(sqlx::query(inner.statements.list.clone()), filter, after);
            let rows = within(inner.timeout, query.bind(limit(n)).fetch_all(&inner.pool)).await?;
            rows.iter()
                .map(summary)
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))
        })
    }

    fn newest(&self) -> StoreFuture<'_, Option<EntryId>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let row = sqlx::query(inner.statements.newest.clone()).fetch_one(&inner.pool);
            let row = within(inner.timeout, row).await?;
            let id: Option<i64> = row.try_get(0).map_err(|e| failed(&e))?;
            Ok(id.map(EntryId::new))
        })
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(async move {
            let inner = &*self.inner;
            let row = sqlx::query(inner.statements.stats.clone()).fetch_one(&inner.pool);
            // Counting every done entry of a large table takes longer than one call.
            let row = within(inner.timeout * 10, row).await?;
            let decode = || -> Result<Stats, sqlx::Error> {
                let count = |i: usize| -> Result<u64, sqlx::Error> {
                    Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
                };
                let oldest: Option<i64> = row.try_get(4)?;
                let mut stats = Stats::default();
                stats.pending = count(0)?;
                stats.running = count(1)?;
                stats.done = count(2)?;
                stats.dead = count(3)?;
                stats.oldest_pending =
                    oldest.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
                Ok(stats)
            };
            decode().map_err(|e| failed(&e))
        })
    }

    fn replay<'a>(&'a self, ids: &'a [EntryId]) -> StoreFuture<'a, Vec<EntryId>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let raw: Vec<i64> = ids.iter().map(|id| id.get()).collect();
            let rows = sqlx::query(inner.statements.replay.clone())
                .bind(raw)
                .fetch_all(&inner.pool);
            let rows = within(inner.timeout, rows).await?;
            inner.notify().await;
            rows.iter()
                .map(|row| row.try_get(0).map(EntryId::new))
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))
        })
    }

    fn replay_step<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        n: usize,
    ) -> StoreFuture<'a, ReplayStep> {
        Box::pin(async move {
            let inner = &*self.inner;
            let query = bind_filter(
                sqlx::query(inner.statements.replay_step.clone()),
                filter,
                after,
            );
            let row = within(inner.timeout, query.bind(limit(n)).fetch_one(&inner.pool)).await?;
            inner.notify().await;
            let replayed: i64 = row.try_get(0).map_err(|e| failed(&e))?;
            let last: Option<i64> = row.try_get(1).map_err(|e| failed(&e))?;
            Ok(ReplayStep::new(
                u64::try_from(replayed).unwrap_or(0),
                last.map(EntryId::new),
            ))
        })
    }

    fn pause<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let inner = &*self.inner;
            let done = sqlx::query(inner.statements.pause.clone())
                .bind(&scope.provider)
                .bind(scope.endpoint.as_deref().unwrap_or(""))
                .execute(&inner.pool);
            within(inner.timeout, done).await.map(drop)
        })
    }

    fn resume<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let inner = &*self.inner;
            let done = sqlx::query(inner.statements.resume.clone())
                .bind(&scope.provider)
                .bind(scope.endpoint.as_deref().unwrap_or(""))
                .execute(&inner.pool);
            let resumed = within(inner.timeout, done).await?.rows_affected() > 0;
            inner.notify().await;
            Ok(resumed)
        })
    }

    fn paused(&self) -> StoreFuture<'_, Vec<PauseScope>> {
        Box::pin(async move {
            let inner = &*self.inner;
            let rows = sqlx::query(inner.statements.paused.clone()).fetch_all(&inner.pool);
            let rows = within(inner.timeout, rows).await?;
            rows.iter()
                .map(|row| {
                    let endpoint: String = row.try_get(1)?;
                    Ok(PauseScope {
                        provider: row.try_get(0)?,
                        endpoint: (!endpoint.is_empty()).then_some(endpoint),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(|e| failed(&e))
        })
    }

    fn purge(&self, older_than: Duration, dead: bool, n: usize) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let inner = &*self.inner;
            let done = sqlx::query(inner.statements.purge.clone())
                .bind(i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX))
                .bind(dead)
                .bind(limit(n))
                .execute(&inner.pool);
            Ok(within(inner.timeout * 5, done).await?.rows_affected())
        })
    }

    fn forget<'a>(&'a self, dedup_key: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let inner = &*self.inner;
            let done = sqlx::query(inner.statements.forget.clone())
                .bind(dedup_key)
                .execute(&inner.pool);
            Ok(within(inner.timeout, done).await?.rows_affected() > 0)
        })
    }
}
