//! Numbered migrations for PostgreSQL, by the rules of the workspace's one mechanism
//! (`fieldsales_core::store::migrate`): a named schema is a list of steps, step *n* brings it
//! to version *n*, each step runs in its own transaction together with the bump of the
//! version, a database newer than the code is refused, shipped steps are never edited.
//!
//! What PostgreSQL adds is several server instances starting at once against one database.
//! The version lives in a row of `schema_versions`, and each step's transaction first takes
//! that row with `SELECT … FOR UPDATE`: a second instance waits on the row, then reads the
//! version the first one wrote and skips the step. A plain row lock, so the same code runs on
//! the distributed PostgreSQL-compatible engines (no advisory lock, no `LOCK TABLE`). Only
//! the creation of `schema_versions` itself can race; PostgreSQL then refuses one of the two
//! `CREATE TABLE IF NOT EXISTS` (its row type is taken), which is tried again.

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use super::backend;
use crate::store::StoreError;

/// A schema's migrations.
#[derive(Debug, Clone, Copy)]
pub struct PgMigrations {
    /// The schema's name: its row of `schema_versions`.
    pub schema: &'static str,
    /// The steps, in order; each is statements run as one batch.
    pub steps: &'static [&'static str],
}

const VERSIONS: &str = "CREATE TABLE IF NOT EXISTS schema_versions (
    schema  text PRIMARY KEY,
    version bigint NOT NULL
)";

impl PgMigrations {
    /// The version this build writes.
    pub fn latest(&self) -> i64 {
        self.steps.len() as i64
    }

    /// Brings the database to [`PgMigrations::latest`], refusing one that is newer. Returns
    /// the version it was at.
    pub async fn apply(&self, client: &mut Client) -> Result<i64, StoreError> {
        for attempt in 0.. {
            match client.batch_execute(VERSIONS).await {
                Ok(()) => break,
                // Two instances created the table at the same moment: the other one won (its
                // row type or catalogue entry is found taken).
                Err(e)
                    if attempt < 3
                        && e.code().is_some_and(|c| {
                            c == &SqlState::UNIQUE_VIOLATION
                                || c == &SqlState::DUPLICATE_TABLE
                                || c == &SqlState::DUPLICATE_OBJECT
                        }) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        client
            .execute(
                "INSERT INTO schema_versions (schema, version) VALUES ($1, 0)
                 ON CONFLICT (schema) DO NOTHING",
                &[&self.schema],
            )
            .await
            .map_err(backend)?;
        let mut found = None;
        loop {
            let tx = client.transaction().await.map_err(backend)?;
            let version: i64 = tx
                .query_one(
                    "SELECT version FROM schema_versions WHERE schema = $1 FOR UPDATE",
                    &[&self.schema],
                )
                .await
                .map_err(backend)?
                .get(0);
            let first = *found.get_or_insert(version);
            if version > self.latest() {
                return Err(StoreError::SchemaTooNew {
                    found: version,
                    supported: self.latest(),
                });
            }
            let Some(step) = self.steps.get(version as usize) else {
                tx.commit().await.map_err(backend)?;
                return Ok(first);
            };
            tx.batch_execute(step).await.map_err(backend)?;
            tx.execute(
                "UPDATE schema_versions SET version = $2 WHERE schema = $1",
                &[&self.schema, &(version + 1)],
            )
            .await
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            tracing::info!(
                schema = self.schema,
                version = version + 1,
                "PostgreSQL schema migrated"
            );
        }
    }
}
