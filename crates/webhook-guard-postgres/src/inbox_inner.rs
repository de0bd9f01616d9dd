//! The shared state of a [`PgInbox`](crate::PgInbox) and the statements its parts share.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{PgPool, postgres::PgListener};
use webhook_guard::inbox::{Lease, Settlement};

use crate::inbox_sql::InboxStatements;

/// What every clone of a `PgInbox` shares.
pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) statements: InboxStatements,
    pub(crate) timeout: Duration,
    pub(crate) notify: bool,
    /// A notification is on its way: entries stored meanwhile share it.
    pub(crate) announcing: AtomicBool,
    pub(crate) listener: tokio::sync::Mutex<Option<PgListener>>,
}

/// How long a notification waits for more entries to announce with it.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(5);

impl Inner {
    /// Tells the workers that entries were stored: one `NOTIFY` for every entry committed
    /// within [`ANNOUNCE_EVERY`], sent from a task after it.
    pub(crate) fn announce(inner: &Arc<Self>) {
        if inner.announcing.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            tokio::time::sleep(ANNOUNCE_EVERY).await;
            inner.announcing.store(false, Ordering::Release);
            inner.notify().await;
        });
    }

    pub(crate) async fn notify(&self) {
        if let Err(error) = sqlx::query(self.statements.notify.clone())
            .execute(&self.pool)
            .await
        {
            tracing::debug!(%error, "inbox NOTIFY failed; workers find the entries at their next poll");
        }
    }

    pub(crate) async fn settle_in(
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
