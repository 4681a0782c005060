//! Backing the server up while it runs, restoring it, and what devices do about a server
//! that is suddenly older than they are.
//!
//! ## A backup (`fieldsales-server backup --to DIR`, SQLite storage)
//!
//! The data folder holds the accounts database (`server.sqlite3`: tenants, accounts, devices,
//! tokens, actors, the accounts audit chain), one file per tenant (`tenants/<id>.sqlite3`: the
//! records, their change sequence and the devices' holdings, the records audit chain) and the
//! attachments (`attachments/<tenant>/<2 hex>/<sha256>`). [`take`] copies them while the
//! server serves, as an operator's separate process would:
//!
//! - each database with `VACUUM INTO` from a connection of its own: one read transaction, so
//!   the copy is that database exactly as one commit left it (WAL lets it read beside the
//!   server's writer, which never waits for it); the copy is compact and self-contained (no
//!   `-wal` beside it), and flushed to the disk by the backup since SQLite does not;
//! - the accounts database first, then the tenants, then the attachments: a record in the
//!   copy names only photos uploaded before it was copied (phones upload a photo after the
//!   record that names it syncs), and those are copied after it;
//! - attachments whole: a complete attachment is only ever renamed into place once its bytes
//!   hash to its name, so the files named by a SHA-256 are complete, and each is checked
//!   against its name as it is copied; uploads under way (`.part`) are left out — the phone
//!   still has the photo and uploads it again;
//! - every file owner-only (0600, folders 0700), like the server's own;
//! - the manifest ([`Manifest`]: when, which files, their sizes and SHA-256) last, written
//!   whole and renamed into place: a folder without one is a backup that never finished, and
//!   restore refuses it.
//!
//! Each database is consistent in itself; the files are not one snapshot together, and need
//! not be: a device registered after the accounts were copied has pushed into a tenant copied
//! later (harmless: the restored server asks it to sign in again, see below).
//!
//! ## A restore (`fieldsales-server restore --from DIR [--force]`, server stopped)
//!
//! [`restore`] checks the manifest and every file against it (size and SHA-256) before
//! touching anything; refuses while something listens on the configured address (a server
//! still running), and a data folder that holds anything unless `--force` (which moves that
//! folder aside, never deletes it); copies the files into a new folder beside the data
//! folder, checking each again as it copies; gives every tenant a **new epoch**; and only
//! then renames the new folder into place. A restore cut short leaves the data folder as it
//! was.
//!
//! ## Epochs: a restored server is older than its devices
//!
//! Each tenant's change sequence has an epoch: random, kept in the server's own table
//! (`sync_counter.epoch` in the tenant's file, `tenant_counter.epoch` on PostgreSQL), made
//! by a migration step, and renewed by every restore. Every sync answer names it; a device
//! sends back the one its cursor belongs to. When they differ, the cursor belongs to a
//! sequence the restored server no longer has, so the server:
//!
//! - ignores the request's push (its changes may build on changes the restored server lost:
//!   merged now, they would be refused for missing dependencies and set aside), and
//! - pulls from the start of its sequence, with the device's holdings forgotten
//!   (they are the backup's), so every record the user may see is sent whole (records the
//!   device may no longer see are still removed).
//!
//! The device (core's `sync::apply`) forgets every acknowledgement and attachment upload,
//! follows the pages to the end while pushing nothing, learning from each record what the
//! server holds (a record it holds changes beyond is queued), and at the last page queues every
//! record the server did not send that holds a change of its own. Then it pushes — only its
//! own changes on what the server holds (`RecordDoc::own_changes_since`), since the server
//! refuses any other actor's from it. What happens to each change:
//!
//! - **not pushed before the restore**: still in the outbox; pushed. Nothing unpushed is
//!   lost.
//! - **pushed and acknowledged after the backup, by this device**: lost by the restore,
//!   offered again by the device that made it, reviewed again by the server's rules (which
//!   judge it against the restored facts: a check-in judged again, say) and stored: the
//!   server regains it, as long as that device still exists and signs in.
//! - **made by another device after the backup, pulled by this one**: this device keeps it
//!   but does not offer it (not its own); its author offers it, and every device converges
//!   once it has. An own change built on such a change waits on the device, unpushed, until
//!   the server has it.
//! - **written by the server itself after the backup** (an admin's write, the jobs, the
//!   server's verdict on a check-in): gone; the jobs run again, a pushed check-in is judged
//!   again, an admin's change must be made again. An own change built on such a change
//!   (a check-out after a verdict the server lost) waits on the device, unpushed.
//! - **accounts, devices, tokens and actors made after the backup**: gone. A device signed in
//!   after the backup is asked to sign in again; changes it made under the lost sign-in are
//!   refused as foreign actors when offered, and kept among its refused changes.
//! - **revocations and password changes made after the backup are undone** with the rest of
//!   the accounts: a device revoked since (a stolen phone) has a working token again. The
//!   operator revokes again what was revoked after the backup was taken.
//! - **attachments uploaded after the backup**: every device asks the server again which of
//!   its photos it holds and uploads those it lacks.
//! - **the audit log** of each chain ends where the backup was taken (both chains verify):
//!   entries after it are gone with the changes they recorded; the re-offered changes are
//!   logged again as they arrive.
//!
//! ## PostgreSQL
//!
//! A PostgreSQL deployment is backed up with PostgreSQL's own tools (`pg_dump`, base backups
//! and WAL archiving), which snapshot the whole database consistently; `backup` and `restore`
//! refuse it and say so. After restoring the database, and before starting any instance, the
//! operator runs `fieldsales-server new-epoch` ([`crate::records::postgres::renew_epochs`]):
//! every tenant's sequence gets a new epoch and the database a new identity, so each
//! instance rebuilds its read models (they followed the database past the backup).
//! `new-epoch` also serves a SQLite data folder restored by other means (a file-system
//! snapshot), with the server stopped.

mod manifest;
mod restore;
mod take;

pub use manifest::{FORMAT, FileEntry, FileKind, MANIFEST, Manifest};
pub use restore::{RestoreReport, restore};
pub use take::{BackupReport, take};

use std::path::PathBuf;

use crate::config::{Config, StorageEngine};
use crate::model::TenantId;

/// Why a backup, a restore or a new epoch failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The storage is PostgreSQL: its own tools back it up.
    #[error(
        "storage.engine is postgres: back the database up with PostgreSQL's own tools \
         (pg_dump, or base backups with WAL archiving), restore it with them, then run \
         `fieldsales-server new-epoch` before starting any instance"
    )]
    Postgres,
    /// The data folder does not exist or holds no accounts database.
    #[error("{path} holds no server data (no server.sqlite3): check data_dir")]
    NoData {
        /// The data folder.
        path: PathBuf,
    },
    /// The backup's target folder is not empty.
    #[error("{path} is not empty: back up into a new or empty folder")]
    TargetNotEmpty {
        /// The target.
        path: PathBuf,
    },
    /// The backup folder does not exist.
    #[error("{path}: no such backup folder")]
    NoBackup {
        /// The folder.
        path: PathBuf,
    },
    /// The backup folder has no manifest: the backup never finished.
    #[error(
        "{path} has no manifest.json: the backup never finished (or this is not a backup); \
         it cannot be restored"
    )]
    Unfinished {
        /// The folder.
        path: PathBuf,
    },
    /// The manifest cannot be read or describes something this build does not restore.
    #[error("{path}: not a manifest this program restores: {detail}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A file of the backup is missing or differs from the manifest.
    #[error("{path}: {detail}; the backup is damaged and was not restored")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// The data folder holds something and `--force` was not given.
    #[error(
        "{path} is not empty: restore into an empty data folder, or pass --force to move \
         what it holds aside first"
    )]
    DataNotEmpty {
        /// The data folder.
        path: PathBuf,
    },
    /// Something listens on the server's address: the server still runs.
    #[error("{addr} is in use: stop the server before restoring or renewing the epoch")]
    ServerRunning {
        /// The configured address.
        addr: std::net::SocketAddr,
    },
    /// A database could not be copied or changed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Storage failed (opening a restored tenant, PostgreSQL).
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// How far a backup or a restore has got, reported after each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// What is being done (`copied`, `checked`, `restored`).
    pub step: &'static str,
    /// The file just done, relative to the data folder.
    pub file: String,
    /// Files done of this step.
    pub files: usize,
    /// Files this step does.
    pub files_total: usize,
    /// Bytes done of this step.
    pub bytes: u64,
    /// Bytes this step does, when known beforehand.
    pub bytes_total: Option<u64>,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}/{} files, {}",
            self.step,
            self.files,
            self.files_total,
            human_bytes(self.bytes)
        )?;
        if let Some(total) = self.bytes_total {
            write!(f, " of {}", human_bytes(total))?;
        }
        write!(f, ": {}", self.file)
    }
}

/// Bytes for people: `812 B`, `4.2 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Refuses PostgreSQL storage: its own tools back it up.
fn sqlite_only(config: &Config) -> Result<(), BackupError> {
    match config.storage.engine {
        StorageEngine::Sqlite => Ok(()),
        StorageEngine::Postgres => Err(BackupError::Postgres),
    }
}

/// Refuses while something listens on the configured address: a server still running on
/// the data it would change.
fn server_stopped(config: &Config) -> Result<(), BackupError> {
    match std::net::TcpListener::bind(config.listen) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(BackupError::ServerRunning {
            addr: config.listen,
        }),
        // Not ours to judge (an address of another machine, no permission for a low port):
        // the operator stopped the server or knows better.
        Err(_) => Ok(()),
    }
}

/// Gives every tenant of the configured storage a new epoch, after the data was restored by
/// other means than [`restore`] (PostgreSQL's own tools, a file-system snapshot): every
/// device then syncs again from the start and offers what the server lacks. The server (every
/// instance) must be stopped. Returns each tenant with its new epoch.
pub async fn new_epoch(config: &Config) -> Result<Vec<(TenantId, u64)>, BackupError> {
    server_stopped(config)?;
    match (config.storage.engine, &config.storage.postgres) {
        (StorageEngine::Postgres, Some(pg)) => Ok(crate::records::postgres_renew_epochs(pg).await?),
        (StorageEngine::Postgres, None) => Err(BackupError::Store(
            crate::store::StoreError::Backend(Box::new(std::io::Error::other(
                "storage.engine is postgres but no storage.postgres_url is set",
            ))),
        )),
        (StorageEngine::Sqlite, _) => {
            let dir = config.data_dir.join(manifest::TENANTS);
            tokio::task::spawn_blocking(move || renew_tenant_epochs(&dir))
                .await
                .map_err(|e| BackupError::Io {
                    path: PathBuf::new(),
                    source: std::io::Error::other(e),
                })?
        }
    }
}

/// The upgrade of a server whose tenants were written before sensitive fields had companion
/// documents, with every server instance stopped: each record whose own document ever held a
/// sensitive value is re-created without it, its values in companions (see
/// [`crate::records::RecordStore::move_private_out`]), and every tenant then gets a new
/// epoch, so each device pulls everything again and replaces its copy of a re-created
/// record rather than merging the old history back. Returns, per tenant, the records
/// re-created and the new epoch. Running it again re-creates nothing.
pub async fn move_hidden_fields(
    config: &Config,
) -> Result<Vec<(TenantId, usize, u64)>, BackupError> {
    server_stopped(config)?;
    let records: Box<dyn crate::records::RecordStore> =
        match (config.storage.engine, &config.storage.postgres) {
            (StorageEngine::Postgres, Some(pg)) => Box::new(
                crate::records::PostgresRecords::open(
                    pg,
                    config.data_dir.join("read-models"),
                    None,
                )
                .await?,
            ),
            (StorageEngine::Postgres, None) => {
                return Err(BackupError::Store(crate::store::StoreError::Backend(
                    Box::new(std::io::Error::other(
                        "storage.engine is postgres but no storage.postgres_url is set",
                    )),
                )));
            }
            (StorageEngine::Sqlite, _) => Box::new(crate::records::SqliteRecords::new(
                config.data_dir.join(manifest::TENANTS),
            )),
        };
    let now = fieldsales_core::time::Clock::now(&fieldsales_core::time::SystemClock);
    let mut moved = Vec::new();
    for tenant in records.tenants().await? {
        moved.push((tenant, records.move_private_out(tenant, now).await?));
    }
    drop(records);
    let epochs = new_epoch(config).await?;
    Ok(moved
        .into_iter()
        .map(|(tenant, n)| {
            let epoch = epochs
                .iter()
                .find(|(t, _)| *t == tenant)
                .map_or(0, |(_, e)| *e);
            (tenant, n, epoch)
        })
        .collect())
}

/// Gives every tenant file under `dir` a new epoch.
fn renew_tenant_epochs(dir: &std::path::Path) -> Result<Vec<(TenantId, u64)>, BackupError> {
    let mut renewed = Vec::new();
    for name in take::list(dir)? {
        let Some(tenant) = name
            .strip_suffix(".sqlite3")
            .and_then(|id| id.parse::<TenantId>().ok())
        else {
            continue;
        };
        let epoch = crate::records::renew_sqlite_epoch(&dir.join(&name))?;
        renewed.push((tenant, epoch));
    }
    renewed.sort();
    Ok(renewed)
}
