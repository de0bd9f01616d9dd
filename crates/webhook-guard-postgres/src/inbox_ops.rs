//! The inbox's operations (`get`, `list`, `stats`, replays, pauses, purges) and the decoding
//! of its rows.

use std::time::Duration;

use bytes::Bytes;
use sqlx::Row as _;
use webhook_guard::{
    dedup::StoreError,
    inbox::{Entry, EntryId, Filter, PauseScope, ReplayStep, Stats},
};

use crate::{
    inbox_inner::Inner,
    inbox_row::{bind_filter, headers, limit, summary},
    store::{failed, within},
};

impl Inner {
    pub(crate) async fn get(&self, id: EntryId) -> Result<Option<Entry>, StoreError> {
        let inner = self;
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
    }

    pub(crate) async fn list(
        &self,
        filter: &Filter,
        after: Option<EntryId>,
        n: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let inner = self;
        let query = bind_filter(sqlx::query(inner.statements.list.clone()), filter, after);
        let rows = within(inner.timeout, query.bind(limit(n)).fetch_all(&inner.pool)).await?;
        rows.iter()
            .map(summary)
            .collect::<Result<_, _>>()
            .map_err(|e| failed(&e))
    }

    pub(crate) async fn newest(&self) -> Result<Option<EntryId>, StoreError> {
        let inner = self;
        let row = sqlx::query(inner.statements.newest.clone()).fetch_one(&inner.pool);
        let row = within(inner.timeout, row).await?;
        let id: Option<i64> = row.try_get(0).map_err(|e| failed(&e))?;
        Ok(id.map(EntryId::new))
    }

    pub(crate) async fn stats(&self) -> Result<Stats, StoreError> {
        let inner = self;
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
    }

    pub(crate) async fn replay(&self, ids: &[EntryId]) -> Result<Vec<EntryId>, StoreError> {
        let inner = self;
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
    }

    pub(crate) async fn replay_step(
        &self,
        filter: &Filter,
        after: Option<EntryId>,
        n: usize,
    ) -> Result<ReplayStep, StoreError> {
        let inner = self;
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
    }

    pub(crate) async fn pause(&self, scope: &PauseScope) -> Result<(), StoreError> {
        let inner = self;
        let done = sqlx::query(inner.statements.pause.clone())
            .bind(&scope.provider)
            .bind(scope.endpoint.as_deref().unwrap_or(""))
            .execute(&inner.pool);
        within(inner.timeout, done).await.map(drop)
    }

    pub(crate) async fn resume(&self, scope: &PauseScope) -> Result<bool, StoreError> {
        let inner = self;
        let done = sqlx::query(inner.statements.resume.clone())
            .bind(&scope.provider)
            .bind(scope.endpoint.as_deref().unwrap_or(""))
            .execute(&inner.pool);
        let resumed = within(inner.timeout, done).await?.rows_affected() > 0;
        inner.notify().await;
        Ok(resumed)
    }

    pub(crate) async fn paused(&self) -> Result<Vec<PauseScope>, StoreError> {
        let inner = self;
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
    }

    pub(crate) async fn purge(
        &self,
        older_than: Duration,
        dead: bool,
        n: usize,
    ) -> Result<u64, StoreError> {
        let inner = self;
        let done = sqlx::query(inner.statements.purge.clone())
            .bind(i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX))
            .bind(dead)
            .bind(limit(n))
            .execute(&inner.pool);
        Ok(within(inner.timeout * 5, done).await?.rows_affected())
    }

    pub(crate) async fn forget(&self, dedup_key: &str) -> Result<bool, StoreError> {
        let inner = self;
        let done = sqlx::query(inner.statements.forget.clone())
            .bind(dedup_key)
            .execute(&inner.pool);
        Ok(within(inner.timeout, done).await?.rows_affected() > 0)
    }
}
