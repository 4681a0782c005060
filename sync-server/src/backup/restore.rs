//! Restoring a backup into the data folder of a stopped server (see the module above).

use std::path::{Path, PathBuf};

use fieldsales_core::Timestamp;

use super::manifest::{self, FileKind, Manifest, copy_hashed, hash_file, private_dir, sync_dir};
use super::{BackupError, Progress, server_stopped, sqlite_only};
use crate::config::Config;
use crate::model::TenantId;

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The data folder restored.
    pub data_dir: PathBuf,
    /// The manifest of the backup restored.
    pub manifest: Manifest,
    /// Each tenant restored, with the new epoch of its change sequence.
    pub epochs: Vec<(TenantId, u64)>,
    /// Where what the data folder held before was moved (`--force`).
    pub moved_aside: Option<PathBuf>,
}

impl std::fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "restored {} file(s), {}, taken {} – {}, into {}",
            self.manifest.files.len(),
            super::human_bytes(self.manifest.total_bytes()),
            self.manifest.started_at,
            self.manifest.finished_at,
            self.data_dir.display()
        )?;
        for (tenant, epoch) in &self.epochs {
            write!(f, "\ntenant {tenant}: new epoch {epoch:016x}")?;
        }
        if let Some(aside) = &self.moved_aside {
            write!(f, "\nwhat the data folder held is in {}", aside.display())?;
        }
        Ok(())
    }
}

/// Restores the backup in `from` into the data folder `config` names, with the server
/// stopped: checks the manifest and every file first, refuses a data folder that holds
/// anything unless `force` (then moved aside, never deleted), copies into a new folder
/// beside it, gives every tenant a new epoch, and renames the new folder into place.
/// Blocking; `progress` hears of every file.
pub fn restore(
    config: &Config,
    from: &Path,
    force: bool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RestoreReport, BackupError> {
    sqlite_only(config)?;
    if !from.is_dir() {
        return Err(BackupError::NoBackup {
            path: from.to_owned(),
        });
    }
    let manifest = Manifest::read(from)?;
    verify(from, &manifest, progress)?;

    let data = config.data_dir.clone();
    server_stopped(config)?;
    let occupied = match std::fs::read_dir(&data) {
        Ok(mut entries) => Some(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(BackupError::Io { path: data, source }),
    };
    if occupied == Some(true) && !force {
        return Err(BackupError::DataNotEmpty { path: data });
    }

    let stamp = Timestamp::now().millis();
    let staging = sibling(&data, &format!("restoring-{stamp}"))?;
    let restored = fill(from, &manifest, &staging, progress).and_then(|()| {
        // New epochs before the folder goes into place: no server ever serves these files
        // under the epoch devices already know.
        let mut epochs = Vec::new();
        for file in &manifest.files {
            if file.kind == FileKind::Tenant {
                let path = manifest::under(&staging, &file.path);
                let tenant = file
                    .path
                    .trim_start_matches("tenants/")
                    .trim_end_matches(".sqlite3")
                    .parse::<TenantId>()
                    .map_err(|e| BackupError::BadManifest {
                        path: from.join(manifest::MANIFEST),
                        detail: e.to_string(),
                    })?;
                epochs.push((tenant, crate::records::renew_sqlite_epoch(&path)?));
            }
        }
        Ok(epochs)
    });
    let epochs = match restored {
        Ok(epochs) => epochs,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };

    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    let moved_aside = match occupied {
        Some(true) => {
            let aside = sibling(&data, &format!("before-restore-{stamp}"))?;
            std::fs::remove_dir(&aside).map_err(io(&aside))?;
            std::fs::rename(&data, &aside).map_err(io(&data))?;
            Some(aside)
        }
        Some(false) => {
            std::fs::remove_dir(&data).map_err(io(&data))?;
            None
        }
        None => None,
    };
    std::fs::rename(&staging, &data).map_err(io(&data))?;
    if let Some(parent) = data.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent).map_err(io(parent))?;
    }
    Ok(RestoreReport {
        data_dir: data,
        manifest,
        epochs,
        moved_aside,
    })
}

/// Checks every file of the backup against the manifest: present, of its size and SHA-256.
fn verify(
    from: &Path,
    manifest: &Manifest,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), BackupError> {
    let total = manifest.total_bytes();
    let mut bytes = 0;
    for (n, file) in manifest.files.iter().enumerate() {
        let path = manifest::under(from, &file.path);
        let (len, sha256) = match hash_file(&path) {
            Ok(found) => found,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BackupError::Damaged {
                    path,
                    detail: "missing".into(),
                });
            }
            Err(source) => return Err(BackupError::Io { path, source }),
        };
        check(&path, file, len, &sha256)?;
        bytes += len;
        progress(&Progress {
            step: "checked",
            file: file.path.clone(),
            files: n + 1,
            files_total: manifest.files.len(),
            bytes,
            bytes_total: Some(total),
        });
    }
    Ok(())
}

fn check(
    path: &Path,
    file: &manifest::FileEntry,
    len: u64,
    sha256: &str,
) -> Result<(), BackupError> {
    if len != file.bytes {
        return Err(BackupError::Damaged {
            path: path.to_owned(),
            detail: format!("{len} bytes, the manifest says {}", file.bytes),
        });
    }
    if sha256 != file.sha256 {
        return Err(BackupError::Damaged {
            path: path.to_owned(),
            detail: format!("SHA-256 {sha256}, the manifest says {}", file.sha256),
        });
    }
    Ok(())
}

/// Copies every file of the backup into `staging` (owner-only), checking each again as it is
/// copied (the backup may have changed since it was checked).
fn fill(
    from: &Path,
    manifest: &Manifest,
    staging: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), BackupError> {
    let total = manifest.total_bytes();
    let mut bytes = 0;
    for (n, file) in manifest.files.iter().enumerate() {
        let source = manifest::under(from, &file.path);
        let target = manifest::under(staging, &file.path);
        if let Some(parent) = target.parent() {
            private_dir(parent).map_err(|source| BackupError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        let (len, sha256) = copy_hashed(&source, &target).map_err(|e| BackupError::Io {
            path: source.clone(),
            source: e,
        })?;
        check(&source, file, len, &sha256)?;
        bytes += len;
        progress(&Progress {
            step: "restored",
            file: file.path.clone(),
            files: n + 1,
            files_total: manifest.files.len(),
            bytes,
            bytes_total: Some(total),
        });
    }
    let mut dirs = vec![staging.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| BackupError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(entry.path());
            }
        }
        sync_dir(&dir).map_err(|source| BackupError::Io { path: dir, source })?;
    }
    Ok(())
}

/// A new owner-only folder beside `data`, named after it with `suffix`.
fn sibling(data: &Path, suffix: &str) -> Result<PathBuf, BackupError> {
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    let parent = match data.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let path = parent.join(format!("{name}.{suffix}"));
    private_dir(&parent).map_err(|source| BackupError::Io {
        path: parent.clone(),
        source,
    })?;
    // Created here, never one that exists: a folder of an earlier attempt is left alone.
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&path).map_err(|source| BackupError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
