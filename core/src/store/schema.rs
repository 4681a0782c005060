//! The local database's schema and its migrations.
//!
//! The schema version lives in `PRAGMA user_version` and is brought up to date by the
//! workspace's one migration mechanism ([`super::migrate`]): each migration in its own
//! transaction together with the version bump; a database newer than this code is refused.
//!
//! Only the `documents` table is the truth. Everything else (`records`, the kind tables,
//! `search`, `customer_names`) is a projection that [`super::Store::rebuild_projections`] can
//! recreate from the documents at any time.

use rusqlite::Connection;

use super::migrate::{MigrationError, Migrations, Step, VersionSlot};
use crate::error::{Error, Result};

/// Core's schema: migration *n* brings it to version *n*.
pub const CORE: Migrations = Migrations {
    schema: "core",
    steps: &[
        Step::Sql(include_str!("schema/001_initial.sql")),
        Step::Sql(include_str!("schema/002_verdicts.sql")),
        Step::Sql(include_str!("schema/003_dashboards.sql")),
        Step::Sql(include_str!("schema/004_attachments.sql")),
        Step::Sql(include_str!("schema/005_sync.sql")),
        Step::Sql(include_str!("schema/006_dashboard_indexes.sql")),
        Step::Sql(include_str!("schema/007_fact_indexes.sql")),
        Step::Sql(include_str!("schema/008_work_calendar.sql")),
        Step::Sql(include_str!("schema/009_false_progress.sql")),
        Step::Sql(include_str!("schema/010_false_progress_index.sql")),
        Step::Sql(include_str!("schema/011_gram_counts.sql")),
        Step::Code(role_hidden_fields),
        Step::Sql(include_str!("schema/013_companions.sql")),
    ],
    slot: VersionSlot::UserVersion,
};

/// Migration 12: the fields each role hides, beside its scope in the `roles` projection, so
/// that who a user is ([`crate::me::resolve`]) reads them without loading a document.
fn role_hidden_fields(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE roles ADD COLUMN hidden_fields TEXT NOT NULL DEFAULT ''")?;
    let actor = automerge::ActorId::random();
    let mut stmt = tx.prepare("SELECT id, doc FROM documents WHERE kind = 'role'")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    for row in rows {
        let (id, bytes) = row?;
        // A projection: a document that does not read is left to the next rebuild.
        let Ok(role) = crate::doc::RecordDoc::load(&bytes, &actor)
            .and_then(|doc| doc.hydrate_as::<crate::record::Role>())
        else {
            continue;
        };
        tx.execute(
            "UPDATE roles SET hidden_fields = ?2 WHERE id = ?1",
            rusqlite::params![id, super::projection::hidden_codes(&role)],
        )?;
    }
    Ok(())
}

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = CORE.steps.len() as i64;

/// Brings `conn` to [`CURRENT_VERSION`] and then each of `extensions` to theirs, refusing a
/// database that is newer.
pub fn migrate(conn: &mut Connection, extensions: &[&Migrations]) -> Result<()> {
    for schema in std::iter::once(&CORE).chain(extensions.iter().copied()) {
        schema.apply(conn).map_err(|e| match e {
            MigrationError::Newer {
                found, supported, ..
            } => Error::NewerDatabase { found, supported },
            MigrationError::Storage { source, .. } => Error::Storage(source),
        })?;
    }
    Ok(())
}
