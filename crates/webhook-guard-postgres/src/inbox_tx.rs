//! An inbox attempt's transaction: the handler's writes and the entry's done mark, fenced by
//! its lease, committed together.

use std::{fmt, sync::Arc, time::Duration};

use sqlx::PgPool;
use webhook_guard::{
    dedup::{StoreError, StoreErrorKind, StoreFuture, Transaction, TransactionHandle},
    inbox::{Lease, Settlement},
};

use crate::{
    inbox_inner::Inner,
    store::{failed, within},
    transaction::{Shared, SqlxTransaction},
};

/// An attempt's transaction: committing marks the entry done, fenced by its lease.
pub(crate) struct AttemptTx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) inbox: Arc<Inner>,
    pub(crate) lease: Lease,
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
            let mut transaction = self.shared.take_for_commit()?;
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
pub(crate) async fn begin(pool: &PgPool, limit: Duration) -> Result<SqlxTransaction, StoreError> {
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
