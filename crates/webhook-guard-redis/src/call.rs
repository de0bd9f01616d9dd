//! What every Redis call of the crate shares: the time limit, the errors, and the check of
//! the server's eviction policy.

use std::time::Duration;

use redis::aio::ConnectionLike;
use webhook_guard::dedup::{StoreError, StoreErrorKind};

use crate::policy::PolicyCheck;

/// Runs `call` within `limit`, its errors as store errors.
pub(crate) async fn within<T>(
    limit: Duration,
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => Err(unavailable(error)),
        Err(_) => Err(timed_out(limit)),
    }
}

pub(crate) fn unavailable(error: redis::RedisError) -> StoreError {
    let kind = if error.is_timeout() {
        StoreErrorKind::Timeout
    } else {
        StoreErrorKind::Unavailable
    };
    // The error's text names the failure, never the URL or its password.
    StoreError::new(kind, format!("redis: {error}"))
}

pub(crate) fn timed_out(limit: Duration) -> StoreError {
    StoreError::new(
        StoreErrorKind::Timeout,
        format!("redis: no answer within {} ms", limit.as_millis()),
    )
}

/// The server's `INFO memory` answer.
pub(crate) async fn info_memory<C>(connection: &C, limit: Duration) -> Result<String, StoreError>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let mut connection = connection.clone();
    let mut command = redis::cmd("INFO");
    command.arg("memory");
    // One node's text, or (on a cluster) one per node: every node's policy counts.
    let call = command.query_async::<redis::Value>(&mut connection);
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(info)) => Ok(text_of(&info)),
        // A server that refuses INFO (an ACL, a proxy) is not a down one: its policy is
        // unreported, which is warned about and allowed, instead of failing every call.
        Ok(Err(error))
            if error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError)
                || error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm) =>
        {
            tracing::warn!(%error, "the Redis server refuses INFO; its maxmemory-policy cannot be checked");
            Ok(String::new())
        }
        Ok(Err(error)) => Err(unavailable(error)),
        Err(_) => Err(timed_out(limit)),
    }
}

/// Refuses the call while the server's policy evicts; reads the policy when it is due.
pub(crate) async fn policy_allows<C>(
    policy: &PolicyCheck,
    connection: &C,
    limit: Duration,
) -> Result<(), StoreError>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    if policy.take_due() {
        match info_memory(connection, limit).await {
            Ok(info) => return policy.record(&info),
            Err(error) => {
                // Read again at the next call; this one fails as any call would.
                policy.retry_soon();
                return Err(error);
            }
        }
    }
    policy.last()
}

/// All the text of an answer, nested answers joined by lines.
fn text_of(value: &redis::Value) -> String {
    match value {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        redis::Value::SimpleString(text) | redis::Value::VerbatimString { text, .. } => {
            text.clone()
        }
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().map(text_of).collect::<Vec<_>>().join("\n")
        }
        redis::Value::Map(pairs) => pairs
            .iter()
            .map(|(_, value)| text_of(value))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
