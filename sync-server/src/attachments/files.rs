//! Attachments as files: `<dir>/<tenant>/<first two hex digits>/<sha256>`, an upload under
//! way beside it as `<sha256>.part`, renamed once verified. Every write reaches the disk
//! before it is acknowledged. Files are the owner's only (0600, folders 0700): they are
//! customers' photos.
//!
//! This store serves one server process, so an upload's lock is a mutex per attachment in
//! memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{AttachmentStore, Hasher, Held, UploadLock};
use crate::model::TenantId;
use crate::store::StoreError;

/// Attachments under a directory.
#[derive(Debug, Clone)]
pub struct FileAttachments {
    dir: PathBuf,
    /// One mutex per attachment with an upload under way (entries die with their last guard).
    uploads: Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

struct Paths {
    complete: PathBuf,
    partial: PathBuf,
}

impl FileAttachments {
    /// Attachments under `dir` (created as needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileAttachments {
            dir: dir.into(),
            uploads: Arc::default(),
        }
    }

    /// The mutex of one attachment's uploads.
    fn upload_mutex(&self, tenant: TenantId, sha256: &str) -> Arc<tokio::sync::Mutex<()>> {
        let key = format!("{tenant}/{sha256}");
        let mut uploads = self.uploads.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mutex) = uploads.get(&key).and_then(Weak::upgrade) {
            return mutex;
        }
        uploads.retain(|_, m| m.strong_count() > 0);
        let mutex = Arc::new(tokio::sync::Mutex::new(()));
        uploads.insert(key, Arc::downgrade(&mutex));
        mutex
    }

    fn paths(&self, tenant: TenantId, sha256: &str) -> Paths {
        let dir = self
            .dir
            .join(tenant.to_string())
            .join(sha256.get(..2).unwrap_or("00"));
        Paths {
            complete: dir.join(sha256),
            partial: dir.join(format!("{sha256}.part")),
        }
    }
}

async fn len_of(path: &PathBuf) -> Result<Option<u64>, StoreError> {
    match tokio::fs::metadata(path).await {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

async fn remove(path: &PathBuf) -> Result<(), StoreError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// Creates `dir` and its parents, owner-only.
async fn private_dir(dir: &std::path::Path) -> Result<(), StoreError> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await.map_err(io)
}

#[async_trait]
impl AttachmentStore for FileAttachments {
    async fn lock(&self, tenant: TenantId, sha256: &str) -> Result<UploadLock, StoreError> {
        let guard = self.upload_mutex(tenant, sha256).lock_owned().await;
        Ok(UploadLock::new(guard))
    }

    async fn held(&self, tenant: TenantId, sha256: &str) -> Result<Held, StoreError> {
        let p = self.paths(tenant, sha256);
        if let Some(len) = len_of(&p.complete).await? {
            return Ok(Held::Complete(len));
        }
        Ok(match len_of(&p.partial).await? {
            Some(len) => Held::Partial(len),
            None => Held::Nothing,
        })
    }

    async fn append(
        &self,
        tenant: TenantId,
        sha256: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let p = self.paths(tenant, sha256);
        if let Some(dir) = p.partial.parent() {
            private_dir(dir).await?;
        }
        let mut options = tokio::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&p.partial).await.map_err(io)?;
        file.set_len(offset).await.map_err(io)?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io)?;
        file.write_all(bytes).await.map_err(io)?;
        file.flush().await.map_err(io)?;
        file.sync_all().await.map_err(io)
    }

    async fn truncate(&self, tenant: TenantId, sha256: &str, len: u64) -> Result<(), StoreError> {
        let p = self.paths(tenant, sha256);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&p.partial)
            .await
            .map_err(io)?;
        file.set_len(len).await.map_err(io)
    }

    async fn discard(&self, tenant: TenantId, sha256: &str) -> Result<(), StoreError> {
        remove(&self.paths(tenant, sha256).partial).await
    }

    async fn complete(&self, tenant: TenantId, sha256: &str) -> Result<bool, StoreError> {
        let p = self.paths(tenant, sha256);
        let mut file = tokio::fs::File::open(&p.partial).await.map_err(io)?;
        let mut hasher = Hasher::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).await.map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        if hasher.hex() != sha256 {
            remove(&p.partial).await?;
            return Ok(false);
        }
        tokio::fs::rename(&p.partial, &p.complete)
            .await
            .map_err(io)?;
        Ok(true)
    }

    async fn read(
        &self,
        tenant: TenantId,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        let p = self.paths(tenant, sha256);
        let mut f = tokio::fs::File::open(&p.complete).await.map_err(io)?;
        f.seek(std::io::SeekFrom::Start(start)).await.map_err(io)?;
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        f.take(len).read_to_end(&mut bytes).await.map_err(io)?;
        Ok(bytes)
    }
}
