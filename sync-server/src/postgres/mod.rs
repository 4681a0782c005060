//! PostgreSQL: the store behind several stateless server instances.
//!
//! The driver is `tokio-postgres` (asynchronous like the server, pipelining, binary
//! parameters) under a `deadpool-postgres` pool: both small, widely deployed and kept up. sqlx
//! would bring its own SQLite driver, whose bundled `libsqlite3-sys` cannot be linked next to
//! rusqlite's, and a compile-time query checker the project does not need.
//!
//! Both server stores live in one database: the accounts ([`crate::store::PostgresStore`])
//! and the tenants' records ([`crate::records::PostgresRecords`]), each with its own numbered
//! migrations ([`migrate`]). `tenant_id` leads every key of every per-tenant table, so the
//! same schema can be distributed by tenant later (see ARCHITECTURE.md, "Past one
//! PostgreSQL"). No correctness depends on advisory locks or LISTEN/NOTIFY.
//!
//! The statements of a sync (the group commit's, the catch-up's, the pull's, the audit
//! append's) go through [`execute`] and its siblings: prepared once per pooled connection and
//! then one round trip each, not two — under a tenant's counter lock every round trip counts.

pub mod migrate;
#[cfg(feature = "testing")]
pub mod testing;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

use crate::store::StoreError;

/// How to reach PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// A libpq connection string or URL (`postgresql://user@host/db`,
    /// `host=/run/postgresql dbname=fieldsales`).
    pub url: String,
    /// Connections kept open at most.
    pub pool_size: usize,
}

/// Why a URL was refused.
#[derive(Debug, thiserror::Error)]
#[error("not a PostgreSQL connection string: {0}")]
pub struct BadUrl(String);

/// Checks a connection string without connecting.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, BadUrl> {
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| BadUrl(e.to_string()))
}

/// A pool of connections to the database `options` names. Connections open on first use.
pub fn pool(options: &PgOptions) -> Result<Pool, StoreError> {
    let config = parse_url(&options.url).map_err(backend)?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // A connection is awaited at most this long: a request fails rather than hangs.
    Pool::builder(manager)
        .max_size(options.pool_size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(30)))
        .build()
        .map_err(backend)
}

/// Any failure of the driver or the pool, as a storage failure.
pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// The parameters of a statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Runs `sql`, prepared once per pooled connection and kept (deadpool's statement cache):
/// after the first time, one round trip instead of two. For the statements of the sync path.
pub(crate) async fn execute(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, tokio_postgres::Error> {
    c.execute(&c.prepare_cached(sql).await?, params).await
}

/// [`execute`]'s counterpart for the rows of a query.
pub(crate) async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>, tokio_postgres::Error> {
    c.query(&c.prepare_cached(sql).await?, params).await
}

/// [`execute`]'s counterpart for at most one row.
pub(crate) async fn query_opt(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>, tokio_postgres::Error> {
    c.query_opt(&c.prepare_cached(sql).await?, params).await
}

/// [`execute`]'s counterpart for exactly one row.
pub(crate) async fn query_one(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Row, tokio_postgres::Error> {
    c.query_one(&c.prepare_cached(sql).await?, params).await
}

/// A pooled connection.
pub(crate) async fn client(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(backend)
}

/// Whether PostgreSQL refused a statement because a unique key was taken; the constraint's
/// name when so.
pub(crate) fn unique_violation(e: &tokio_postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    (db.code() == &SqlState::UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or(""))
}

/// Whether a transaction failed only because it raced another (serialization failure or
/// deadlock) and may simply run again.
pub(crate) fn retryable(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        c == &SqlState::T_R_SERIALIZATION_FAILURE || c == &SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// An id as PostgreSQL's `uuid`.
pub(crate) fn uuid(bytes: &[u8; 16]) -> Uuid {
    Uuid::from_bytes(*bytes)
}
