//! The manifest of a backup: what it holds, each file's size and SHA-256, written last so
//! that a backup without one is known to be unfinished.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BackupError;

/// The manifest's file name, at the top of a backup folder.
pub const MANIFEST: &str = "manifest.json";

/// The layout version of a backup folder this build writes and reads.
pub const FORMAT: u32 = 1;

/// The accounts database inside the data folder (and the backup).
pub(crate) const ACCOUNTS: &str = "server.sqlite3";
/// The folder of the tenants' record files.
pub(crate) const TENANTS: &str = "tenants";
/// The folder of the attachments.
pub(crate) const ATTACHMENTS: &str = "attachments";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The layout version ([`FORMAT`]).
    pub format: u32,
    /// When the backup started (RFC 3339, UTC): everything committed before it is in it,
    /// and some of what was committed while it ran (each database as it stood when it was
    /// copied).
    pub started_at: String,
    /// When it finished.
    pub finished_at: String,
    /// The version of the server program that wrote it.
    pub server_version: String,
    /// The storage it was taken from (`sqlite`).
    pub storage: String,
    /// Every file, with the path relative to the data folder (`/`-separated).
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Where it goes, relative to the data folder, `/`-separated.
    pub path: String,
    /// What it is.
    pub kind: FileKind,
    /// Its length in bytes.
    pub bytes: u64,
    /// The SHA-256 of its content, lower-case hex.
    pub sha256: String,
}

/// What a file of a backup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// The accounts database: tenants, accounts, devices, tokens, the accounts audit chain.
    Accounts,
    /// A tenant's records, their change sequence and the records audit chain.
    Tenant,
    /// A complete attachment (named by the SHA-256 of its content).
    Attachment,
}

impl Manifest {
    /// Total bytes of the files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Reads and checks the manifest of the backup folder `dir`: present (else the backup
    /// never finished), readable, of a format this build knows, every path one the data
    /// folder's layout has, the accounts database among them.
    pub fn read(dir: &Path) -> Result<Manifest, BackupError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BackupError::Unfinished {
                    path: dir.to_owned(),
                });
            }
            Err(source) => return Err(BackupError::Io { path, source }),
        };
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|e| BackupError::BadManifest {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        let bad = |detail: String| BackupError::BadManifest {
            path: path.clone(),
            detail,
        };
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "format {} (this program reads format {FORMAT})",
                manifest.format
            )));
        }
        if manifest.storage != "sqlite" {
            return Err(bad(format!("storage `{}`", manifest.storage)));
        }
        let mut seen = std::collections::HashSet::new();
        for file in &manifest.files {
            check_path(file).map_err(&bad)?;
            if !seen.insert(file.path.as_str()) {
                return Err(bad(format!("{} is listed twice", file.path)));
            }
        }
        if !manifest.files.iter().any(|f| f.kind == FileKind::Accounts) {
            return Err(bad(format!("no {ACCOUNTS}")));
        }
        Ok(manifest)
    }

    /// Writes the manifest into `dir` whole or not at all: a temporary file, flushed to the
    /// disk, renamed into place, the folder flushed.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), BackupError> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| BackupError::Io {
            path: dir.join(MANIFEST),
            source: std::io::Error::other(e),
        })?;
        let temporary = dir.join(format!("{MANIFEST}.writing"));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| BackupError::Io { path, source }
        };
        let mut file = private_file(&temporary).map_err(io(&temporary))?;
        file.write_all(&text).map_err(io(&temporary))?;
        file.sync_all().map_err(io(&temporary))?;
        drop(file);
        let path = dir.join(MANIFEST);
        std::fs::rename(&temporary, &path).map_err(io(&path))?;
        sync_dir(dir).map_err(io(dir))
    }
}

/// Checks that a listed file lies where the data folder's layout puts it: the accounts
/// database, a tenant's file (`tenants/<id>.sqlite3`) or an attachment
/// (`attachments/<tenant>/<2 hex>/<64 hex>`); never an absolute path or one that climbs out.
fn check_path(file: &FileEntry) -> Result<(), String> {
    let path = Path::new(&file.path);
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str().ok_or(()),
            _ => Err(()),
        })
        .collect::<Result<_, ()>>()
        .map_err(|()| format!("{} is not a path inside the data folder", file.path))?;
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let fits = match (file.kind, parts.as_slice()) {
        (FileKind::Accounts, [name]) => *name == ACCOUNTS,
        (FileKind::Tenant, [dir, name]) => {
            *dir == TENANTS
                && name
                    .strip_suffix(".sqlite3")
                    .is_some_and(|id| id.parse::<crate::model::TenantId>().is_ok())
        }
        (FileKind::Attachment, [dir, tenant, prefix, name]) => {
            *dir == ATTACHMENTS
                && tenant.parse::<crate::model::TenantId>().is_ok()
                && hex(name, 64)
                && name.get(..2) == Some(*prefix)
        }
        _ => false,
    };
    if !fits {
        return Err(format!(
            "{} is not where a {:?} file lives",
            file.path, file.kind
        ));
    }
    if !hex(&file.sha256, 64) {
        return Err(format!("{}: `{}` is not a SHA-256", file.path, file.sha256));
    }
    Ok(())
}

/// The path of a listed file under `root`.
pub(crate) fn under(root: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .fold(root.to_owned(), |p, part| p.join(part))
}

/// Creates (or truncates) a file only its owner may read and write (0600 on Unix).
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut permissions = file.metadata()?.permissions();
        if permissions.mode() & 0o077 != 0 {
            permissions.set_mode(0o600);
            file.set_permissions(permissions)?;
        }
    }
    Ok(file)
}

/// Creates a folder and its parents only their owner may enter (0700 on Unix).
pub(crate) fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Flushes a folder's entries to the disk (a rename or a new file inside it).
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(path)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Copies `from` to a new owner-only file `to`, hashing what it copies, and flushes it to
/// the disk; returns its length and SHA-256.
pub(crate) fn copy_hashed(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    let mut source = std::fs::File::open(from)?;
    let mut target = private_file(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        target.write_all(&buf[..n])?;
        bytes += n as u64;
    }
    target.sync_all()?;
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// The length and SHA-256 of a file.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: FileKind) -> FileEntry {
        FileEntry {
            path: path.into(),
            kind,
            bytes: 1,
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn only_the_data_folders_own_layout_is_accepted() {
        let tenant = crate::model::TenantId::new();
        let sha = "0f".repeat(32);
        for ok in [
            entry("server.sqlite3", FileKind::Accounts),
            entry(&format!("tenants/{tenant}.sqlite3"), FileKind::Tenant),
            entry(
                &format!("attachments/{tenant}/0f/{sha}"),
                FileKind::Attachment,
            ),
        ] {
            assert_eq!(check_path(&ok), Ok(()), "{ok:?}");
        }
        for bad in [
            entry("/etc/passwd", FileKind::Accounts),
            entry("../server.sqlite3", FileKind::Accounts),
            entry("tenants/../../x.sqlite3", FileKind::Tenant),
            entry("tenants/not-a-tenant.sqlite3", FileKind::Tenant),
            entry(&format!("tenants/{tenant}.sqlite3"), FileKind::Accounts),
            entry(
                &format!("attachments/{tenant}/00/{sha}"),
                FileKind::Attachment,
            ),
            entry(
                &format!("attachments/{tenant}/0f/{sha}.part"),
                FileKind::Attachment,
            ),
        ] {
            assert!(check_path(&bad).is_err(), "{bad:?} accepted");
        }
        let mut no_hash = entry("server.sqlite3", FileKind::Accounts);
        no_hash.sha256 = "not a hash".into();
        assert!(check_path(&no_hash).is_err());
    }
}
