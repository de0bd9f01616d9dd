//! [`RedisInboxBuilder`]: a [`RedisInbox`] on a connection manager, checked at start-up.

use std::time::Duration;

use redis::{Client, aio::ConnectionManager};

use crate::{
    ConnectError, DEFAULT_INBOX_NAME, DEFAULT_POLICY_CHECK_INTERVAL, RedisInbox, RedisStore,
    RedisStoreBuilder, builder::check_policy,
};

/// Builds a [`RedisInbox`] on a [`ConnectionManager`], with wake-ups on connections of their
/// own. The URL, prefix, timeout and eviction check work as for the dedup store
/// ([`RedisStoreBuilder`]).
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisInboxBuilder {
    connection: RedisStoreBuilder,
    name: String,
}

impl RedisInbox {
    /// A builder for an inbox at `url` (`redis://[user:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisInboxBuilder {
        RedisInboxBuilder {
            connection: RedisStore::builder(url),
            name: DEFAULT_INBOX_NAME.to_owned(),
        }
    }

    /// Connects to `url` with the default prefix, name and timeout.
    ///
    /// # Errors
    /// As [`RedisInboxBuilder::connect`].
    pub async fn connect(url: impl Into<String>) -> Result<Self, ConnectError> {
        Self::builder(url).connect().await
    }
}

impl RedisInboxBuilder {
    /// The key prefix (default [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX)).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.connection = self.connection.prefix(prefix);
        self
    }

    /// The inbox's name (default [`DEFAULT_INBOX_NAME`]): its keys are
    /// `<prefix>:{<name>}:…`, in one Redis Cluster slot. Inboxes of different names are
    /// independent (different slots on a cluster).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The time limit of each call (default [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.connection = self.connection.timeout(timeout);
        self
    }

    /// Accepts a server whose `maxmemory-policy` may evict keys (default `false`: refused).
    /// An evicted entry is a lost delivery: only for a Redis that never reaches its
    /// `maxmemory`.
    pub fn allow_eviction(mut self, allow: bool) -> Self {
        self.connection = self.connection.allow_eviction(allow);
        self
    }

    fn inbox(
        &self,
        connection: ConnectionManager,
        client: Client,
    ) -> Result<RedisInbox, ConnectError> {
        if self.name.is_empty() || self.name.contains(['{', '}']) {
            return Err(ConnectError::InvalidPrefix);
        }
        Ok(RedisInbox::with_connection(connection)
            .with_name(&self.connection.prefix, &self.name)
            .with_timeout(self.connection.timeout)
            .with_eviction_check(
                self.connection.allow_eviction,
                DEFAULT_POLICY_CHECK_INTERVAL,
            )
            .with_wake_ups(client))
    }

    /// Connects now, so a wrong URL, an unreachable server or an evicting one shows at
    /// startup.
    ///
    /// # Errors
    /// An invalid URL, prefix, name or timeout, a server that cannot be reached in time, or
    /// one whose `maxmemory-policy` evicts ([`ConnectError::EvictingPolicy`]).
    pub async fn connect(self) -> Result<RedisInbox, ConnectError> {
        let (connection, client) = self.connection.connected().await?;
        let inbox = self.inbox(connection, client)?;
        check_policy(&inbox.policy, inbox.connection(), self.connection.timeout).await?;
        Ok(inbox)
    }

    /// Builds the inbox without connecting: the first call connects. Call it within a Tokio
    /// runtime.
    ///
    /// # Errors
    /// An invalid URL, prefix, name or timeout.
    pub fn build(self) -> Result<RedisInbox, ConnectError> {
        let (connection, client) = self.connection.lazy()?;
        self.inbox(connection, client)
    }
}
