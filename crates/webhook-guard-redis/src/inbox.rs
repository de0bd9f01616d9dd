//! [`RedisInbox`]: the durable inbox on Redis Streams.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use redis::{
    Script,
    aio::{ConnectionLike, ConnectionManager},
};
use webhook_guard::{
    dedup::{ClaimToken, StoreError, StoreFuture},
    inbox::{
        ClaimRequest, ClaimedEntry, Enqueued, Entry, EntryId, Filter, InboxStore, Lease, NewEntry,
        PauseScope, ReplayStep, Settlement, Stats,
    },
};

use crate::{
    DEFAULT_PREFIX, DEFAULT_TIMEOUT,
    call::{policy_allows, within},
    inbox_codec::{ClaimedRow, claimed, clean_error, encode_headers, entry, pause_member, scopes},
    inbox_lua::{CLAIM, ENQUEUE, FORGET, PURGE, RENEW, REPLAY, RESCUE, SETTLE, STATS},
    inbox_wait::Waiter,
    policy::{DEFAULT_POLICY_CHECK_INTERVAL, PolicyCheck},
};

/// The default inbox name: keys are `webhook-guard:{inbox}:…`.
pub const DEFAULT_INBOX_NAME: &str = "inbox";

/// The durable inbox on Redis Streams, for apps whose dedup already runs on Redis.
///
/// - **Storing** is one Lua script: the dedup record (`SET`), the entry's hash (raw body,
///   headers, metadata) and its message on the route's stream (`XADD`) are written together,
///   or a copy is counted on the entry it duplicates.
/// - **Workers** read their routes' streams with `XREADGROUP` (consumer group `workers`), in the
///   same script that marks the entries running under a lease. Settling acknowledges the
///   message (`XACK`, then `XDEL`) in the same script as the done mark, the retry (a sorted set
///   moved back to the stream when due) or the dead letter (a stream of its own, `:dlq`, with
///   the last error and the attempt history). The rescuer takes the messages of workers that
///   died over with `XAUTOCLAIM` and puts their entries back once their lease expired.
/// - **Time** is the Redis server's (`TIME` in the scripts): leases never depend on the
///   workers' clocks agreeing.
///
/// Every key of one inbox shares the hash tag `{<name>}`, so on a Redis Cluster one inbox lives
/// in one slot (one primary); spread the load by giving each provider or endpoint an inbox of
/// its own (another name, another slot). See the crate docs for durability (AOF) and the memory
/// an entry takes.
///
/// ```no_run
/// use webhook_guard::{Receiver, inbox::{Inbox, Verdict}, parseflow::ParseFlow};
/// use webhook_guard_redis::RedisInbox;
///
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisInbox::builder(std::env::var("REDIS_URL")?).connect().await?;
/// let inbox = Inbox::new(store);
/// let receiver = Receiver::builder(ParseFlow::new(std::env::var("PARSEFLOW_WEBHOOK_SECRET")?)?)
///     .inbox(&inbox)
///     .build()?;
/// // Mount `receiver` behind an adapter; and in the worker processes:
/// inbox
///     .worker()
///     .route(&receiver, async |delivery, attempt| {
///         // Effects outside Redis run at least once: key them by the entry.
///         println!("{} (entry {})", delivery.meta.delivery_id, attempt.entry);
///         Verdict::Done
///     })
///     .run_until(std::future::pending())
///     .await;
/// # Ok(()) }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct RedisInbox<C = ConnectionManager> {
    pub(crate) connection: C,
    /// `<prefix>:{<name>}`: the start of every key of the inbox.
    base: Arc<str>,
    pub(crate) timeout: Duration,
    /// This process's consumer in the streams' group.
    consumer: Arc<str>,
    pub(crate) policy: Arc<PolicyCheck>,
    /// Connections of their own for the blocking reads of [`InboxStore::wait`].
    waiter: Option<Arc<Waiter>>,
    /// The routes whose stream this process made sure has its consumer group.
    known_routes: Arc<Mutex<HashSet<(String, String)>>>,
}

impl<C> fmt::Debug for RedisInbox<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisInbox")
            .field("keys", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<C> RedisInbox<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// An inbox on a connection of your own (a [`ConnectionManager`] you configured, or with
    /// the `cluster` feature a `redis::cluster_async::ClusterConnection`), with the default
    /// prefix, name and timeout. Without a client for blocking reads, workers find new entries
    /// at their poll interval (see [`with_wake_ups`](Self::with_wake_ups)).
    pub fn with_connection(connection: C) -> Self {
        Self {
            connection,
            base: base(DEFAULT_PREFIX, DEFAULT_INBOX_NAME),
            timeout: DEFAULT_TIMEOUT,
            consumer: Arc::from(format!(
                "worker-{:016x}",
                ClaimToken::random().as_u128() as u64
            )),
            policy: Arc::new(PolicyCheck::new(false, DEFAULT_POLICY_CHECK_INTERVAL)),
            waiter: None,
            known_routes: Arc::default(),
        }
    }

    /// Replaces the key prefix and the inbox's name (braces are removed from both: they would
    /// break the hash tag).
    #[must_use]
    pub fn with_name(mut self, prefix: &str, name: &str) -> Self {
        self.base = base(prefix, name);
        self
    }

    /// Replaces the time limit of each call.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether a server whose `maxmemory-policy` evicts is accepted (default `false`), and how
    /// often the policy is read again, as for the dedup store.
    #[must_use]
    pub fn with_eviction_check(mut self, allow: bool, interval: Duration) -> Self {
        self.policy = Arc::new(PolicyCheck::new(allow, interval));
        self
    }

    /// Wakes workers as soon as an entry is stored, with blocking reads (`XREAD BLOCK`) on
    /// connections of their own opened from `client` (a blocking read would hold up every
    /// other call on a shared connection). The builder sets it.
    #[must_use]
    pub fn with_wake_ups(mut self, client: redis::Client) -> Self {
        self.waiter = Some(Arc::new(Waiter::new(client)));
        self
    }

    pub(crate) fn connection(&self) -> &C {
        &self.connection
    }

    /// The start of every key of this inbox: `<prefix>:{<name>}`.
    #[must_use]
    pub fn key_base(&self) -> &str {
        &self.base
    }

    pub(crate) async fn script<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[&[u8]],
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = script.key(&*self.base);
        for arg in args {
            invocation.arg(*arg);
        }
        within(self.timeout, invocation.invoke_async::<T>(&mut connection)).await
    }

    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        command: redis::Cmd,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        within(self.timeout, command.query_async::<T>(&mut connection)).await
    }

    pub(crate) fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.base)
    }
}

fn base(prefix: &str, name: &str) -> Arc<str> {
    let clean = |s: &str| s.replace(['{', '}'], "");
    Arc::from(format!("{}:{{{}}}", clean(prefix), clean(name)))
}

fn millis(duration: Duration) -> Vec<u8> {
    duration
        .as_millis()
        .min(i64::MAX as u128)
        .to_string()
        .into_bytes()
}

impl<C> InboxStore for RedisInbox<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn enqueue<'a>(&'a self, new: &'a NewEntry) -> StoreFuture<'a, Enqueued> {
        Box::pin(async move {
            policy_allows(&self.policy, &self.connection, self.timeout).await?;
            let signed_by = new.signed_by.map(|i| i.to_string()).unwrap_or_default();
            let headers = encode_headers(&new.headers);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                .to_string();
            let route = (new.provider.clone(), new.endpoint.clone());
            let known = (self.known_routes.lock())
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&route);
            let first: &[u8] = if known { b"0" } else { b"1" };
            let args: [&[u8]; 11] = [
                new.dedup_key.as_bytes(),
                new.provider.as_bytes(),
                new.endpoint.as_bytes(),
                new.delivery_id.as_bytes(),
                new.event_type.as_bytes(),
                new.ordering_key.as_deref().unwrap_or("").as_bytes(),
                signed_by.as_bytes(),
                &headers,
                &new.body,
                now.as_bytes(),
                first,
            ];
            let (stored, id): (i64, i64) = self.script(&ENQUEUE, &args).await?;
            if !known {
                (self.known_routes.lock())
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(route);
            }
            let id = EntryId::new(id);
            Ok(if stored == 1 {
                Enqueued::Stored(id)
            } else {
                Enqueued::Duplicate(id)
            })
        })
    }

    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> StoreFuture<'a, Vec<ClaimedEntry>> {
        Box::pin(async move {
            if request.limit == 0 || request.routes.is_empty() {
                return Ok(Vec::new());
            }
            policy_allows(&self.policy, &self.connection, self.timeout).await?;
            let lease = millis(request.lease);
            let limit = request.limit.to_string();
            let mut args: Vec<&[u8]> = vec![
                &lease,
                request.token.as_bytes(),
                self.consumer.as_bytes(),
                limit.as_bytes(),
            ];
            for (provider, endpoint) in &request.routes {
                args.push(provider.as_bytes());
                args.push(endpoint.as_bytes());
            }
            let rows: Vec<ClaimedRow> = self.script(&CLAIM, &args).await?;
            Ok(rows
                .into_iter()
                .map(|row| claimed(row, &request.token))
                .collect())
        })
    }

    fn renew<'a>(
        &'a self,
        leases: &'a [Lease],
        duration: Duration,
    ) -> StoreFuture<'a, Vec<EntryId>> {
        Box::pin(async move {
            if leases.is_empty() {
                return Ok(Vec::new());
            }
            let lease = millis(duration);
            let ids: Vec<String> = leases.iter().map(|l| l.id.to_string()).collect();
            let mut args: Vec<&[u8]> = vec![&lease];
            for (lease, id) in leases.iter().zip(&ids) {
                args.push(id.as_bytes());
                args.push(lease.token.as_bytes());
            }
            let renewed: Vec<i64> = self.script(&RENEW, &args).await?;
            Ok(renewed.into_iter().map(EntryId::new).collect())
        })
    }

    fn settle<'a>(&'a self, lease: &'a Lease, settlement: &'a Settlement) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let (kind, after) = match settlement {
                Settlement::Done => ("done", Duration::ZERO),
                Settlement::Retry { after, .. } => ("retry", *after),
                Settlement::Dead { .. } => ("dead", Duration::ZERO),
                Settlement::Release => ("release", Duration::ZERO),
            };
            let id = lease.id.to_string();
            let after = millis(after);
            let error = clean_error(settlement.error().unwrap_or(""));
            let args: [&[u8]; 6] = [
                id.as_bytes(),
                lease.token.as_bytes(),
                kind.as_bytes(),
                &after,
                error.as_bytes(),
                settlement.outcome().as_bytes(),
            ];
            let settled: i64 = self.script(&SETTLE, &args).await?;
            Ok(settled == 1)
        })
    }

    fn rescue(&self, max_attempts: u32) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let max = max_attempts.to_string();
            let rescued: u64 = self.script(&RESCUE, &[max.as_bytes(), b"rescuer"]).await?;
            Ok(rescued)
        })
    }

    fn wait(&self, timeout: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let Some(waiter) = &self.waiter else {
                tokio::time::sleep(timeout).await;
                return Ok(());
            };
            let mut members = redis::cmd("SMEMBERS");
            members.arg(self.key("routes"));
            let routes: Vec<String> = self.query(members).await?;
            let mut streams = vec![self.key("bell")];
            streams.extend(routes.iter().map(|route| self.key(&format!("q:{route}"))));
            waiter.wait(&streams, timeout).await
        })
    }

    fn get(&self, id: EntryId) -> StoreFuture<'_, Option<Entry>> {
        Box::pin(async move {
            let mut command = redis::cmd("HGETALL");
            command.arg(self.key(&format!("e:{id}")));
            let fields: HashMap<String, Vec<u8>> = self.query(command).await?;
            Ok(entry(id.get(), &fields))
        })
    }

    fn list<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<Entry>> {
        Box::pin(self.scan(filter, after, limit, false))
    }

    fn newest(&self) -> StoreFuture<'_, Option<EntryId>> {
        Box::pin(async move {
            let mut command = redis::cmd("ZRANGE");
            command.arg(self.key("all")).arg(-1).arg(-1);
            let ids: Vec<i64> = self.query(command).await?;
            Ok(ids.first().copied().map(EntryId::new))
        })
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(async move {
            let counts: Vec<i64> = self.script(&STATS, &[]).await?;
            let count = |i: usize| u64::try_from(counts.get(i).copied().unwrap_or(0)).unwrap_or(0);
            let mut stats = Stats::default();
            stats.pending = count(0);
            stats.running = count(1);
            stats.done = count(2);
            stats.dead = count(3);
            stats.oldest_pending = counts
                .get(4)
                .and_then(|age| u64::try_from(*age).ok())
                .map(Duration::from_millis);
            Ok(stats)
        })
    }

    fn replay<'a>(&'a self, ids: &'a [EntryId]) -> StoreFuture<'a, Vec<EntryId>> {
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids: Vec<String> = ids.iter().map(EntryId::to_string).collect();
            let args: Vec<&[u8]> = ids.iter().map(|id| id.as_bytes()).collect();
            let replayed: Vec<i64> = self.script(&REPLAY, &args).await?;
            Ok(replayed.into_iter().map(EntryId::new).collect())
        })
    }

    fn replay_step<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<EntryId>,
        limit: usize,
    ) -> StoreFuture<'a, ReplayStep> {
        Box::pin(async move {
            let matching = self.scan(filter, after, limit, true).await?;
            let last = matching.last().map(|e| e.id);
            let ids: Vec<EntryId> = matching.iter().map(|e| e.id).collect();
            let replayed = self.replay(&ids).await?;
            Ok(ReplayStep::new(replayed.len() as u64, last))
        })
    }

    fn pause<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut command = redis::cmd("SADD");
            command.arg(self.key("paused")).arg(pause_member(scope));
            self.query::<i64>(command).await?;
            Ok(())
        })
    }

    fn resume<'a>(&'a self, scope: &'a PauseScope) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            pipe.cmd("SREM")
                .arg(self.key("paused"))
                .arg(pause_member(scope));
            // Wakes the workers: the entries waiting were already in their streams.
            pipe.cmd("XADD")
                .arg(self.key("bell"))
                .arg("MAXLEN")
                .arg("~")
                .arg(16)
                .arg("*")
                .arg("resumed")
                .arg(1)
                .ignore();
            let mut connection = self.connection.clone();
            let (removed,): (i64,) =
                within(self.timeout, pipe.query_async(&mut connection)).await?;
            Ok(removed == 1)
        })
    }

    fn paused(&self) -> StoreFuture<'_, Vec<PauseScope>> {
        Box::pin(async move {
            let mut command = redis::cmd("SMEMBERS");
            command.arg(self.key("paused"));
            let members: Vec<String> = self.query(command).await?;
            Ok(scopes(&members))
        })
    }

    fn purge(&self, older_than: Duration, dead: bool, limit: usize) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let age = millis(older_than);
            let limit = limit.to_string();
            let dead: &[u8] = if dead { b"1" } else { b"0" };
            let purged: u64 = self.script(&PURGE, &[&age, dead, limit.as_bytes()]).await?;
            Ok(purged)
        })
    }

    fn forget<'a>(&'a self, dedup_key: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let forgotten: i64 = self.script(&FORGET, &[dedup_key.as_bytes()]).await?;
            Ok(forgotten == 1)
        })
    }
}
