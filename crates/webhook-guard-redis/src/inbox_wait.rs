//! Wake-ups for [`RedisInbox`](crate::RedisInbox) workers: blocking reads (`XREAD BLOCK … $`)
//! of the inbox's streams, on connections of their own.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use redis::{AsyncConnectionConfig, Client, aio::MultiplexedConnection};
use webhook_guard::dedup::StoreError;

use crate::call::{timed_out, unavailable};

/// The most idle blocking connections kept for the next waits.
const KEPT: usize = 4;

/// Connections for blocking reads: one per wait at a time (a blocking read holds up every
/// call behind it on its connection), kept for the next wait.
pub(crate) struct Waiter {
    client: Client,
    idle: Mutex<Vec<MultiplexedConnection>>,
}

impl Waiter {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Waits until a message is added to one of `streams`, or `timeout`.
    pub(crate) async fn wait(
        &self,
        streams: &[String],
        timeout: Duration,
    ) -> Result<(), StoreError> {
        let limit = timeout + Duration::from_secs(1);
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut connection = match taken {
            Some(connection) => connection,
            None => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(limit))
                    .set_response_timeout(None);
                let connecting = self
                    .client
                    .get_multiplexed_async_connection_with_config(&config);
                match tokio::time::timeout(limit, connecting).await {
                    Ok(Ok(connection)) => connection,
                    Ok(Err(error)) => return Err(unavailable(error)),
                    Err(_) => return Err(timed_out(limit)),
                }
            }
        };
        let mut command = redis::cmd("XREAD");
        command
            .arg("BLOCK")
            .arg(timeout.as_millis().clamp(1, u128::from(u32::MAX)) as u64)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(streams);
        for _ in streams {
            command.arg("$");
        }
        let read = command.query_async::<redis::Value>(&mut connection);
        match tokio::time::timeout(limit, read).await {
            Ok(Ok(_)) => {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                if idle.len() < KEPT {
                    idle.push(connection);
                }
                Ok(())
            }
            // A connection that failed or stalled is dropped, not kept.
            Ok(Err(error)) => Err(unavailable(error)),
            Err(_) => Err(timed_out(limit)),
        }
    }
}
