//! The server the receivers share, named by the environment (`REDIS_URL` or `DATABASE_URL`,
//! the example contract's), for the commands that operate it.

use std::time::Duration;

use webhook_guard::inbox::Inbox;
use webhook_guard_postgres::PgInbox;
use webhook_guard_redis::RedisInbox;

use crate::error::{Result, fail};

/// The server the receivers share, as the environment names it.
pub(crate) enum Server {
    /// `REDIS_URL`.
    Redis(String),
    /// `DATABASE_URL`.
    Postgres(String),
}

/// `REDIS_URL` or `DATABASE_URL` (the example contract's; not both). `what` ends the error
/// when neither is set: "set REDIS_URL or DATABASE_URL to {what}".
pub(crate) fn server_from_env(what: &str) -> Result<Server> {
    let redis = std::env::var("REDIS_URL").ok();
    let postgres = std::env::var("DATABASE_URL").ok();
    match (redis, postgres) {
        (Some(_), Some(_)) => Err(fail("set REDIS_URL or DATABASE_URL, not both")),
        (None, None) => Err(fail(format!("set REDIS_URL or DATABASE_URL to {what}"))),
        (Some(url), None) => Ok(Server::Redis(url)),
        (None, Some(url)) => Ok(Server::Postgres(url)),
    }
}

/// A small pool on `url` (`DATABASE_URL`), for one command.
pub(crate) async fn postgres_pool(url: &str) -> Result<sqlx::PgPool> {
    // The URL is not repeated in errors: it may carry a password.
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| fail(format!("DATABASE_URL: {e}")))
}

/// The inbox of `REDIS_URL` (`prefix`, `name`) or `DATABASE_URL` (`schema`, `table`).
pub(crate) async fn inbox_from_env(
    schema: &str,
    table: &str,
    prefix: &str,
    name: &str,
) -> Result<Inbox> {
    match server_from_env("the server of the receivers' inbox")? {
        Server::Redis(url) => {
            let store = RedisInbox::builder(url)
                .prefix(prefix)
                .name(name)
                .connect()
                .await
                .map_err(|e| fail(format!("REDIS_URL: {e}")))?;
            Ok(Inbox::new(store))
        }
        Server::Postgres(url) => {
            let store = PgInbox::builder(postgres_pool(&url).await?)
                .schema(schema)
                .table(table)
                .build()
                .map_err(fail)?;
            Ok(Inbox::new(store))
        }
    }
}
