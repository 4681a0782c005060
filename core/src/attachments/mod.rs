//! Photos and files, kept outside the Automerge documents by the SHA-256 of their content.
//!
//! A visit photo is megabytes; a record document is kilobytes and is synced, merged and kept
//! forever with its whole history. So a record only holds an [`AttachmentRef`] (hash, size,
//! type), and the bytes live in a folder beside the store file, one file per hash, uploaded
//! and downloaded on their own schedule (Wi-Fi, resumable) by [`client`]. Naming files by
//! their hash makes a copy verifiable, deduplicates the same photo attached twice, and lets
//! the reused-photo rule find a photo shown for two visits.
//!
//! Writes go to a temporary file first and are renamed into place, so a crash never leaves a
//! file whose content does not match its name.

pub mod client;
mod seal;
pub mod session;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::record::visit::AttachmentRef;
use crate::rule::RuleCode;
use crate::store::Store;
use crate::{Error, Result, Timestamp};

/// The longest MIME type kept.
const MAX_MIME_CHARS: usize = 100;

/// The content-addressed files of one store.
#[derive(Debug, Clone)]
pub struct Attachments {
    dir: PathBuf,
    max_bytes: u64,
    /// The photo cipher of an encrypted store: every file is sealed ([`seal`]).
    seal: Option<Arc<seal::Seal>>,
}

/// An attachment this device holds whose upload has not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    /// The attachment.
    pub attachment: AttachmentRef,
    /// Bytes the server is known to hold.
    pub uploaded_bytes: u64,
}

/// Where one attachment of this device stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentStatus {
    /// The attachment.
    pub attachment: AttachmentRef,
    /// Whether its bytes still have to reach the server.
    pub upload: UploadState,
    /// Bytes the server is known to hold.
    pub uploaded_bytes: u64,
    /// When this device stored it.
    pub stored_at: Timestamp,
    /// When the server confirmed the whole content (or when it was downloaded from it).
    pub uploaded_at: Option<Timestamp>,
}

/// How far an attachment's upload got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    /// Nothing sent yet.
    Pending,
    /// Part sent; the next upload continues from there.
    Partial,
    /// The server holds the whole, verified content.
    Uploaded,
}

impl UploadState {
    /// The state's stable code: `pending`, `partial` or `uploaded`.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Pending => "pending",
            UploadState::Partial => "partial",
            UploadState::Uploaded => "uploaded",
        }
    }
}

/// Whether `s` is a SHA-256 in lower-case hex, as attachment names are.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn bad_hash(sha256: &str) -> Error {
    Error::InvalidInput {
        field: "sha256",
        detail: format!(
            "`{}` is not a SHA-256 in lower-case hex",
            sha256.chars().take(80).collect::<String>()
        ),
    }
}

impl Attachments {
    /// The attachment folder beside `store`'s file (`<file>.attachments`), created if needed;
    /// files larger than `max_bytes` are refused.
    pub fn beside(store: &Store, max_bytes: u64) -> Result<Attachments> {
        let Some(path) = store.path() else {
            return Err(Error::InvalidInput {
                field: "store",
                detail: "an in-memory store has no folder for attachments".into(),
            });
        };
        let mut files = Self::open(folder_beside(path), max_bytes)?;
        files.seal = store
            .attachment_key()?
            .map(|key| Arc::new(seal::Seal::new(&key)));
        Ok(files)
    }

    /// The attachment folder at `dir`, created if needed; its files are plain.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<Attachments> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(Attachments {
            dir,
            max_bytes,
            seal: None,
        })
    }

    /// Whether the files are sealed (the store is encrypted).
    pub fn is_sealed(&self) -> bool {
        self.seal.is_some()
    }

    /// `len` bytes of the content of `sha256` from `offset` (fewer at its end), for an upload.
    pub(crate) fn read_range(&self, sha256: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let mut file = fs::File::open(self.path_of(sha256)?)?;
        match &self.seal {
            Some(seal) if seal.is_sealed(&mut file)? => {
                Ok(seal.read_range(&mut file, offset, len)?)
            }
            _ => {
                use std::io::{Seek, SeekFrom};
                file.seek(SeekFrom::Start(offset))?;
                let mut chunk = Vec::new();
                file.take(len).read_to_end(&mut chunk)?;
                Ok(chunk)
            }
        }
    }

    /// Starts a file of content: the sealed file's header, or nothing.
    pub(crate) fn begin(&self, out: &mut fs::File) -> std::io::Result<()> {
        match &self.seal {
            Some(seal) => seal.begin(out),
            None => Ok(()),
        }
    }

    /// Appends content to a file begun with [`Attachments::begin`].
    pub(crate) fn append(&self, out: &mut fs::File, bytes: &[u8]) -> std::io::Result<()> {
        match &self.seal {
            Some(seal) => seal.append(out, bytes),
            None => out.write_all(bytes),
        }
    }

    /// The content of the file at `path`: sealed, or plain (in a sealed folder, a photo
    /// stored before the store was encrypted and not sealed yet; its hash still vouches for it).
    pub(crate) fn read_content(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match &self.seal {
            Some(seal) => {
                let mut file = fs::File::open(path)?;
                if seal.is_sealed(&mut file)? {
                    seal.open_all(&mut file)
                } else {
                    fs::read(path)
                }
            }
            None => fs::read(path),
        }
    }

    /// Seals every plain file of a sealed folder (the photos of a store encrypted in place),
    /// each written whole beside it and renamed over it; a file whose content no longer
    /// matches its name is removed, as [`Attachments::get`] would. Returns how many were
    /// sealed.
    #[cfg(feature = "encryption")]
    pub(crate) fn seal_plain_files(&self) -> Result<usize> {
        let Some(seal) = &self.seal else {
            return Ok(0);
        };
        let mut sealed = 0;
        for shard in fs::read_dir(&self.dir)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(shard.path())? {
                let path = entry?.path();
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if !is_sha256_hex(name) || seal.is_sealed(&mut fs::File::open(&path)?)? {
                    // Downloads under way (`.part`) start again sealed.
                    continue;
                }
                let bytes = fs::read(&path)?;
                if sha256_hex(&bytes) != name {
                    fs::remove_file(&path)?;
                    continue;
                }
                write_atomically(&path, |f| {
                    seal.begin(f)?;
                    seal.append(f, &bytes)
                })?;
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    /// How much content a download cut short kept at `part`, with any record a crash tore
    /// cut off; 0 when there is none.
    pub(crate) fn partial_content(&self, part: &Path) -> std::io::Result<u64> {
        match &self.seal {
            Some(seal) => {
                let mut file = match fs::OpenOptions::new().read(true).write(true).open(part) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                    Err(e) => return Err(e),
                };
                let (content, whole) = seal.whole_records(&mut file)?;
                file.set_len(whole)?;
                Ok(content)
            }
            None => Ok(fs::metadata(part).map(|m| m.len()).unwrap_or(0)),
        }
    }

    /// The largest attachment accepted, bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where the content of `sha256` lives (whether or not it is there).
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        if !is_sha256_hex(sha256) {
            return Err(bad_hash(sha256));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Where a download of `sha256` collects its bytes until it is verified.
    pub(crate) fn partial_path_of(&self, sha256: &str) -> Result<PathBuf> {
        let mut p = self.path_of(sha256)?.into_os_string();
        p.push(".part");
        Ok(PathBuf::from(p))
    }

    /// Whether the content of `sha256` is on this device.
    pub fn has(&self, sha256: &str) -> Result<bool> {
        Ok(self.path_of(sha256)?.is_file())
    }

    /// Stores `bytes` and records it for upload; the same content stored twice is kept once.
    pub fn put(&self, store: &mut Store, bytes: &[u8], mime: &str) -> Result<AttachmentRef> {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.check_size(size)?;
        let mime = check_mime(mime)?;
        let sha256 = sha256_hex(bytes);
        let path = self.path_of(&sha256)?;
        if !path.is_file() {
            write_atomically(&path, |f| {
                self.begin(f)?;
                self.append(f, bytes)
            })?;
        }
        let attachment = AttachmentRef {
            sha256,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            mime,
        };
        record(store, &attachment)?;
        Ok(attachment)
    }

    /// Stores the file at `source` (a photo the camera wrote), reading it once.
    pub fn put_file(&self, store: &mut Store, source: &Path, mime: &str) -> Result<AttachmentRef> {
        let size = fs::metadata(source)?.len();
        self.check_size(size)?;
        let mime = check_mime(mime)?;
        let tmp = self
            .dir
            .join(format!(".incoming-{}", crate::RecordId::new()));
        let mut hasher = Sha256::new();
        let copied = (|| -> Result<u64> {
            let mut input = fs::File::open(source)?;
            let mut out = fs::File::create(&tmp)?;
            self.begin(&mut out)?;
            let mut buf = vec![0u8; seal::RECORD_BYTES];
            let mut total = 0u64;
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                total += n as u64;
                self.check_size(total)?;
                hasher.update(&buf[..n]);
                self.append(&mut out, &buf[..n])?;
            }
            out.sync_all()?;
            Ok(total)
        })();
        let total = match copied {
            Ok(t) => t,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let sha256 = hex::encode(hasher.finalize());
        let path = self.path_of(&sha256)?;
        if path.is_file() {
            fs::remove_file(&tmp)?;
        } else {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::rename(&tmp, &path)?;
        }
        let attachment = AttachmentRef {
            sha256,
            size: i64::try_from(total).unwrap_or(i64::MAX),
            mime,
        };
        record(store, &attachment)?;
        Ok(attachment)
    }

    /// The content of `sha256`, if this device holds it; a file whose content no longer
    /// matches its hash (a damaged disk) is removed and reported.
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(sha256)?;
        let bytes = match self.read_content(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            // A sealed file that does not open is damaged like one whose hash is wrong.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => None,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
            Err(e) => return Err(e.into()),
        };
        match bytes {
            Some(bytes) if sha256_hex(&bytes) == sha256 => Ok(Some(bytes)),
            _ => {
                fs::remove_file(&path)?;
                Err(Error::rule(
                    RuleCode::AttachmentDamaged,
                    format!("the stored copy of {sha256} was damaged and has been removed"),
                ))
            }
        }
    }

    /// Attachments this device stored whose upload has not finished, oldest first.
    pub fn pending_uploads(&self, store: &Store) -> Result<Vec<PendingUpload>> {
        let mut stmt = store.connection().prepare_cached(
            "SELECT sha256, size, mime, uploaded_bytes FROM attachments
             WHERE uploaded_at IS NULL ORDER BY stored_at, sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingUpload {
                attachment: AttachmentRef {
                    sha256: r.get(0)?,
                    size: r.get(1)?,
                    mime: r.get(2)?,
                },
                uploaded_bytes: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records how much of `sha256` the server holds; `complete` once it has all of it.
    pub fn mark_uploaded(
        &self,
        store: &mut Store,
        sha256: &str,
        bytes: u64,
        complete: bool,
    ) -> Result<()> {
        if !is_sha256_hex(sha256) {
            return Err(bad_hash(sha256));
        }
        let now = store.clock().now();
        store.transaction(|tx| {
            tx.connection()
                .prepare_cached(
                    "UPDATE attachments SET uploaded_bytes = ?2,
                         uploaded_at = CASE WHEN ?3 THEN ?4 ELSE NULL END
                     WHERE sha256 = ?1",
                )?
                .execute(params![
                    sha256,
                    i64::try_from(bytes).unwrap_or(i64::MAX),
                    complete,
                    now
                ])?;
            Ok(())
        })
    }

    /// The recorded attachment of `sha256`, if this device stored or downloaded it.
    pub fn known(&self, store: &Store, sha256: &str) -> Result<Option<AttachmentRef>> {
        Ok(store
            .connection()
            .prepare_cached("SELECT size, mime FROM attachments WHERE sha256 = ?1")?
            .query_row([sha256], |r| {
                Ok(AttachmentRef {
                    sha256: sha256.to_string(),
                    size: r.get(0)?,
                    mime: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Every attachment this device holds, with its upload state, oldest first.
    pub fn statuses(&self, store: &Store) -> Result<Vec<AttachmentStatus>> {
        let mut stmt = store
            .connection()
            .prepare_cached(&format!("{STATUS_SELECT} ORDER BY stored_at, sha256"))?;
        let rows = stmt.query_map([], status_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Where the attachment `sha256` stands, if this device holds it.
    pub fn status(&self, store: &Store, sha256: &str) -> Result<Option<AttachmentStatus>> {
        if !is_sha256_hex(sha256) {
            return Err(bad_hash(sha256));
        }
        Ok(store
            .connection()
            .prepare_cached(&format!("{STATUS_SELECT} WHERE sha256 = ?1"))?
            .query_row([sha256], status_row)
            .optional()?)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.max_bytes {
            return Err(Error::rule(
                RuleCode::AttachmentTooLarge,
                format!("{size} bytes is over the {} byte limit", self.max_bytes),
            ));
        }
        Ok(())
    }
}

const STATUS_SELECT: &str =
    "SELECT sha256, size, mime, uploaded_bytes, stored_at, uploaded_at FROM attachments";

fn status_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentStatus> {
    let uploaded_bytes = u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0);
    let uploaded_at: Option<Timestamp> = r.get(5)?;
    let upload = match (uploaded_at, uploaded_bytes) {
        (Some(_), _) => UploadState::Uploaded,
        (None, 0) => UploadState::Pending,
        (None, _) => UploadState::Partial,
    };
    Ok(AttachmentStatus {
        attachment: AttachmentRef {
            sha256: r.get(0)?,
            size: r.get(1)?,
            mime: r.get(2)?,
        },
        upload,
        uploaded_bytes,
        stored_at: r.get(4)?,
        uploaded_at,
    })
}

/// Records a stored attachment; one downloaded from the server is already uploaded.
fn record(store: &mut Store, a: &AttachmentRef) -> Result<()> {
    record_with(store, a, None)
}

pub(crate) fn record_with(
    store: &mut Store,
    a: &AttachmentRef,
    uploaded_at: Option<Timestamp>,
) -> Result<()> {
    let now = store.clock().now();
    store.transaction(|tx| {
        tx.connection()
            .prepare_cached(
                "INSERT INTO attachments (sha256, size, mime, stored_at, uploaded_bytes, uploaded_at)
                 VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 IS NULL THEN 0 ELSE ?2 END, ?5)
                 ON CONFLICT(sha256) DO NOTHING",
            )?
            .execute(params![a.sha256, a.size, a.mime, now, uploaded_at])?;
        Ok(())
    })
}

fn check_mime(mime: &str) -> Result<String> {
    let mime = mime.trim();
    let ok = !mime.is_empty()
        && mime.chars().count() <= MAX_MIME_CHARS
        && mime.contains('/')
        && mime.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(Error::InvalidInput {
            field: "mime",
            detail: format!(
                "`{}` is not a MIME type such as image/jpeg",
                mime.chars().take(MAX_MIME_CHARS).collect::<String>()
            ),
        });
    }
    Ok(mime.to_ascii_lowercase())
}

/// The attachment folder of the store file at `store`: `<file>.attachments` beside it.
pub fn folder_beside(store: &Path) -> PathBuf {
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".attachments");
    store.with_file_name(name)
}

/// Writes a file through a temporary beside it and a rename.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().ok_or_else(|| Error::InvalidInput {
        field: "path",
        detail: "an attachment path has a folder".into(),
    })?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".incoming-{}", crate::RecordId::new()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A download into a sealed folder cut short keeps its whole records (a record torn by
    /// a crash is cut off), resumes after them, and ranges read across records.
    #[cfg(feature = "encryption")]
    #[test]
    fn a_sealed_download_cut_short_keeps_its_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::store::StoreKey::generate().unwrap();
        let store = Store::open_encrypted(dir.path().join("rep.sqlite"), &key).unwrap();
        let files = Attachments::beside(&store, 1 << 20).unwrap();
        let content: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
        let sha256 = sha256_hex(&content);
        let part = files.partial_path_of(&sha256).unwrap();
        fs::create_dir_all(part.parent().unwrap()).unwrap();
        let mut out = fs::File::create(&part).unwrap();
        files.begin(&mut out).unwrap();
        files.append(&mut out, &content[..70_000]).unwrap();
        files.append(&mut out, &content[70_000..100_000]).unwrap();
        let whole = out.metadata().unwrap().len();
        // The crash: half a record's header and nonce.
        out.write_all(&[0x10, 0x27, 0, 0, 1, 2, 3, 4, 5]).unwrap();
        drop(out);
        assert_eq!(files.partial_content(&part).unwrap(), 100_000);
        assert_eq!(
            fs::metadata(&part).unwrap().len(),
            whole,
            "the torn record is cut off"
        );
        let mut out = fs::OpenOptions::new().append(true).open(&part).unwrap();
        files.append(&mut out, &content[100_000..]).unwrap();
        drop(out);
        assert_eq!(files.read_content(&part).unwrap(), content);
        fs::rename(&part, files.path_of(&sha256).unwrap()).unwrap();
        for (offset, len) in [(0, 10), (65_000, 10_000), (65_536, 65_536), (149_990, 100)] {
            let end = (offset + len).min(content.len());
            assert_eq!(
                files
                    .read_range(&sha256, offset as u64, len as u64)
                    .unwrap(),
                &content[offset..end],
                "{offset}+{len}"
            );
        }
        assert_eq!(
            files.partial_content(&part).unwrap(),
            0,
            "no partial file left"
        );
    }

    fn store_in(dir: &Path) -> Store {
        Store::open(dir.join("rep.sqlite")).unwrap()
    }

    #[test]
    fn a_photo_is_kept_once_by_its_hash_beside_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_in(dir.path());
        let files = Attachments::beside(&store, 1_000).unwrap();
        let a = files.put(&mut store, b"jpeg bytes", "image/JPEG").unwrap();
        assert_eq!(a.sha256, sha256_hex(b"jpeg bytes"));
        assert_eq!((a.size, a.mime.as_str()), (10, "image/jpeg"));
        assert!(
            files
                .path_of(&a.sha256)
                .unwrap()
                .starts_with(dir.path().join("rep.sqlite.attachments"))
        );
        let again = files.put(&mut store, b"jpeg bytes", "image/jpeg").unwrap();
        assert_eq!(again, a);
        assert_eq!(files.get(&a.sha256).unwrap().unwrap(), b"jpeg bytes");
        assert_eq!(files.pending_uploads(&store).unwrap().len(), 1);
        files
            .mark_uploaded(&mut store, &a.sha256, 10, true)
            .unwrap();
        assert!(files.pending_uploads(&store).unwrap().is_empty());
    }

    #[test]
    fn each_photo_shows_whether_its_upload_is_pending_partial_or_done() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_in(dir.path());
        let files = Attachments::beside(&store, 1_000).unwrap();
        let shelf = files.put(&mut store, b"shelf photo", "image/jpeg").unwrap();
        let door = files
            .put(&mut store, b"shop door photo", "image/jpeg")
            .unwrap();
        let receipt = files.put(&mut store, b"receipt", "image/png").unwrap();
        files
            .mark_uploaded(&mut store, &door.sha256, 4, false)
            .unwrap();
        files
            .mark_uploaded(&mut store, &receipt.sha256, 7, true)
            .unwrap();
        let state = |sha: &str| {
            let s = files.status(&store, sha).unwrap().unwrap();
            (s.upload, s.uploaded_bytes, s.uploaded_at.is_some())
        };
        assert_eq!(state(&shelf.sha256), (UploadState::Pending, 0, false));
        assert_eq!(state(&door.sha256), (UploadState::Partial, 4, false));
        assert_eq!(state(&receipt.sha256), (UploadState::Uploaded, 7, true));
        let all = files.statuses(&store).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all.iter()
                .filter(|s| s.upload == UploadState::Uploaded)
                .count(),
            1
        );
        assert_eq!(
            files.status(&store, &sha256_hex(b"never stored")).unwrap(),
            None
        );
        assert!(matches!(
            files.status(&store, "not-a-hash").unwrap_err(),
            Error::InvalidInput {
                field: "sha256",
                ..
            }
        ));
    }

    #[test]
    fn a_photo_over_the_limit_and_a_bad_hash_or_type_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_in(dir.path());
        let files = Attachments::beside(&store, 4).unwrap();
        let err = files.put(&mut store, b"12345", "image/jpeg").unwrap_err();
        assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "attachment.too_large"));
        assert!(matches!(
            files.path_of("../../etc/passwd").unwrap_err(),
            Error::InvalidInput {
                field: "sha256",
                ..
            }
        ));
        assert!(matches!(
            files.put(&mut store, b"1", "jpeg").unwrap_err(),
            Error::InvalidInput { field: "mime", .. }
        ));
    }

    #[test]
    fn a_damaged_copy_is_removed_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_in(dir.path());
        let files = Attachments::beside(&store, 1_000).unwrap();
        let a = files
            .put_file(
                &mut store,
                &{
                    let p = dir.path().join("photo.jpg");
                    fs::write(&p, b"camera output").unwrap();
                    p
                },
                "image/jpeg",
            )
            .unwrap();
        assert_eq!(a.sha256, sha256_hex(b"camera output"));
        fs::write(files.path_of(&a.sha256).unwrap(), b"bit rot").unwrap();
        let err = files.get(&a.sha256).unwrap_err();
        assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "attachment.damaged"));
        assert!(!files.has(&a.sha256).unwrap());
    }
}
