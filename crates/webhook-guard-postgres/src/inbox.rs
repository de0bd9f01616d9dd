//! [`PgInbox`]: the durable inbox in the app's Postgres.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use sqlx::{PgPool, Row as _, postgres::PgListener};
use webhook_guard::{
    dedup::{StoreFuture, Transaction},
    inbox::{
        ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, Filter, InboxStore, Lease, NewEntry,
        PauseScope, ReplayStep, Settlement, Stats,
    },
};

use crate::{
    inbox_inner::Inner,
    inbox_row::{headers, limit, to_u32},
    inbox_sql::{DEFAULT_INBOX_TABLE, InboxStatements},
    inbox_tx::{AttemptTx, begin},
    schema::DEFAULT_SCHEMA,
    store::{DEFAULT_TIMEOUT, PgStoreError, failed, millis, within},
    transaction::Shared,
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
/// # #[allow(dead_code)]
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

    /// Announce new entries with `NOTIFY` (default on): workers wake within milliseconds
    /// instead of at their next poll. The notification is sent after the entry's commit, on
    /// its own, at most one per 5 ms for all the entries stored meanwhile (a `NOTIFY` inside
    /// each entry's statement would take Postgres's notification lock at every commit and
    /// halve the ack throughput: measured in `benches/inbox.rs`). Off, workers find new
    /// entries at their next poll.
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
                announcing: std::sync::atomic::AtomicBool::new(false),
            }),
        })
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
            let sql = inner.statements.enqueue.clone();
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
                if inner.notify {
                    Inner::announce(&self.inner);
                }
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
        Box::pin(self.inner.get(id))
    }

    fn list<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        n: usize,
    ) -> StoreFuture<'a, Vec<Entry>> {
        Box::pin(self.inner.list(filter, after, n))
    }

    fn newest(&self) -> StoreFuture<'_, Option<EntryId>> {
        Box::pin(self.inner.newest())
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(self.inner.stats())
    }

    fn replay<'a>(&'a self, ids: &'a [EntryId]) -> StoreFuture<'a, Vec<EntryId>> {
        Box::pin(self.inner.replay(ids))
    }

    fn replay_step<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        n: usize,
    ) -> StoreFuture<'a, ReplayStep> {
        Box::pin(self.inner.replay_step(filter, after, n))
    }

    fn pause<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, ()> {
        Box::pin(self.inner.pause(scope))
    }

    fn resume<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, bool> {
        Box::pin(self.inner.resume(scope))
    }

    fn paused(&self) -> StoreFuture<'_, Vec<PauseScope>> {
        Box::pin(self.inner.paused())
    }

    fn purge(&self, older_than: Duration, dead: bool, n: usize) -> StoreFuture<'_, u64> {
        Box::pin(self.inner.purge(older_than, dead, n))
    }

    fn forget<'a>(&'a self, dedup_key: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(self.inner.forget(dedup_key))
    }
}
