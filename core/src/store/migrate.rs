//! Numbered schema migrations: the one mechanism every SQLite file of the workspace uses (a
//! phone's store, the server's copy of a tenant with its sync tables beside core's, the
//! server's accounts).
//!
//! A schema is a named list of steps; step *n* brings it to version *n*. Each step runs in its
//! own exclusive transaction together with the bump of the version, so a crash mid-migration
//! leaves the previous version intact and the next start resumes. A database whose version is
//! newer than the code is refused rather than guessed at (application-services' habit): an
//! older binary must not write into a schema it does not know. Shipped steps are never
//! edited; a change is a new step.
//!
//! Where the version lives: the schema that owns a file keeps it in `PRAGMA user_version`
//! (what every file written before this module already carries); a schema that lives in
//! another's file (the server's sync tables beside core's) keeps it in a row of
//! `schema_versions` of its own name.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

/// One step of a schema.
#[derive(Clone, Copy)]
pub enum Step {
    /// Statements run as one batch.
    Sql(&'static str),
    /// Code, for a step SQL alone cannot say (an upgrade that depends on what is there).
    Code(fn(&Transaction<'_>) -> rusqlite::Result<()>),
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Sql(sql) => f.debug_tuple("Sql").field(&sql.len()).finish(),
            Step::Code(_) => f.write_str("Code"),
        }
    }
}

/// Where a schema records the version it is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSlot {
    /// `PRAGMA user_version`: the schema owns the file.
    UserVersion,
    /// A row of `schema_versions` named after the schema: it lives in another's file.
    Named,
}

/// A schema's migrations.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    /// The schema's name, for messages and for its row of `schema_versions`.
    pub schema: &'static str,
    /// The steps, in order.
    pub steps: &'static [Step],
    /// Where its version lives.
    pub slot: VersionSlot,
}

/// Why a schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The file was written by a newer version of the code.
    #[error("schema {schema} is at version {found}, newer than this build supports ({supported})")]
    Newer {
        /// Which schema.
        schema: &'static str,
        /// The file's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// SQLite failed.
    #[error("migrating schema {schema} to version {version}: {source}")]
    Storage {
        /// Which schema.
        schema: &'static str,
        /// The version being reached.
        version: i64,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

impl Migrations {
    /// The version this build writes.
    pub fn latest(&self) -> i64 {
        self.steps.len() as i64
    }

    /// The version the file is at (0 for a new file).
    pub fn version(&self, conn: &Connection) -> Result<i64, MigrationError> {
        self.read_version(conn)
            .map_err(|source| self.failed(0, source))
    }

    fn read_version(&self, conn: &Connection) -> rusqlite::Result<i64> {
        match self.slot {
            VersionSlot::UserVersion => conn.query_row("PRAGMA user_version", [], |r| r.get(0)),
            VersionSlot::Named => {
                let exists: bool = conn.query_row(
                    "SELECT count(*) > 0 FROM sqlite_master
                     WHERE type = 'table' AND name = 'schema_versions'",
                    [],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Ok(0);
                }
                Ok(conn
                    .query_row(
                        "SELECT version FROM schema_versions WHERE schema = ?1",
                        [self.schema],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(0))
            }
        }
    }

    fn write_version(&self, tx: &Transaction<'_>, version: i64) -> rusqlite::Result<()> {
        match self.slot {
            VersionSlot::UserVersion => tx.pragma_update(None, "user_version", version),
            VersionSlot::Named => {
                tx.execute_batch(
                    "CREATE TABLE IF NOT EXISTS schema_versions (
                         schema  TEXT PRIMARY KEY,
                         version INTEGER NOT NULL
                     ) WITHOUT ROWID",
                )?;
                tx.execute(
                    "INSERT INTO schema_versions (schema, version) VALUES (?1, ?2)
                     ON CONFLICT(schema) DO UPDATE SET version = excluded.version",
                    rusqlite::params![self.schema, version],
                )?;
                Ok(())
            }
        }
    }

    fn failed(&self, version: i64, source: rusqlite::Error) -> MigrationError {
        MigrationError::Storage {
            schema: self.schema,
            version,
            source,
        }
    }

    /// Brings the file to [`Migrations::latest`], refusing one that is newer. Returns the
    /// version it was at.
    pub fn apply(&self, conn: &mut Connection) -> Result<i64, MigrationError> {
        let found = self.version(conn)?;
        if found > self.latest() {
            return Err(MigrationError::Newer {
                schema: self.schema,
                found,
                supported: self.latest(),
            });
        }
        for (index, step) in self.steps.iter().enumerate().skip(found.max(0) as usize) {
            let version = index as i64 + 1;
            let run = |conn: &mut Connection| -> rusqlite::Result<()> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
                // Another process may have migrated while this one waited for the lock.
                if self.read_version(&tx)? >= version {
                    return tx.commit();
                }
                match step {
                    Step::Sql(sql) => tx.execute_batch(sql)?,
                    Step::Code(f) => f(&tx)?,
                }
                self.write_version(&tx, version)?;
                tx.commit()
            };
            run(conn).map_err(|source| self.failed(version, source))?;
            tracing::info!(schema = self.schema, version, "schema migrated");
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Migrations = Migrations {
        schema: "owner",
        steps: &[
            Step::Sql("CREATE TABLE a (x INTEGER)"),
            Step::Sql("ALTER TABLE a ADD COLUMN y INTEGER"),
        ],
        slot: VersionSlot::UserVersion,
    };

    fn add_guest_column(tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let has: bool = tx.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('b') WHERE name = 'z'",
            [],
            |r| r.get(0),
        )?;
        if !has {
            tx.execute_batch("ALTER TABLE b ADD COLUMN z INTEGER")?;
        }
        Ok(())
    }

    const GUEST: Migrations = Migrations {
        schema: "guest",
        steps: &[
            Step::Sql("CREATE TABLE IF NOT EXISTS b (x INTEGER)"),
            Step::Code(add_guest_column),
        ],
        slot: VersionSlot::Named,
    };

    #[test]
    fn two_schemas_share_a_file_each_at_its_own_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(OWNER.apply(&mut conn).unwrap(), 0);
        assert_eq!(GUEST.apply(&mut conn).unwrap(), 0);
        assert_eq!(OWNER.version(&conn).unwrap(), 2);
        assert_eq!(GUEST.version(&conn).unwrap(), 2);
        // Applying again changes nothing.
        assert_eq!(OWNER.apply(&mut conn).unwrap(), 2);
        assert_eq!(GUEST.apply(&mut conn).unwrap(), 2);
        conn.execute("INSERT INTO a (x, y) VALUES (1, 2)", [])
            .unwrap();
        conn.execute("INSERT INTO b (x, z) VALUES (1, 2)", [])
            .unwrap();
    }

    #[test]
    fn a_file_newer_than_the_code_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        OWNER.apply(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        let err = OWNER.apply(&mut conn).unwrap_err();
        assert!(
            matches!(
                err,
                MigrationError::Newer {
                    found: 3,
                    supported: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(OWNER.version(&conn).unwrap(), 3);
    }

    #[test]
    fn a_failing_step_leaves_the_previous_version_and_nothing_of_itself() {
        const BROKEN: Migrations = Migrations {
            schema: "broken",
            steps: &[
                Step::Sql("CREATE TABLE c (x INTEGER)"),
                Step::Sql("CREATE TABLE d (x INTEGER); CREATE TABLE c (x INTEGER)"),
            ],
            slot: VersionSlot::Named,
        };
        let mut conn = Connection::open_in_memory().unwrap();
        let err = BROKEN.apply(&mut conn).unwrap_err();
        assert!(
            matches!(err, MigrationError::Storage { version: 2, .. }),
            "{err}"
        );
        assert_eq!(BROKEN.version(&conn).unwrap(), 1);
        let d: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'd'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!d, "the failed step's table was rolled back");
    }

    #[test]
    fn a_code_step_upgrades_a_file_that_predates_the_version_row() {
        let mut conn = Connection::open_in_memory().unwrap();
        // Created by hand before the schema kept a version: the table is there, with and
        // without the later column.
        conn.execute_batch("CREATE TABLE b (x INTEGER, z INTEGER)")
            .unwrap();
        GUEST.apply(&mut conn).unwrap();
        assert_eq!(GUEST.version(&conn).unwrap(), 2);
    }
}
