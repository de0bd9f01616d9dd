//! The operators' calls on the table: what it holds for a key, and forgetting it
//! (`webhook-guard dedup show|forget`, `Receiver::forget`).

use std::time::Duration;

use sqlx::Row as _;
use webhook_guard::dedup::{DedupKey, Record, StoreError};

use crate::{PgStore, store::within};

impl PgStore {
    /// What the table holds for `key`, as [`DedupStore::inspect`](webhook_guard::dedup::DedupStore::inspect).
    pub(crate) async fn inspect_record(
        &self,
        key: &DedupKey,
    ) -> Result<Option<Record>, StoreError> {
        let inner = &*self.inner;
        let query = sqlx::query(inner.statements.inspect.clone()).bind(key.as_str());
        let Some(row) = within(inner.timeout, query.fetch_optional(&inner.pool)).await? else {
            return Ok(None);
        };
        let (done, millis): (bool, i64) = (row.get(0), row.get(1));
        let expires_in = Duration::from_millis(u64::try_from(millis).unwrap_or(0));
        Ok(Some(if done {
            Record::Done { expires_in }
        } else {
            Record::InFlight { expires_in }
        }))
    }

    /// Deletes the record of `key`, as [`DedupStore::forget`](webhook_guard::dedup::DedupStore::forget).
    pub(crate) async fn forget_record(&self, key: &DedupKey) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        let query = sqlx::query(inner.statements.forget.clone()).bind(key.as_str());
        let done = within(inner.timeout, query.execute(&inner.pool)).await?;
        Ok(done.rows_affected() > 0)
    }
}
