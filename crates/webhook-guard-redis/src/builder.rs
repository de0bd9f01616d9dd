//! [`RedisStoreBuilder`]: a [`RedisStore`] on a connection manager, checked at start-up.

use std::{fmt, time::Duration};

use redis::{
    Client,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use webhook_guard::dedup::StoreError;

use crate::{
    DEFAULT_PREFIX, DEFAULT_TIMEOUT, RedisStore,
    call::{info_memory, timed_out, unavailable},
    policy::{DEFAULT_POLICY_CHECK_INTERVAL, Policy, PolicyCheck, evicting_policy, refusal},
};

/// Why a [`RedisStore`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a Redis URL (it is not repeated here: it may carry a password).
    InvalidUrl,
    /// The prefix is empty or has braces (they would break the hash tag).
    InvalidPrefix,
    /// The timeout is zero.
    InvalidTimeout,
    /// The server could not be reached in time.
    Unreachable(StoreError),
    /// The server's `maxmemory-policy` may evict dedup records (any policy but
    /// `noeviction`), and [`RedisStoreBuilder::allow_eviction`] was not set.
    EvictingPolicy {
        /// The policy, `allkeys-lru` say.
        policy: String,
    },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl => {
                f.write_str("invalid Redis URL: expected redis://[user:password@]host[:port][/db]")
            }
            Self::InvalidPrefix => f.write_str("the key prefix must be non-empty, without braces"),
            Self::InvalidTimeout => f.write_str("the timeout must be longer than zero"),
            Self::Unreachable(error) => write!(f, "could not connect: {error}"),
            Self::EvictingPolicy { policy } => f.write_str(&refusal(policy)),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Unreachable(error) => Some(error),
            _ => None,
        }
    }
}

/// Builds a [`RedisStore`] on a [`ConnectionManager`] (one multiplexed connection that
/// reconnects by itself).
#[derive(Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) allow_eviction: bool,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: not shown.
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("allow_eviction", &self.allow_eviction)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A builder for a store at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` with TLS when the `redis` crate's TLS features are on).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            allow_eviction: false,
        }
    }

    /// Connects to `url` with the default prefix and timeout.
    ///
    /// # Errors
    /// An invalid URL, or a server that cannot be reached in time.
    pub async fn connect(url: impl Into<String>) -> Result<Self, ConnectError> {
        Self::builder(url).connect().await
    }
}

impl RedisStoreBuilder {
    /// The key prefix (default [`DEFAULT_PREFIX`]), to share one Redis between apps.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The time limit of each call (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn parts(&self) -> Result<(Client, ConnectionManagerConfig), ConnectError> {
        if self.prefix.is_empty() || self.prefix.contains(['{', '}']) {
            return Err(ConnectError::InvalidPrefix);
        }
        if self.timeout.is_zero() {
            return Err(ConnectError::InvalidTimeout);
        }
        // The URL is not repeated in the error: it may carry a password.
        let client = Client::open(self.url.as_str()).map_err(|_| ConnectError::InvalidUrl)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(self.timeout);
        Ok((client, config))
    }

    fn store(self, connection: ConnectionManager) -> RedisStore {
        RedisStore::with_connection(connection)
            .with_prefix(self.prefix)
            .with_timeout(self.timeout)
            .with_eviction_check(self.allow_eviction, DEFAULT_POLICY_CHECK_INTERVAL)
    }

    /// Connects now, so a wrong URL, an unreachable server or an evicting one shows at
    /// startup.
    ///
    /// # Errors
    /// An invalid URL, prefix or timeout, a server that cannot be reached in time, or one
    /// whose `maxmemory-policy` evicts ([`ConnectError::EvictingPolicy`]).
    pub async fn connect(self) -> Result<RedisStore, ConnectError> {
        let (connection, _) = self.connected().await?;
        let timeout = self.timeout;
        let store = self.store(connection);
        check_policy(&store.policy, &store.connection, timeout).await?;
        Ok(store)
    }

    /// A connection manager, connected, and its client.
    pub(crate) async fn connected(&self) -> Result<(ConnectionManager, Client), ConnectError> {
        let (client, config) = self.parts()?;
        let connecting = ConnectionManager::new_with_config(client.clone(), config);
        let connection = tokio::time::timeout(self.timeout, connecting)
            .await
            .map_err(|_| ConnectError::Unreachable(timed_out(self.timeout)))?
            .map_err(|e| ConnectError::Unreachable(unavailable(e)))?;
        Ok((connection, client))
    }

    /// A connection manager that connects at its first call, and its client.
    pub(crate) fn lazy(&self) -> Result<(ConnectionManager, Client), ConnectError> {
        let (client, config) = self.parts()?;
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| ConnectError::Unreachable(unavailable(e)))?;
        Ok((connection, client))
    }

    /// Accepts a server whose `maxmemory-policy` may evict keys (default `false`: refused).
    ///
    /// Only for a Redis that never reaches its `maxmemory` (size it with the table in the
    /// crate docs): an evicted record runs its delivery's handler again.
    pub fn allow_eviction(mut self, allow: bool) -> Self {
        self.allow_eviction = allow;
        self
    }

    /// Builds the store without connecting: the first call connects (and fails like any
    /// call if the server is down or its `maxmemory-policy` evicts, which the receiver
    /// answers per its fail mode). Call it within a Tokio runtime.
    ///
    /// # Errors
    /// An invalid URL, prefix or timeout.
    pub fn build(self) -> Result<RedisStore, ConnectError> {
        let (connection, _) = self.lazy()?;
        Ok(self.store(connection))
    }
}

/// Reads the server's policy now (unless evicting ones are allowed) and refuses an evicting
/// one.
pub(crate) async fn check_policy<C>(
    policy: &PolicyCheck,
    connection: &C,
    timeout: Duration,
) -> Result<(), ConnectError>
where
    C: redis::aio::ConnectionLike + Clone + Send + Sync + 'static,
{
    if policy.take_due() {
        let info = info_memory(connection, timeout)
            .await
            .map_err(ConnectError::Unreachable)?;
        if let Policy::Evicting(policy) = evicting_policy(&info) {
            return Err(ConnectError::EvictingPolicy {
                policy: policy.to_owned(),
            });
        }
        policy.record(&info).map_err(ConnectError::Unreachable)?;
    }
    Ok(())
}
