//! Attachments in PostgreSQL: an attachment's bytes as parts (one per stored chunk, keyed by
//! their offset), and a row saying how much is held and whether it is complete. Any instance
//! serves what any other received.
//!
//! An upload's lock is a lease row (`attachment_upload`), not an advisory lock: the instance
//! whose insert takes the row holds it, renews it while the upload runs and deletes it at the
//! end; a lease left by an instance that died lapses after [`LEASE`].

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use uuid::Uuid;

use super::{AttachmentStore, Hasher, Held, UploadLock};
use crate::model::TenantId;
use crate::postgres::migrate::PgMigrations;
use crate::postgres::{backend, client, uuid};
use crate::store::StoreError;

/// The attachments schema in PostgreSQL. Never edit a shipped step: append a new one.
pub const MIGRATIONS: PgMigrations = PgMigrations {
    schema: "attachments",
    steps: &[
        // 1: what is held of each attachment, and its bytes in parts.
        "CREATE TABLE attachment (
            tenant_id uuid NOT NULL,
            sha256    text NOT NULL,
            size      bigint NOT NULL,
            complete  boolean NOT NULL,
            PRIMARY KEY (tenant_id, sha256)
        );
        CREATE TABLE attachment_part (
            tenant_id uuid NOT NULL,
            sha256    text NOT NULL,
            at        bigint NOT NULL,
            bytes     bytea NOT NULL,
            PRIMARY KEY (tenant_id, sha256, at)
        );
        -- Photos are compressed already.
        ALTER TABLE attachment_part ALTER COLUMN bytes SET STORAGE EXTERNAL;",
        // 2: the lease of the one upload under way per attachment.
        "CREATE TABLE attachment_upload (
            tenant_id uuid NOT NULL,
            sha256    text NOT NULL,
            holder    uuid NOT NULL,
            until     timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, sha256)
        );",
    ],
};

/// How long an upload's lease lasts unless renewed (it is renewed every third of it).
pub const LEASE: Duration = Duration::from_secs(30);

/// How long an upload waits for another one of the same attachment at most.
const WAIT_AT_MOST: Duration = Duration::from_secs(600);

/// A held lease: renewed until dropped, then deleted.
struct Lease {
    renewing: tokio::task::JoinHandle<()>,
    pool: Pool,
    tenant: Uuid,
    sha256: String,
    holder: Uuid,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewing.abort();
        let (pool, tenant, sha256, holder) = (
            self.pool.clone(),
            self.tenant,
            std::mem::take(&mut self.sha256),
            self.holder,
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(conn) = client(&pool).await {
                    let _ = conn
                        .execute(
                            "DELETE FROM attachment_upload
                             WHERE tenant_id = $1 AND sha256 = $2 AND holder = $3",
                            &[&tenant, &sha256, &holder],
                        )
                        .await;
                }
            });
        }
    }
}

/// Attachments in PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct PostgresAttachments {
    pool: Pool,
}

impl std::fmt::Debug for PostgresAttachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAttachments").finish()
    }
}

impl PostgresAttachments {
    /// Attachments in the database of `pool`, its schema brought up to date.
    pub async fn open(pool: Pool) -> Result<Self, StoreError> {
        let mut conn = client(&pool).await?;
        MIGRATIONS.apply(&mut conn).await?;
        drop(conn);
        Ok(PostgresAttachments { pool })
    }
}

/// Cuts an upload under way back to `len` bytes, in `tx`.
async fn cut(
    tx: &tokio_postgres::Transaction<'_>,
    tenant: Uuid,
    sha256: &str,
    len: i64,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "DELETE FROM attachment_part WHERE tenant_id = $1 AND sha256 = $2 AND at >= $3",
        &[&tenant, &sha256, &len],
    )
    .await?;
    tx.execute(
        "UPDATE attachment_part SET bytes = substring(bytes FROM 1 FOR ($3 - at)::int)
         WHERE tenant_id = $1 AND sha256 = $2 AND at < $3 AND at + length(bytes) > $3",
        &[&tenant, &sha256, &len],
    )
    .await?;
    Ok(())
}

fn too_long(n: u64) -> StoreError {
    StoreError::Corrupt {
        detail: format!("an attachment offset of {n} does not fit"),
    }
}

#[async_trait]
impl AttachmentStore for PostgresAttachments {
    async fn lock(&self, tenant: TenantId, sha256: &str) -> Result<UploadLock, StoreError> {
        let tenant = uuid(tenant.as_bytes());
        let holder = Uuid::now_v7();
        let lease = format!("{} milliseconds", LEASE.as_millis());
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let conn = client(&self.pool).await?;
            let taken = conn
                .execute(
                    "INSERT INTO attachment_upload (tenant_id, sha256, holder, until)
                     VALUES ($1, $2, $3, now() + $4::text::interval)
                     ON CONFLICT (tenant_id, sha256) DO UPDATE
                     SET holder = excluded.holder, until = excluded.until
                     WHERE attachment_upload.until < now()",
                    &[&tenant, &sha256, &holder, &lease],
                )
                .await
                .map_err(backend)?;
            drop(conn);
            if taken == 1 {
                break;
            }
            if started.elapsed() > WAIT_AT_MOST {
                return Err(StoreError::Backend(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "another upload of this attachment is still under way",
                ))));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        let (pool, key, every) = (self.pool.clone(), sha256.to_owned(), LEASE / 3);
        let renewing = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Ok(conn) = client(&pool).await {
                    let _ = conn
                        .execute(
                            "UPDATE attachment_upload SET until = now() + $4::text::interval
                             WHERE tenant_id = $1 AND sha256 = $2 AND holder = $3",
                            &[&tenant, &key, &holder, &lease],
                        )
                        .await;
                }
            }
        });
        Ok(UploadLock::new(Lease {
            renewing,
            pool: self.pool.clone(),
            tenant,
            sha256: sha256.to_owned(),
            holder,
        }))
    }

    async fn held(&self, tenant: TenantId, sha256: &str) -> Result<Held, StoreError> {
        let conn = client(&self.pool).await?;
        let row = conn
            .query_opt(
                "SELECT size, complete FROM attachment WHERE tenant_id = $1 AND sha256 = $2",
                &[&uuid(tenant.as_bytes()), &sha256],
            )
            .await
            .map_err(backend)?;
        Ok(match row {
            None => Held::Nothing,
            Some(r) => {
                let size = r.get::<_, i64>(0).max(0) as u64;
                if r.get(1) {
                    Held::Complete(size)
                } else {
                    Held::Partial(size)
                }
            }
        })
    }

    async fn append(
        &self,
        tenant: TenantId,
        sha256: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let at = i64::try_from(offset).map_err(|_| too_long(offset))?;
        let end = at + bytes.len() as i64;
        let tenant = uuid(tenant.as_bytes());
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        tx.execute(
            "INSERT INTO attachment (tenant_id, sha256, size, complete) VALUES ($1, $2, $3, false)
             ON CONFLICT (tenant_id, sha256) DO UPDATE SET size = excluded.size
             WHERE NOT attachment.complete",
            &[&tenant, &sha256, &end],
        )
        .await
        .map_err(backend)?;
        cut(&tx, tenant, sha256, at).await.map_err(backend)?;
        tx.execute(
            "INSERT INTO attachment_part (tenant_id, sha256, at, bytes) VALUES ($1, $2, $3, $4)",
            &[&tenant, &sha256, &at, &bytes],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn truncate(&self, tenant: TenantId, sha256: &str, len: u64) -> Result<(), StoreError> {
        let len = i64::try_from(len).map_err(|_| too_long(len))?;
        let tenant = uuid(tenant.as_bytes());
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        cut(&tx, tenant, sha256, len).await.map_err(backend)?;
        tx.execute(
            "UPDATE attachment SET size = $3
             WHERE tenant_id = $1 AND sha256 = $2 AND NOT complete",
            &[&tenant, &sha256, &len],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn discard(&self, tenant: TenantId, sha256: &str) -> Result<(), StoreError> {
        let tenant = uuid(tenant.as_bytes());
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let dropped = tx
            .execute(
                "DELETE FROM attachment WHERE tenant_id = $1 AND sha256 = $2 AND NOT complete",
                &[&tenant, &sha256],
            )
            .await
            .map_err(backend)?;
        if dropped > 0 {
            cut(&tx, tenant, sha256, 0).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn complete(&self, tenant: TenantId, sha256: &str) -> Result<bool, StoreError> {
        let tenant_id = uuid(tenant.as_bytes());
        let conn = client(&self.pool).await?;
        let parts = conn
            .query(
                "SELECT bytes FROM attachment_part WHERE tenant_id = $1 AND sha256 = $2
                 ORDER BY at",
                &[&tenant_id, &sha256],
            )
            .await
            .map_err(backend)?;
        let mut hasher = Hasher::new();
        for part in &parts {
            hasher.update(part.get::<_, &[u8]>(0));
        }
        drop(parts);
        if hasher.hex() != sha256 {
            drop(conn);
            self.discard(tenant, sha256).await?;
            return Ok(false);
        }
        conn.execute(
            "UPDATE attachment SET complete = true WHERE tenant_id = $1 AND sha256 = $2",
            &[&tenant_id, &sha256],
        )
        .await
        .map_err(backend)?;
        Ok(true)
    }

    async fn read(
        &self,
        tenant: TenantId,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        let from = i64::try_from(start).map_err(|_| too_long(start))?;
        let to = from.saturating_add(i64::try_from(len).map_err(|_| too_long(len))?);
        let conn = client(&self.pool).await?;
        let parts = conn
            .query(
                "SELECT at, bytes FROM attachment_part
                 WHERE tenant_id = $1 AND sha256 = $2 AND at < $4 AND at + length(bytes) > $3
                 ORDER BY at",
                &[&uuid(tenant.as_bytes()), &sha256, &from, &to],
            )
            .await
            .map_err(backend)?;
        let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        for part in &parts {
            let at: i64 = part.get(0);
            let bytes: &[u8] = part.get(1);
            let skip = usize::try_from(from.saturating_sub(at)).unwrap_or(0);
            let take = usize::try_from(to - at.max(from)).unwrap_or(0);
            let rest = bytes.get(skip..).unwrap_or_default();
            out.extend_from_slice(&rest[..take.min(rest.len())]);
        }
        Ok(out)
    }
}
