//! [`RedisStore`].

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

pub(crate) use crate::call::{timed_out, unavailable};
use crate::{
    call::{policy_allows, within},
    policy::{DEFAULT_POLICY_CHECK_INTERVAL, PolicyCheck},
    scripts::{CLAIM, COMPLETE, DONE, FENCE_MILLIS, FENCE_PREFIX, RELEASE, RENEW},
};
use redis::{
    Script,
    aio::{ConnectionLike, ConnectionManager},
};
use webhook_guard::dedup::{
    Claim, ClaimToken, DedupKey, DedupStore, Record, StoreError, StoreFuture,
};

/// The default key prefix: keys are `webhook-guard:{<provider>:<endpoint>:<delivery id>}`.
pub const DEFAULT_PREFIX: &str = "webhook-guard";

/// The default time limit of every store call: 1 s. A call that takes longer fails with
/// [`StoreErrorKind::Timeout`](https://docs.rs/webhook-guard/latest/webhook_guard/dedup/enum.StoreErrorKind.html#variant.Timeout), and the receiver answers per its fail mode.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// A [`DedupStore`](https://docs.rs/webhook-guard/latest/webhook_guard/dedup/trait.DedupStore.html) in Redis, shared by every replica of an app.
///
/// Each claim is one atomic round trip: `SET key owner NX GET PX lease` sets the owner with
/// a lease unless the key exists and answers what it found (in flight or done); servers older
/// than Redis 7.0 refuse that form, and get a Lua script doing the same. Complete and release are compare-and-set on the
/// owner token, so a late call from a claim whose lease expired and was taken over leaves the
/// new owner's record alone. Completed records expire by themselves after the retention (a
/// Redis TTL). Every call has a time limit ([`DEFAULT_TIMEOUT`]).
///
/// Keys are `<prefix>:{<provider>:<endpoint>:<id>}` (`<endpoint>/unsigned` for unsigned deliveries; the id is the delivery id, or the body's SHA-256 for FullEnrich, ParseFlow and Sixtyfour): each call touches one key, and
/// the braces are a hash tag, so the store works on a Redis Cluster (see
/// [`with_connection`](RedisStore::with_connection)).
///
/// ```no_run
/// use std::sync::Arc;
/// use webhook_guard::{Receiver, parallel::Parallel};
/// use webhook_guard_redis::RedisStore;
///
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379/")
///     .prefix("billing-webhooks")
///     .connect()
///     .await?;
/// let receiver = Receiver::builder(Parallel::new(std::env::var("PARALLEL_WEBHOOK_SECRET")?)?)
///     .store(Arc::new(store))
///     .build()?;
/// # let _ = receiver;
/// # Ok(()) }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct RedisStore<C = ConnectionManager> {
    pub(crate) connection: C,
    prefix: Arc<str>,
    timeout: Duration,
    /// Set once the server refused `SET ... NX GET` (before Redis 7.0): claims use a script.
    legacy_claim: Arc<AtomicBool>,
    /// The server's `maxmemory-policy`, read at an interval: an evicting one is refused.
    pub(crate) policy: Arc<PolicyCheck>,
}

impl<C> RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A store on a connection of your own: a [`ConnectionManager`] you configured, or with
    /// the `cluster` feature a `redis::cluster_async::ClusterConnection` for Redis Cluster.
    /// Default prefix and timeout.
    pub fn with_connection(connection: C) -> Self {
        Self {
            connection,
            prefix: Arc::from(DEFAULT_PREFIX),
            timeout: DEFAULT_TIMEOUT,
            legacy_claim: Arc::new(AtomicBool::new(false)),
            policy: Arc::new(PolicyCheck::new(false, DEFAULT_POLICY_CHECK_INTERVAL)),
        }
    }

    /// Whether a server whose `maxmemory-policy` evicts is accepted (`allow`; default
    /// `false`, see [`RedisStoreBuilder::allow_eviction`](crate::RedisStoreBuilder::allow_eviction)), and how often the policy is read
    /// again (default [`DEFAULT_POLICY_CHECK_INTERVAL`], 60 s: a failover may land on a
    /// server configured otherwise). The next claim reads it.
    #[must_use]
    pub fn with_eviction_check(mut self, allow: bool, interval: Duration) -> Self {
        self.policy = Arc::new(PolicyCheck::new(allow, interval));
        self
    }

    /// Replaces the key prefix. A prefix with braces would break the hash tag: they are
    /// removed.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix: String = prefix.into().replace(['{', '}'], "");
        self.prefix = Arc::from(prefix);
        self
    }

    /// Replaces the time limit of each call.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The Redis key of a receiver's key: `<prefix>:{<key>}`.
    #[must_use]
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}:{{{key}}}", self.prefix)
    }

    /// Refuses the call while the server's policy evicts; reads the policy when it is due.
    async fn policy_allows(&self) -> Result<(), StoreError> {
        policy_allows(&self.policy, &self.connection, self.timeout).await
    }

    async fn run(&self, script: &Script, key: &str, args: &[&[u8]]) -> Result<i64, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = script.key(self.redis_key(key));
        for arg in args {
            invocation.arg(*arg);
        }
        let call = invocation.invoke_async::<i64>(&mut connection);
        within(self.timeout, call).await
    }

    /// The claim as one plain command (Redis 7.0 and later): `SET key owner NX GET PX lease`
    /// sets the owner unless the key exists, and answers the value it found. `None` when the
    /// server refused the command (older Redis).
    async fn claim_with_set(
        &self,
        key: &str,
        owner: &str,
        lease: &[u8],
    ) -> Result<Option<Found>, StoreError> {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("SET");
        command
            .arg(self.redis_key(key))
            .arg(owner)
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(lease);
        let call = command.query_async::<Option<Vec<u8>>>(&mut connection);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(None)) => Ok(Some(Found::Nothing)),
            Ok(Ok(Some(found))) if found == DONE.as_bytes() => Ok(Some(Found::Done)),
            // This owner's own claim, recorded by a try whose answer was lost.
            Ok(Ok(Some(found))) if found == owner.as_bytes() => Ok(Some(Found::Nothing)),
            Ok(Ok(Some(found))) if found.starts_with(FENCE_PREFIX.as_bytes()) => {
                Ok(Some(Found::Fence))
            }
            Ok(Ok(Some(_))) => Ok(Some(Found::InFlight)),
            Ok(Err(error))
                if error.kind()
                    == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) =>
            {
                Ok(None)
            }
            Ok(Err(error)) => Err(unavailable(error)),
            Err(_) => Err(timed_out(self.timeout)),
        }
    }
}

/// What `SET ... NX GET` found under the key.
enum Found {
    /// No key: the claim was recorded.
    Nothing,
    /// Another owner's claim.
    InFlight,
    /// A completed record.
    Done,
    /// A fence left by a release: the script decides (taken over, or refused if this
    /// owner's own).
    Fence,
}

fn owner(token: &ClaimToken) -> String {
    format!("inflight:{:032x}", token.as_u128())
}

/// The fence a release of `token` leaves on an empty key.
fn fence(token: &ClaimToken) -> String {
    format!("{FENCE_PREFIX}{:032x}", token.as_u128())
}

fn millis(duration: Duration) -> Vec<u8> {
    // Redis wants a positive number of milliseconds.
    duration
        .as_millis()
        .clamp(1, i64::MAX as u128)
        .to_string()
        .into_bytes()
}

impl<C> DedupStore for RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(async move {
            self.policy_allows().await?;
            let key = key.as_str();
            let owner = owner(token);
            let lease = millis(lease);
            if !self.legacy_claim.load(Ordering::Relaxed) {
                match self.claim_with_set(key, &owner, &lease).await? {
                    Some(Found::Nothing) => return Ok(Claim::Claimed),
                    Some(Found::InFlight) => return Ok(Claim::InFlight),
                    Some(Found::Done) => return Ok(Claim::Done),
                    Some(Found::Fence) => {}
                    None => {
                        tracing::debug!(
                            "the server refused SET NX GET (Redis < 7.0): claims use a script"
                        );
                        self.legacy_claim.store(true, Ordering::Relaxed);
                    }
                }
            }
            let fence = fence(token);
            let answer = self
                .run(
                    &CLAIM,
                    key,
                    &[owner.as_bytes(), &lease, DONE.as_bytes(), fence.as_bytes()],
                )
                .await?;
            match answer {
                0 => Ok(Claim::Claimed),
                2 => Ok(Claim::Done),
                _ => Ok(Claim::InFlight),
            }
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let owner = owner(token);
            let answer = self
                .run(&RENEW, key.as_str(), &[owner.as_bytes(), &millis(lease)])
                .await?;
            Ok(answer == 1)
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let owner = owner(token);
            let answer = self
                .run(
                    &COMPLETE,
                    key.as_str(),
                    &[owner.as_bytes(), &millis(retention), DONE.as_bytes()],
                )
                .await?;
            if answer == 0 {
                tracing::warn!(
                    key = key.as_str(),
                    "claim lost before completion (its lease expired); the record was left to its new owner"
                );
            }
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let owner = owner(token);
            let fence = fence(token);
            let args = [owner.as_bytes(), fence.as_bytes(), FENCE_MILLIS.as_bytes()];
            self.run(&RELEASE, key.as_str(), &args).await?;
            Ok(())
        })
    }

    fn inspect<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, Option<Record>> {
        Box::pin(async move {
            let (value, ttl) = self.read(key.as_str()).await?;
            let expires_in = Duration::from_millis(u64::try_from(ttl).unwrap_or(0));
            Ok(match value {
                Some(value) if value == DONE.as_bytes() => Some(Record::Done { expires_in }),
                Some(value) if value.starts_with(b"inflight:") => {
                    Some(Record::InFlight { expires_in })
                }
                // Nothing, or a fence (which holds no delivery).
                _ => None,
            })
        })
    }

    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.delete(key.as_str()).await })
    }
}

impl<C> RedisStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// The value and time to live of `key` (`GET`, `PTTL`), in one round trip.
    async fn read(&self, key: &str) -> Result<(Option<Vec<u8>>, i64), StoreError> {
        let mut connection = self.connection.clone();
        let redis_key = self.redis_key(key);
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&redis_key).cmd("PTTL").arg(&redis_key);
        let call = pipe.query_async::<(Option<Vec<u8>>, i64)>(&mut connection);
        within(self.timeout, call).await
    }

    /// `DEL key`: whether there was one.
    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("DEL");
        command.arg(self.redis_key(key));
        let call = command.query_async::<i64>(&mut connection);
        Ok(within(self.timeout, call).await? > 0)
    }
}

impl<C> fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, feature = "test-server"))]
mod tests {
    use super::*;
    use crate::test_server::RedisServer;

    /// The script claim of servers before Redis 7.0 behaves as the `SET ... NX GET` one.
    #[tokio::test]
    async fn the_script_claim_behaves_as_the_command() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        for legacy in [false, true] {
            let store = RedisStore::connect(server.url()).await.expect("connected");
            store.legacy_claim.store(legacy, Ordering::Relaxed);
            let key = DedupKey::new("test", &format!("legacy-{legacy}"));
            let lease = Duration::from_secs(60);
            let token = ClaimToken::random();
            let Ok(Claim::Claimed) = store.claim(&key, &token, lease).await else {
                panic!("legacy={legacy}: not claimed");
            };
            assert_eq!(
                store.claim(&key, &ClaimToken::random(), lease).await,
                Ok(Claim::InFlight)
            );
            store
                .complete(&key, &token, Duration::from_secs(60))
                .await
                .expect("complete");
            assert_eq!(
                store.claim(&key, &ClaimToken::random(), lease).await,
                Ok(Claim::Done)
            );
            assert_eq!(store.legacy_claim.load(Ordering::Relaxed), legacy);
        }
    }
}
