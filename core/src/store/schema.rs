//! The local database's schema and its migrations.
//!
//! The schema version lives in `PRAGMA user_version`. Each migration runs in its own
//! transaction together with the version bump, so a crash mid-migration leaves the previous
//! version intact. A database newer than this code is refused rather than guessed at
//! (application-services' habit): an older app must not write into a schema it does not know.
//!
//! Only the `documents` table is the truth. Everything else (`records`, the kind tables,
//! `search`, `customer_names`) is a projection that [`super::Store::rebuild_projections`] can
//! recreate from the documents at any time.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// The migrations, in order; migration *n* brings the schema to version *n*.
const MIGRATIONS: &[&str] = &[
    include_str!("schema/001_initial.sql"),
    include_str!("schema/002_verdicts.sql"),
    include_str!("schema/003_dashboards.sql"),
    include_str!("schema/004_attachments.sql"),
    include_str!("schema/005_sync.sql"),
    include_str!("schema/006_dashboard_indexes.sql"),
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`CURRENT_VERSION`], refusing one that is newer.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT_VERSION {
        return Err(Error::NewerDatabase {
            found,
            supported: CURRENT_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "local database migrated");
    }
    Ok(())
}
