//! Where attachment bytes (visit photos, files) are kept, behind one trait: files in the data
//! directory (the SQLite default, one instance) or PostgreSQL (several instances: a photo
//! uploaded through one downloads through any other).
//!
//! The HTTP side (`api::attachments`: resumable uploads with `Content-Range`, ranges on
//! download, the limit, verification against the name) is the same for both; a store keeps
//! an upload's bytes as they arrive and makes them available only once they hash to their
//! name. Nothing crosses tenants, even identical photos.
//!
//! An attachment has one upload under way at a time: the same photo sent by several phones
//! (or by one phone retrying while its first attempt still runs) would otherwise write the
//! same upload at once. Each upload holds [`AttachmentStore::lock`] for the attachment from
//! its first look at what is held to its answer; the next one then finds the content
//! complete and succeeds without writing.

mod files;
mod postgres;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

pub use files::FileAttachments;
pub use postgres::{MIGRATIONS as POSTGRES_MIGRATIONS, PostgresAttachments};

use crate::model::TenantId;
use crate::store::StoreError;

/// What the server holds of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Nothing.
    Nothing,
    /// This many bytes of an upload under way.
    Partial(u64),
    /// The whole, verified content, this long.
    Complete(u64),
}

/// The right to write one attachment's upload: other uploads of it wait until it drops.
#[must_use = "the lock is released when dropped"]
pub struct UploadLock {
    _held: Box<dyn Send + Sync>,
}

impl UploadLock {
    /// A lock released when `held` drops.
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        UploadLock {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for UploadLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UploadLock")
    }
}

/// Attachment bytes. `sha256` is always 64 lower-case hex digits (checked by the caller).
#[async_trait]
pub trait AttachmentStore: Send + Sync + std::fmt::Debug + 'static {
    /// Waits until no other upload of the attachment is under way — through this instance or
    /// any other sharing the store — and keeps the next one waiting until the lock drops.
    async fn lock(&self, tenant: TenantId, sha256: &str) -> Result<UploadLock, StoreError>;

    /// What is held of an attachment.
    async fn held(&self, tenant: TenantId, sha256: &str) -> Result<Held, StoreError>;

    /// Writes `bytes` at `offset` of the upload under way (which then ends there), starting
    /// one if none is.
    async fn append(
        &self,
        tenant: TenantId,
        sha256: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError>;

    /// Cuts the upload under way back to `len` bytes.
    async fn truncate(&self, tenant: TenantId, sha256: &str, len: u64) -> Result<(), StoreError>;

    /// Drops the upload under way.
    async fn discard(&self, tenant: TenantId, sha256: &str) -> Result<(), StoreError>;

    /// Makes the upload under way available when its content hashes to its name and returns
    /// `true`; otherwise drops it and returns `false`.
    async fn complete(&self, tenant: TenantId, sha256: &str) -> Result<bool, StoreError>;

    /// `len` bytes from `start` of a complete attachment.
    async fn read(
        &self,
        tenant: TenantId,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError>;
}

/// An incremental SHA-256 in lower-case hex, for the stores' verification.
pub(crate) struct Hasher(Sha256);

impl Hasher {
    pub fn new() -> Self {
        Hasher(Sha256::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn hex(self) -> String {
        hex::encode(self.0.finalize())
    }
}
