//! The read models: per tenant, a core store of this instance that copies PostgreSQL's
//! documents, caught up by following the order in which they changed (`changed_seq`), like a
//! device that sees everything.
//!
//! A read model remembers how far it copied (`pg_cursor`) and from which database
//! (`pg_identity`); a file copied from another database is thrown away and rebuilt. Catching
//! up reads the counter and the documents changed after the cursor in one statement (one
//! snapshot), a page at a time in the order of `changed_seq`, and applies each page in one
//! transaction of the read model with core's own code for received records
//! (`Tx::apply_remote_all`, decoding on the other cores). Since every number is handed out
//! under the counter row's lock, the documents changed up to the counter a snapshot shows are
//! all in that snapshot: the read model never skips one.
//!
//! Outside a write, catching up is what makes another instance's changes visible before this
//! one answers (who a user is, a pull's org tree, a dashboard). Inside a write, under the
//! counter row's lock, it makes the read model exactly PostgreSQL's state, so the review reads
//! current facts.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use deadpool_postgres::GenericClient;
use fieldsales_core::doc::decode_heads;
use fieldsales_core::store::{Received, Store as CoreStore, StoreOptions, StoreRead};
use fieldsales_core::time::SystemClock;
use uuid::Uuid;

use super::{PostgresRecords, Tenant, backend, uuid};
use crate::model::TenantId;
use crate::records::push::Readers;
use crate::store::StoreError;

/// How far the read model copied: the counter it was last caught up to.
const CURSOR: &str = "pg_cursor";
/// Which database it copies.
const IDENTITY: &str = "pg_identity";
/// Documents read per page while catching up.
const PAGE: i64 = 512;

/// A read model is a cache: a crash may lose its last commits (`durable: false`), and then it
/// is simply behind. Its page cache is a server tenant's.
const READ_MODEL: StoreOptions = StoreOptions {
    durable: false,
    cache_kib: 65_536,
    extensions: &[],
    checkpoint_beside: false,
};

/// Opens the read model of `tenant` under `dir`, throwing away one copied from another
/// database.
pub(super) fn open(dir: &Path, identity: Uuid, tenant: TenantId) -> Result<Tenant, StoreError> {
    crate::create_data_dir(dir).map_err(backend)?;
    let path = dir.join(format!("{tenant}.sqlite3"));
    crate::private_file(&path).map_err(backend)?;
    let opened = CoreStore::open_with_options(&path, std::sync::Arc::new(SystemClock), READ_MODEL)
        .map_err(backend)?;
    let copied_from = opened.meta(IDENTITY).map_err(backend)?;
    let store = match copied_from {
        Some(id) if id == identity.as_bytes() => opened,
        _ => {
            drop(opened);
            if copied_from_any(&path)? {
                tracing::warn!(%tenant, "read model from another database: rebuilt");
            }
            for suffix in ["", "-wal", "-shm"] {
                let file = path.with_file_name(format!("{tenant}.sqlite3{suffix}"));
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(backend(e)),
                }
            }
            crate::private_file(&path).map_err(backend)?;
            let mut fresh =
                CoreStore::open_with_options(&path, std::sync::Arc::new(SystemClock), READ_MODEL)
                    .map_err(backend)?;
            fresh
                .set_meta(IDENTITY, identity.as_bytes())
                .map_err(backend)?;
            fresh
        }
    };
    Ok(Tenant {
        id: tenant,
        actor: store.actor().clone(),
        model: Mutex::new(store),
        readers: Readers::new(path),
        queue: Mutex::new(Vec::new()),
        runner: Mutex::new(()),
        counted: AtomicBool::new(false),
    })
}

/// Whether the file at `path` holds documents (a read model of another database, not one
/// just created).
fn copied_from_any(path: &Path) -> Result<bool, StoreError> {
    let store = CoreStore::open_with_options(path, std::sync::Arc::new(SystemClock), READ_MODEL)
        .map_err(backend)?;
    Ok(!store.document_ids().map_err(backend)?.is_empty())
}

/// How far a read model copied.
pub(super) fn cursor(store: &CoreStore) -> Result<i64, StoreError> {
    Ok(match store.meta(CURSOR).map_err(backend)? {
        Some(bytes) => i64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])),
        None => 0,
    })
}

/// One page of documents changed after a cursor, and the counter, read in one snapshot.
struct Changes {
    /// The tenant's counter (0 when it has none yet).
    counter: i64,
    /// (id, heads, document, changed_seq), in the order of `changed_seq`.
    docs: Vec<(Uuid, Vec<u8>, Vec<u8>, i64)>,
}

async fn changes_after(
    pg: &impl GenericClient,
    tenant: Uuid,
    after: i64,
) -> Result<Changes, StoreError> {
    let rows = crate::postgres::query(
        pg,
        "SELECT c.seq, r.id, r.heads, r.doc, r.changed_seq
             FROM tenant_counter c
             LEFT JOIN LATERAL (
                 SELECT id, heads, doc, changed_seq FROM record
                 WHERE tenant_id = c.tenant_id AND changed_seq > $2
                 ORDER BY changed_seq LIMIT $3
             ) r ON true
             WHERE c.tenant_id = $1",
        &[&tenant, &after, &PAGE],
    )
    .await
    .map_err(backend)?;
    let counter = rows.first().map_or(0, |r| r.get::<_, i64>(0));
    let mut docs = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Option<Uuid> = row.get(1);
        if let Some(id) = id {
            docs.push((id, row.get(2), row.get(3), row.get(4)));
        }
    }
    Ok(Changes { counter, docs })
}

/// Brings `store` up to PostgreSQL as `pg` sees it, page by page; returns the counter
/// reached. Blocking (runs the queries on `handle`).
pub(super) fn catch_up_with(
    store: &mut CoreStore,
    pg: &impl GenericClient,
    handle: &tokio::runtime::Handle,
    tenant: Uuid,
) -> Result<i64, StoreError> {
    let mut at = cursor(store)?;
    loop {
        let changes = handle.block_on(changes_after(pg, tenant, at))?;
        if changes.docs.is_empty() && changes.counter <= at {
            return Ok(at);
        }
        let full = changes.docs.len() as i64 == PAGE;
        let decoded: Vec<_> = changes
            .docs
            .iter()
            .map(|(id, heads, doc, _)| {
                let heads = decode_heads(heads).map_err(|e| StoreError::Corrupt {
                    detail: format!("heads of record {id}: {e}"),
                })?;
                Ok((fieldsales_core::RecordId::from_uuid(*id), heads, doc))
            })
            .collect::<Result<_, StoreError>>()?;
        // A full page reached only its last document: later ones may have changed at
        // numbers up to the counter.
        let reached = match changes.docs.last() {
            Some((_, _, _, changed)) if full => *changed,
            _ => changes.counter,
        };
        store
            .transaction(|tx| {
                let received: Vec<Received<'_>> = decoded
                    .iter()
                    .map(|(id, heads, doc)| Received {
                        id: *id,
                        bytes: doc,
                        heads,
                    })
                    .collect();
                tx.apply_remote_all(&received)?;
                tx.set_meta(CURSOR, &reached.to_le_bytes())
            })
            .map_err(backend)?;
        at = reached;
        if !full {
            return Ok(at);
        }
    }
}

impl PostgresRecords {
    /// Brings the tenant's read model up to what PostgreSQL has committed. Blocking.
    ///
    /// Like every path that needs both, it takes a PostgreSQL connection before the read
    /// model: a thread holding the read model never waits for a connection that threads
    /// waiting for the read model hold.
    pub(super) fn catch_up(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let handle = &self.inner.handle;
        let pg = handle.block_on(super::client(&self.inner.pool))?;
        let mut store = tenant.model.lock().unwrap_or_else(PoisonError::into_inner);
        catch_up_with(&mut store, &pg, handle, uuid(tenant.id.as_bytes()))?;
        Ok(())
    }

    /// The same, unless another thread is using the read model (a write catches it up under
    /// the counter's lock anyway). Blocking.
    pub(super) fn catch_up_if_idle(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let handle = &self.inner.handle;
        let pg = handle.block_on(super::client(&self.inner.pool))?;
        let mut store = match tenant.model.try_lock() {
            Ok(store) => store,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(()),
        };
        catch_up_with(&mut store, &pg, handle, uuid(tenant.id.as_bytes()))?;
        Ok(())
    }
}

/// Records, in the read model's transaction, that it holds PostgreSQL's state at `seq`.
pub(super) fn set_cursor(
    tx: &mut fieldsales_core::store::Tx<'_>,
    seq: i64,
) -> Result<(), fieldsales_core::Error> {
    tx.set_meta(CURSOR, &seq.to_le_bytes())
}

/// Whether the tenant's counter row is known to exist on this instance.
pub(super) fn counted(tenant: &Tenant) -> bool {
    tenant.counted.load(Ordering::Acquire)
}

/// Remembers that the tenant's counter row exists.
pub(super) fn set_counted(tenant: &Tenant) {
    tenant.counted.store(true, Ordering::Release);
}
