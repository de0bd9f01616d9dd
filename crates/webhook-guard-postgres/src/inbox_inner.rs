//! The shared state of a [`PgInbox`](crate::PgInbox) and the statements its parts share.

use std::time::Duration;

use sqlx::{PgPool, postgres::PgListener};
use webhook_guard::inbox::{Lease, Settlement};

use crate::inbox_sql::InboxStatements;

/// What every clone of a `PgInbox` shares.
pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) statements: InboxStatements,
    pub(crate) timeout: Duration,
    pub(crate) notify: bool,
    pub(crate) listener: tokio::sync::Mutex<Option<PgListener>>,
}

impl Inner {
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
