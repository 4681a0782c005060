//! Taking a backup of a running server's data folder (see the module above).

use std::path::{Path, PathBuf};
use std::time::Duration;

use fieldsales_core::Timestamp;

use super::manifest::{
    self, ACCOUNTS, ATTACHMENTS, FileEntry, FileKind, Manifest, TENANTS, copy_hashed, hash_file,
    private_dir, private_file, sync_dir,
};
use super::{BackupError, Progress, sqlite_only};
use crate::config::Config;

/// How long a database copy waits for a lock (the server's writer checkpointing, say).
const BUSY: Duration = Duration::from_secs(60);

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The backup folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Attachments left out: an upload under way, or a file whose content does not match its
    /// name (damaged on the server's disk), with why.
    pub skipped: Skipped,
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |kind| {
            self.manifest
                .files
                .iter()
                .filter(|f| f.kind == kind)
                .count()
        };
        write!(
            f,
            "backup written to {}: accounts, {} tenant(s), {} attachment(s), {} in {} file(s)",
            self.dir.display(),
            count(FileKind::Tenant),
            count(FileKind::Attachment),
            super::human_bytes(self.manifest.total_bytes()),
            self.manifest.files.len()
        )?;
        for (path, why) in &self.skipped {
            write!(f, "\nleft out {path}: {why}")?;
        }
        Ok(())
    }
}

/// A file to copy.
struct Source {
    relative: String,
    kind: FileKind,
    path: PathBuf,
}

/// Backs up the data folder `config` names into `target` (created; it must be empty if it
/// exists) while the server may keep serving: every database copied consistently, then the
/// complete attachments, then the manifest. Blocking; `progress` hears of every file.
pub fn take(
    config: &Config,
    target: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<BackupReport, BackupError> {
    sqlite_only(config)?;
    let data = &config.data_dir;
    if !data.join(ACCOUNTS).is_file() {
        return Err(BackupError::NoData { path: data.clone() });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    match std::fs::read_dir(target) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::TargetNotEmpty {
                    path: target.to_owned(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(BackupError::Io {
                path: target.to_owned(),
                source,
            });
        }
    }
    private_dir(target).map_err(io(target))?;
    let started_at = Timestamp::now();

    let databases = databases(data)?;
    let mut files = Vec::new();
    let total = databases.len();
    let mut bytes = 0;
    for (n, source) in databases.iter().enumerate() {
        let to = manifest::under(target, &source.relative);
        if let Some(parent) = to.parent() {
            private_dir(parent).map_err(io(parent))?;
        }
        copy_database(&source.path, &to)?;
        let (len, sha256) = hash_file(&to).map_err(io(&to))?;
        bytes += len;
        files.push(FileEntry {
            path: source.relative.clone(),
            kind: source.kind,
            bytes: len,
            sha256,
        });
        progress(&Progress {
            step: "copied database",
            file: source.relative.clone(),
            files: n + 1,
            files_total: total,
            bytes,
            bytes_total: None,
        });
    }

    // Listed only now: every attachment a copied record names is complete by now.
    let (attachments, mut skipped) = attachments(data)?;
    let total = attachments.len();
    let bytes_total: u64 = attachments
        .iter()
        .filter_map(|a| std::fs::metadata(&a.path).ok())
        .map(|m| m.len())
        .sum();
    let mut bytes = 0;
    for (n, source) in attachments.iter().enumerate() {
        let to = manifest::under(target, &source.relative);
        if let Some(parent) = to.parent() {
            private_dir(parent).map_err(io(parent))?;
        }
        let (len, sha256) = match copy_hashed(&source.path, &to) {
            Ok(copied) => copied,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                skipped.push((source.relative.clone(), "gone while the backup ran".into()));
                continue;
            }
            Err(source) => return Err(BackupError::Io { path: to, source }),
        };
        let named = source.relative.rsplit('/').next().unwrap_or_default();
        if sha256 != named {
            std::fs::remove_file(&to).map_err(io(&to))?;
            tracing::warn!(file = %source.relative, "attachment damaged on the server's disk: left out");
            skipped.push((
                source.relative.clone(),
                format!("its content hashes to {sha256}, not to its name"),
            ));
            continue;
        }
        bytes += len;
        files.push(FileEntry {
            path: source.relative.clone(),
            kind: FileKind::Attachment,
            bytes: len,
            sha256,
        });
        progress(&Progress {
            step: "copied attachment",
            file: source.relative.clone(),
            files: n + 1,
            files_total: total,
            bytes,
            bytes_total: Some(bytes_total),
        });
    }
    sync_tree(target)?;

    let manifest = Manifest {
        format: manifest::FORMAT,
        started_at: started_at.to_string(),
        finished_at: Timestamp::now().to_string(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        storage: "sqlite".to_owned(),
        files,
    };
    manifest.write(target)?;
    Ok(BackupReport {
        dir: target.to_owned(),
        manifest,
        skipped,
    })
}

/// The databases of the data folder: the accounts first, then each tenant's file.
fn databases(data: &Path) -> Result<Vec<Source>, BackupError> {
    let mut found = vec![Source {
        relative: ACCOUNTS.to_owned(),
        kind: FileKind::Accounts,
        path: data.join(ACCOUNTS),
    }];
    let dir = data.join(TENANTS);
    let mut tenants = Vec::new();
    for name in list(&dir)? {
        let is_tenant = name
            .strip_suffix(".sqlite3")
            .is_some_and(|id| id.parse::<crate::model::TenantId>().is_ok());
        if is_tenant {
            tenants.push(Source {
                relative: format!("{TENANTS}/{name}"),
                kind: FileKind::Tenant,
                path: dir.join(&name),
            });
        }
    }
    tenants.sort_by(|a, b| a.relative.cmp(&b.relative));
    found.extend(tenants);
    Ok(found)
}

/// Files left out of a backup, with why.
type Skipped = Vec<(String, String)>;

/// The complete attachments of the data folder (named by 64 hex digits under a folder of
/// their first two), and the uploads under way left out.
fn attachments(data: &Path) -> Result<(Vec<Source>, Skipped), BackupError> {
    let root = data.join(ATTACHMENTS);
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for tenant in list(&root)? {
        if tenant.parse::<crate::model::TenantId>().is_err() {
            continue;
        }
        for prefix in list(&root.join(&tenant))? {
            for name in list(&root.join(&tenant).join(&prefix))? {
                let relative = format!("{ATTACHMENTS}/{tenant}/{prefix}/{name}");
                let complete = name.len() == 64
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                    && name.get(..2) == Some(prefix.as_str());
                if complete {
                    found.push(Source {
                        path: root.join(&tenant).join(&prefix).join(&name),
                        relative,
                        kind: FileKind::Attachment,
                    });
                } else if name.ends_with(".part") {
                    skipped.push((relative, "an upload under way".into()));
                }
            }
        }
    }
    found.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok((found, skipped))
}

/// The names in a folder (none when it does not exist).
pub(super) fn list(dir: &Path) -> Result<Vec<String>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(BackupError::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| BackupError::Io {
            path: dir.to_owned(),
            source,
        })?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// Copies the database at `from` into a new file `to` as one read transaction left it
/// (`VACUUM INTO`, beside the server's writer), owner-only, flushed to the disk.
fn copy_database(from: &Path, to: &Path) -> Result<(), BackupError> {
    let sqlite = |source| BackupError::Sqlite {
        path: from.to_owned(),
        source,
    };
    // Made empty and owner-only first: SQLite writes into an empty file as it finds it.
    drop(private_file(to).map_err(|source| BackupError::Io {
        path: to.to_owned(),
        source,
    })?);
    let conn = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    conn.busy_timeout(BUSY).map_err(sqlite)?;
    let target = to.to_str().ok_or_else(|| BackupError::Io {
        path: to.to_owned(),
        source: std::io::Error::other("the path is not UTF-8"),
    })?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(sqlite)?;
    drop(conn);
    // SQLite does not flush what VACUUM INTO wrote.
    std::fs::OpenOptions::new()
        .write(true)
        .open(to)
        .and_then(|f| f.sync_all())
        .map_err(|source| BackupError::Io {
            path: to.to_owned(),
            source,
        })
}

/// Flushes every folder under `root` (new entries reach the disk before the manifest says
/// the backup is whole).
fn sync_tree(root: &Path) -> Result<(), BackupError> {
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for name in list(&dir)? {
            let path = dir.join(name);
            if path.is_dir() {
                dirs.push(path);
            }
        }
        sync_dir(&dir).map_err(|source| BackupError::Io { path: dir, source })?;
    }
    Ok(())
}
