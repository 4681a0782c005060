//! Attachments as files: `<dir>/<tenant>/<first two hex digits>/<sha256>`, an upload under
//! way beside it as `<sha256>.part`, renamed once verified. Every write reaches the disk
//! before it is acknowledged.

use std::path::PathBuf;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{AttachmentStore, Hasher, Held};
use crate::model::TenantId;
use crate::store::StoreError;

/// Attachments under a directory.
#[derive(Debug, Clone)]
pub struct FileAttachments {
    dir: PathBuf,
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
        FileAttachments { dir: dir.into() }
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

#[async_trait]
impl AttachmentStore for FileAttachments {
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
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p.partial)
            .await
            .map_err(io)?;
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
