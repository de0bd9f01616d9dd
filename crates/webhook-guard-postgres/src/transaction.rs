//! Transactional mode: [`PgStore`] as a [`TransactionalStore`], and [`PgTx`], the handler's
//! side of the delivery's transaction.

use std::{
    fmt,
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use sha2::{Digest as _, Sha256};
use sqlx::{PgConnection, Postgres, Row as _};
use webhook_guard::dedup::{
    Begin, DedupKey, StoreError, StoreErrorKind, StoreFuture, Transaction, TransactionHandle,
    TransactionalStore,
};

use crate::store::{Inner, PgStore, failed, millis, within};

/// A sqlx transaction on a pooled connection.
pub(crate) type SqlxTransaction = sqlx::Transaction<'static, Postgres>;

/// The advisory-lock key of `key` in `table`: the first 64 bits of a SHA-256, so a sender
/// cannot pick ids whose locks collide with another delivery's (Postgres's own text hash is
/// not made for that), and two tables never share a lock.
fn lock_key(table: &str, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(table.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    let mut first = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Where the delivery's transaction is while the handler runs: lent to its [`PgTx`], back
/// here when the handler is done with it, taken from here to commit or roll back.
pub(crate) struct Shared {
    slot: Mutex<Slot>,
}

struct Slot {
    transaction: Option<SqlxTransaction>,
    /// Set when the guard committed or rolled back: a `PgTx` dropped later does not put its
    /// transaction back (dropping it rolls it back).
    settled: bool,
}

impl Shared {
    /// Holds `transaction` until a `PgTx` borrows it or the owner settles it.
    pub(crate) fn new(transaction: SqlxTransaction) -> Arc<Self> {
        Arc::new(Self {
            slot: Mutex::new(Slot {
                transaction: Some(transaction),
                settled: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic while the slot is locked leaves a consistent slot: nothing is done under
        // the lock but moving the transaction.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the transaction to commit it, or the error of a handler that kept it.
    pub(crate) fn take_for_commit(&self) -> Result<SqlxTransaction, StoreError> {
        self.settle().ok_or_else(|| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                "the handler kept its transaction (PgTx) past its answer: not committed",
            )
        })
    }

    /// Takes the transaction to settle it; nobody puts it back after this.
    pub(crate) fn settle(&self) -> Option<SqlxTransaction> {
        let mut slot = self.lock();
        slot.settled = true;
        slot.transaction.take()
    }
}

/// The open transaction of one delivery, as the receiver holds it.
struct Open {
    shared: Arc<Shared>,
    store: Arc<Inner>,
    key: String,
}

impl fmt::Debug for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTransaction")
            .field("table", &self.store.statements.qualified)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Transaction for Open {
    fn handle(&self) -> TransactionHandle {
        TransactionHandle::new(Arc::clone(&self.shared))
    }

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            let mut transaction = self.shared.take_for_commit()?;
            let store = &*self.store;
            // Check, commit, and an empty transaction for sqlx to roll back: see the
            // statement. On an error or a time-out the transaction is dropped, which rolls
            // back whatever had not committed.
            let commit = sqlx::raw_sql(store.statements.commit.clone()).execute(&mut *transaction);
            within(store.timeout, commit).await?;
            drop(transaction);
            Ok(())
        })
    }

    fn rollback(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            // Not there: the handler still holds it, and its `PgTx` drops it (a rollback).
            let Some(transaction) = self.shared.settle() else {
                return Ok(());
            };
            within(self.store.timeout, transaction.rollback()).await
        })
    }
}

impl TransactionalStore for PgStore {
    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        Box::pin(self.forget_record(key))
    }

    fn begin<'a>(&'a self, key: &'a DedupKey, retention: Duration) -> StoreFuture<'a, Begin> {
        Box::pin(async move {
            let store = &*self.inner;
            let lock = lock_key(&store.statements.qualified, key.as_str());
            let idle = millis(store.idle_timeout).to_string();
            // The transaction is opened and the key claimed in a task of its own, which the
            // time limit does not cut off: sqlx cannot roll back a `BEGIN` cancelled in
            // flight (its connection would go back to the pool inside an open transaction).
            // Past the limit the task finishes on its own and its transaction is dropped,
            // which rolls it back (sqlx sends the ROLLBACK when the connection goes back to
            // the pool): nothing stays held.
            let (pool, claim, held, key_text) = (
                store.pool.clone(),
                store.statements.begin_claim.clone(),
                store.statements.held.clone(),
                key.as_str().to_owned(),
            );
            let mut opening = tokio::spawn(async move {
                let mut transaction = pool.begin().await?;
                let claimed = sqlx::query(claim)
                    .bind(&key_text)
                    .bind(lock)
                    .bind(millis(retention))
                    .bind(idle)
                    .fetch_optional(&mut *transaction)
                    .await?;
                // The common case ends here: claimed in one statement after the `BEGIN`.
                if claimed.is_some() {
                    return Ok::<_, sqlx::Error>((transaction, 0));
                }
                let row = sqlx::query(held)
                    .bind(&key_text)
                    .bind(lock)
                    .fetch_one(&mut *transaction)
                    .await?;
                Ok((transaction, row.try_get::<i32, _>(0)?))
            });
            let opened = match tokio::time::timeout(store.timeout, &mut opening).await {
                Ok(Ok(opened)) => opened,
                Ok(Err(panicked)) => {
                    return Err(StoreError::new(
                        StoreErrorKind::Unavailable,
                        format!("postgres: the claim's task failed: {panicked}"),
                    ));
                }
                Err(_) => {
                    // Left to finish: its transaction, if any, is dropped (rolled back).
                    drop(opening);
                    return Err(StoreError::new(
                        StoreErrorKind::Timeout,
                        format!(
                            "postgres: no answer within {} ms",
                            store.timeout.as_millis()
                        ),
                    ));
                }
            };
            let (transaction, found) = opened.map_err(|e| failed(&e))?;
            let claimed = found == 0;
            if claimed {
                let shared = Shared::new(transaction);
                return Ok(Begin::Claimed(Box::new(Open {
                    shared,
                    store: Arc::clone(&self.inner),
                    key: key.as_str().to_owned(),
                })));
            }
            // Nothing was written; ending the transaction now frees its connection (a failure
            // here is not the delivery's: the dropped transaction is rolled back anyway).
            if let Err(error) = within(store.timeout, transaction.rollback()).await {
                tracing::debug!(%error, "rollback of a transaction that claimed nothing failed");
            }
            Ok(if found == 2 {
                Begin::Done
            } else {
                // Another open transaction holds the key's lock, or a claim of the leased mode
                // is in flight on the same table.
                Begin::InFlight
            })
        })
    }
}

/// The delivery's transaction, for the handler: a [`PgConnection`] (through `Deref`) on
/// which its queries join the claim. Take it as an extractor (features `axum`, `actix`) in
/// a handler behind a receiver with
/// [`transactional_store`](webhook_guard::receiver::ReceiverBuilder::transactional_store).
///
/// When the handler answers 2xx, the guard commits the transaction: the delivery id and
/// every write made through this `PgTx`, together. Any other answer, a panic or a dropped
/// request rolls it all back, and the provider's retry is processed. Do not commit or roll
/// back through it yourself (`COMMIT` as a query, say): the guard owns its end. Savepoints
/// (`(&mut *tx).begin()`) work as usual.
///
/// The transaction goes back to the guard when the `PgTx` is dropped, which is when the
/// handler returns: a `PgTx` moved into a task that outlives the handler cannot be committed,
/// and the delivery is answered 503 (and retried).
///
/// ```no_run
/// use axum::http::StatusCode;
/// use webhook_guard::parseflow::Event;
/// use webhook_guard_postgres::PgTx;
/// use webhook_guard_tower::Webhook;
///
/// # #[allow(dead_code)]
/// async fn handle(Webhook(delivery): Webhook<Event>, mut tx: PgTx) -> StatusCode {
///     let inserted = sqlx::query("INSERT INTO documents (delivery_id, body) VALUES ($1, $2)")
///         .bind(delivery.meta.delivery_id.as_str())
///         .bind(&delivery.body[..])
///         .execute(&mut *tx)
///         .await;
///     match inserted {
///         Ok(_) => StatusCode::OK, // committed with the delivery's claim
///         Err(_) => StatusCode::INTERNAL_SERVER_ERROR, // rolled back; the provider retries
///     }
/// }
/// # fn main() {}
/// ```
pub struct PgTx {
    transaction: Option<SqlxTransaction>,
    shared: Arc<Shared>,
}

/// Why a handler got no [`PgTx`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgTxError {
    /// The request has no delivery transaction: the route is not behind a guard whose
    /// receiver has a transactional `PgStore`.
    NoTransaction,
    /// The transaction was taken already (two `PgTx` in one handler), or settled.
    Taken,
}

impl PgTxError {
    /// The answer's text.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::NoTransaction => {
                "no delivery transaction: put the route behind a webhook guard whose receiver has a transactional PgStore"
            }
            Self::Taken => "the delivery transaction was taken already (one PgTx per handler)",
        }
    }
}

impl fmt::Display for PgTxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for PgTxError {}

impl PgTx {
    /// The transaction behind a request's
    /// [`TransactionHandle`](webhook_guard::dedup::TransactionHandle) (what the extractors do).
    ///
    /// # Errors
    /// [`PgTxError::NoTransaction`] when the handle is not a `PgStore`'s;
    /// [`PgTxError::Taken`] when its transaction is lent out or settled.
    pub fn from_handle(handle: &TransactionHandle) -> Result<Self, PgTxError> {
        let shared = handle
            .downcast::<Shared>()
            .ok_or(PgTxError::NoTransaction)?;
        let transaction = {
            let mut slot = shared.lock();
            if slot.settled {
                return Err(PgTxError::Taken);
            }
            slot.transaction.take().ok_or(PgTxError::Taken)?
        };
        Ok(Self {
            transaction: Some(transaction),
            shared,
        })
    }

    /// The transaction of an inbox worker's attempt
    /// ([`Attempt::transaction`](webhook_guard::inbox::Attempt::transaction)), with a
    /// [`PgInbox`](crate::PgInbox): the handler's writes commit with the entry's done mark.
    ///
    /// # Errors
    /// [`PgTxError::NoTransaction`] when the inbox is not a `PgInbox`; [`PgTxError::Taken`]
    /// for a second `PgTx` in one attempt.
    pub fn from_attempt(attempt: &webhook_guard::inbox::Attempt) -> Result<Self, PgTxError> {
        Self::from_handle(attempt.transaction().ok_or(PgTxError::NoTransaction)?)
    }

    fn transaction(&self) -> &SqlxTransaction {
        match &self.transaction {
            Some(transaction) => transaction,
            // Only `drop` takes it out.
            None => unreachable!("a PgTx holds its transaction until dropped"),
        }
    }
}

impl Deref for PgTx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.transaction()
    }
}

impl DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.transaction {
            Some(transaction) => transaction,
            None => unreachable!("a PgTx holds its transaction until dropped"),
        }
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        let Some(transaction) = self.transaction.take() else {
            return;
        };
        let mut slot = self.shared.lock();
        if !slot.settled {
            slot.transaction = Some(transaction);
        }
        // Settled already (the guard answered without it): dropping it rolls it back.
    }
}

impl fmt::Debug for PgTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTx").finish_non_exhaustive()
    }
}

#[cfg(feature = "axum")]
mod axum_extractor {
    use axum_core::{
        extract::FromRequestParts,
        response::{IntoResponse, Response},
    };
    use http::{StatusCode, request::Parts};
    use webhook_guard::dedup::TransactionHandle;

    use super::{PgTx, PgTxError};

    impl<S: Send + Sync> FromRequestParts<S> for PgTx {
        type Rejection = PgTxError;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            let handle = parts
                .extensions
                .get::<TransactionHandle>()
                .ok_or(PgTxError::NoTransaction)?;
            Self::from_handle(handle)
        }
    }

    impl IntoResponse for PgTxError {
        fn into_response(self) -> Response {
            tracing::error!(error = %self, "handler without its delivery transaction");
            (StatusCode::INTERNAL_SERVER_ERROR, self.message()).into_response()
        }
    }
}

#[cfg(feature = "actix")]
mod actix_extractor {
    use std::future::{Ready, ready};

    use actix_web::{FromRequest, HttpMessage as _, HttpRequest, ResponseError, dev::Payload};
    use webhook_guard::dedup::TransactionHandle;

    use super::{PgTx, PgTxError};

    impl FromRequest for PgTx {
        type Error = PgTxError;
        type Future = Ready<Result<Self, PgTxError>>;

        fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
            let extensions = request.extensions();
            let handle = extensions.get::<TransactionHandle>();
            ready(
                handle
                    .ok_or(PgTxError::NoTransaction)
                    .and_then(Self::from_handle),
            )
        }
    }

    impl ResponseError for PgTxError {
        fn status_code(&self) -> actix_web::http::StatusCode {
            tracing::error!(error = %self, "handler without its delivery transaction");
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_by_table_and_key() {
        let a = lock_key("\"s\".\"t\"", "parallel:default:1");
        assert_eq!(a, lock_key("\"s\".\"t\"", "parallel:default:1"));
        assert_ne!(a, lock_key("\"s\".\"u\"", "parallel:default:1"));
        assert_ne!(a, lock_key("\"s\".\"t\"", "parallel:default:2"));
    }

    #[test]
    fn a_foreign_handle_is_no_transaction() {
        let handle = TransactionHandle::new(Arc::new(5_u8));
        assert_eq!(
            PgTx::from_handle(&handle).map(drop),
            Err(PgTxError::NoTransaction)
        );
    }
}
