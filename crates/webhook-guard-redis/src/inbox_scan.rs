//! Reading a [`RedisInbox`] by id: listings filtered in the client, a batch of ids at a time.

use redis::aio::ConnectionLike;
use webhook_guard::{
    dedup::StoreError,
    inbox::{Entry, EntryId, EntryState, Filter},
};

use crate::{
    RedisInbox,
    call::within,
    inbox_codec::{SUMMARY_FIELDS, entry, summary_fields},
};

/// How many ids a listing reads per round trip.
const SCAN_BATCH: usize = 256;

impl<C> RedisInbox<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Summaries of the entries after `after` matching `filter` (and not running, with
    /// `skip_running`), scanning ids in order, until `limit` are found or the ids run out.
    pub(crate) async fn scan(
        &self,
        filter: &Filter,
        after: Option<EntryId>,
        limit: usize,
        skip_running: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut found = Vec::new();
        let mut from = after.map_or(i64::MIN, EntryId::get);
        let up_to = filter.up_to.map_or(i64::MAX, EntryId::get);
        while found.len() < limit {
            let mut ids_command = redis::cmd("ZRANGEBYSCORE");
            ids_command
                .arg(self.key("all"))
                .arg(format!("({from}"))
                .arg(up_to)
                .arg("LIMIT")
                .arg(0)
                .arg(SCAN_BATCH);
            let ids: Vec<i64> = self.query(ids_command).await?;
            let Some(&last) = ids.last() else {
                break;
            };
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("HMGET")
                    .arg(self.key(&format!("e:{id}")))
                    .arg(&SUMMARY_FIELDS[..]);
            }
            let mut connection = self.connection.clone();
            let rows: Vec<Vec<Option<Vec<u8>>>> =
                within(self.timeout, pipe.query_async(&mut connection)).await?;
            for (id, row) in ids.iter().zip(rows) {
                let Some(entry) = entry(*id, &summary_fields(row)) else {
                    continue;
                };
                let running = entry.state == EntryState::Running;
                if filter.matches(&entry) && !(skip_running && running) && found.len() < limit {
                    found.push(entry);
                }
            }
            from = last;
            if ids.len() < SCAN_BATCH {
                break;
            }
        }
        Ok(found)
    }
}
