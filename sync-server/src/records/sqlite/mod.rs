//! Tenants' records in SQLite: one file per tenant, in the phone's schema plus sync's own
//! tables, with one writer per tenant.
//!
//! - [`commit`]: group commit — the sync calls of a tenant share write transactions, each in
//!   its own savepoint, one disk sync before any is answered.
//! - [`sequence`]: the server's own tables (change sequence, device holdings) and their
//!   migrations, in the tenant's file beside core's.
//! - [`pull`]: a page of what a user may see, read along indexes of who may see each record.
//!
//! The push (records prepared on the other cores from read-only connections, then judged by
//! core's review and stored by the writer) and the server's own writes (an admin's records,
//! the scheduled jobs) are the storage-neutral [`crate::records::push`] and
//! [`crate::records::admin`], over [`sequence::SqliteLedger`].
//!
//! Who a signed-in user is comes from [`fieldsales_core::me::resolve`] over the tenant's
//! records, the dashboards from [`fieldsales_core::dashboard::compute`]: core speaks core's
//! SQL, this module only its own.
//!
//! `synchronous = FULL`: an acknowledged push survives a power cut, not only a crash of the
//! server; group commit is what makes that affordable.

mod commit;
mod pull;
mod sequence;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use fieldsales_core::dashboard::{self, Dashboard, DashboardQuery, Focus};
use fieldsales_core::me::Me;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::store::{Store as CoreStore, StoreOptions};
use fieldsales_core::time::SystemClock;
use fieldsales_core::{RecordId, Timestamp};

use super::push::{self, Readers};
use super::{AdminWriteError, Page, Pull, Push, RecordStore, Verdict};
use super::{admin, review};
use crate::audit::{self, Actor, AuditEntry, AuditLog, AuditQuery, ChainHead, ChainRow, Stream};
use crate::jobs::{JobParams, JobReport};
use crate::model::TenantId;
use crate::store::StoreError;
use crate::telemetry::Metrics;
use commit::Job;
use sequence::SqliteLedger;

/// Tenants' records in SQLite files under one directory.
#[derive(Clone)]
pub struct SqliteRecords {
    dir: PathBuf,
    tenants: Arc<Mutex<HashMap<TenantId, Arc<Tenant>>>>,
    /// Pushes being prepared at once, one per core: a burst of pushes is then prepared in
    /// turn and reaches the writer in turn, instead of all finishing together at the end
    /// while the writer waits.
    preparing: Arc<tokio::sync::Semaphore>,
    /// Where group-commit sizes are counted, when served.
    metrics: Option<Arc<Metrics>>,
}

/// One tenant's store and the calls waiting for it.
struct Tenant {
    store: Mutex<CoreStore>,
    queue: Mutex<Vec<Job>>,
    /// The server's Automerge actor in this tenant.
    actor: automerge::ActorId,
    /// Read-only connections beside the writer.
    readers: Readers,
    /// Whether a checkpoint of the tenant's log is scheduled or running (see [`commit`]).
    checkpointing: Arc<std::sync::atomic::AtomicBool>,
}

/// How a tenant's file is opened: durable, a page cache of up to 64 MiB (a server's tenant is
/// read and written all day; the phone's stays 2 MB), with the sync tables beside core's, its
/// log checkpointed beside the writer (see [`commit`]).
const TENANT_FILE: StoreOptions = StoreOptions {
    durable: true,
    cache_kib: 65_536,
    extensions: &[&sequence::SYNC_SCHEMA, &crate::audit::sqlite::TENANT_SCHEMA],
    checkpoint_beside: true,
};

impl std::fmt::Debug for SqliteRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRecords")
            .field("dir", &self.dir)
            .finish()
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl SqliteRecords {
    /// Records under `dir` (one `<tenant>.sqlite3` each), created on first use.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        SqliteRecords {
            dir: dir.into(),
            tenants: Arc::new(Mutex::new(HashMap::new())),
            preparing: Arc::new(tokio::sync::Semaphore::new(cores)),
            metrics: None,
        }
    }

    /// The same, counting each group commit's size in `metrics`.
    pub fn with_metrics(dir: impl Into<PathBuf>, metrics: Arc<Metrics>) -> Self {
        SqliteRecords {
            metrics: Some(metrics),
            ..SqliteRecords::new(dir)
        }
    }

    fn tenant(&self, tenant: TenantId) -> Result<Arc<Tenant>, StoreError> {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = tenants.get(&tenant) {
            return Ok(Arc::clone(found));
        }
        crate::create_data_dir(&self.dir).map_err(backend)?;
        let path = self.dir.join(format!("{tenant}.sqlite3"));
        crate::private_file(&path).map_err(backend)?;
        let store = CoreStore::open_with_options(&path, Arc::new(SystemClock), TENANT_FILE)
            .map_err(backend)?;
        let found = Arc::new(Tenant {
            actor: store.actor().clone(),
            store: Mutex::new(store),
            queue: Mutex::new(Vec::new()),
            readers: Readers::new(path),
            checkpointing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        });
        tenants.insert(tenant, Arc::clone(&found));
        Ok(found)
    }

    /// Runs `f` on the tenant's store on the blocking pool, alone (long reads, admin writes
    /// and jobs that open their own transaction).
    pub async fn with_tenant<T, F>(&self, tenant: TenantId, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut CoreStore) -> Result<T, StoreError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found = this.tenant(tenant)?;
            let mut store = found.store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut store)
        })
        .await
        .map_err(backend)?
    }

    /// Prepares a push's records beside the writer (see [`push`]), one push at a time per
    /// core.
    async fn prepare(
        &self,
        tenant: TenantId,
        push: Push,
    ) -> Result<(Push, Vec<Option<review::Prepared>>), StoreError> {
        let this = self.clone();
        let slot = Arc::clone(&self.preparing)
            .acquire_owned()
            .await
            .map_err(backend)?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let prepared = match this.tenant(tenant) {
                Ok(found) => found.readers.prepare_push(&found.actor, &push),
                Err(_) => Vec::new(),
            };
            (push, prepared)
        })
        .await
        .map_err(backend)
    }
}

#[async_trait]
impl RecordStore for SqliteRecords {
    /// From a read-only connection (the last commit), beside the writer: every sync asks
    /// who its user is first, and waiting for the writer's turn for that would double the
    /// writer's queue.
    async fn me(&self, tenant: TenantId, profile: RecordId) -> Result<Option<Me>, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found = this.tenant(tenant)?;
            found
                .readers
                .read(|reader| fieldsales_core::me::resolve(reader, profile))
                .map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    async fn push(&self, tenant: TenantId, push: Push) -> Result<Vec<Verdict>, StoreError> {
        let (push, prepared) = self.prepare(tenant, push).await?;
        self.in_group_commit(tenant, move |tx| {
            push::push_blocking(tx, &mut SqliteLedger { tenant }, &push, prepared)
        })
        .await
    }

    async fn push_and_pull(
        &self,
        tenant: TenantId,
        push: Option<Push>,
        pull: Pull,
    ) -> Result<(Vec<Verdict>, Page), StoreError> {
        let push = match push {
            Some(push) => Some(self.prepare(tenant, push).await?),
            None => None,
        };
        // One call of the group commit: the page is read after the push's writes, in the
        // same transaction, and one disk sync covers both.
        // A device of another epoch (the file was restored from a backup) has its push
        // ignored: it offers its changes again once it has caught up.
        self.in_group_commit(tenant, move |tx| {
            let restarts = pull.restarts_at(Some(sequence::epoch(tx)?));
            let verdicts = match push {
                Some((push, prepared)) if !restarts => {
                    push::push_blocking(tx, &mut SqliteLedger { tenant }, &push, prepared)?
                }
                _ => Vec::new(),
            };
            Ok((verdicts, pull::pull_blocking(tx, &pull)?))
        })
        .await
    }

    async fn pull(&self, tenant: TenantId, pull: Pull) -> Result<Page, StoreError> {
        self.in_group_commit(tenant, move |tx| pull::pull_blocking(tx, &pull))
            .await
    }

    async fn dashboard(
        &self,
        tenant: TenantId,
        viewer: Me,
        focus: Option<Focus>,
        query: DashboardQuery,
        now: Timestamp,
    ) -> Result<Dashboard, StoreError> {
        self.with_tenant(tenant, move |store| {
            dashboard::compute_within(&*store, viewer, focus, &query, now, Some(now))
                .map_err(backend)
        })
        .await
    }

    async fn put(
        &self,
        tenant: TenantId,
        record: AnyRecord,
        now: Timestamp,
        by: Actor,
    ) -> Result<RecordId, AdminWriteError> {
        if let Err(invalid) = record.validate() {
            return Err(AdminWriteError::Invalid(invalid.to_string()));
        }
        self.with_tenant(tenant, move |store| {
            store
                .transaction(|tx| {
                    admin::put_in(tx, &mut SqliteLedger { tenant }, &record, now, &by)
                })
                .map_err(backend)
        })
        .await?
    }

    async fn console(&self, tenant: TenantId) -> Result<admin::Console, StoreError> {
        let found = self.tenant(tenant)?;
        tokio::task::spawn_blocking(move || found.readers.read(admin::console_of).map_err(backend))
            .await
            .map_err(backend)?
    }

    async fn hand_over(
        &self,
        tenant: TenantId,
        from: RecordId,
        to: RecordId,
        now: Timestamp,
        by: Actor,
    ) -> Result<admin::HandedOver, AdminWriteError> {
        self.with_tenant(tenant, move |store| {
            store
                .transaction(|tx| {
                    admin::hand_over_in(tx, &mut SqliteLedger { tenant }, from, to, now, &by)
                })
                .map_err(backend)
        })
        .await?
    }

    async fn set_matrix(
        &self,
        tenant: TenantId,
        role: String,
        permissions: fieldsales_core::process::permissions::RolePermissions,
        revision: i64,
        now: Timestamp,
        by: Actor,
    ) -> Result<i64, AdminWriteError> {
        self.with_tenant(tenant, move |store| {
            store
                .transaction(|tx| {
                    admin::set_matrix_in(
                        tx,
                        &mut SqliteLedger { tenant },
                        &role,
                        permissions,
                        revision,
                        now,
                        &by,
                    )
                })
                .map_err(backend)
        })
        .await?
    }

    async fn import(
        &self,
        tenant: TenantId,
        entity: crate::transfer::Entity,
        table: crate::transfer::Table,
        file: PathBuf,
        options: crate::transfer::ImportOptions,
        now: Timestamp,
        by: Actor,
    ) -> Result<Result<crate::transfer::ImportReport, crate::transfer::TransferError>, StoreError>
    {
        self.with_tenant(tenant, move |store| {
            store
                .transaction(|tx| {
                    admin::import_in(
                        tx,
                        &mut SqliteLedger { tenant },
                        entity,
                        &table,
                        &file,
                        &options,
                        now,
                        &by,
                    )
                })
                .map_err(backend)
        })
        .await
    }

    async fn duplicates(
        &self,
        tenant: TenantId,
        viewer: Me,
        customer: fieldsales_core::record::Customer,
    ) -> Result<fieldsales_core::authority::customer::DuplicateCheck, StoreError> {
        use fieldsales_core::authority::permission::{Grants, Vantage};
        use fieldsales_core::store::{Facts, StoreRead};
        let found = self.tenant(tenant)?;
        tokio::task::spawn_blocking(move || {
            found
                .readers
                .read(|reader| {
                    let process = reader.sales_process()?;
                    let tree = reader.org_tree()?;
                    let grants = Grants::of(&viewer, &process);
                    let at = Vantage::new(&tree, &viewer);
                    fieldsales_core::authority::customer::duplicate_check(
                        &Facts::new(reader),
                        &grants,
                        &at,
                        &customer,
                        &process.customers,
                    )
                })
                .map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(backend(e)),
            };
            let mut tenants = Vec::new();
            for entry in entries {
                let name = entry.map_err(backend)?.file_name();
                let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".sqlite3")) else {
                    continue;
                };
                if let Ok(tenant) = stem.parse::<TenantId>() {
                    tenants.push(tenant);
                }
            }
            Ok(tenants)
        })
        .await
        .map_err(backend)?
    }

    async fn epoch(&self, tenant: TenantId) -> Result<Option<u64>, StoreError> {
        self.audit_reader(tenant, |conn| {
            conn.query_row("SELECT epoch FROM sync_counter WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|epoch| epoch as u64)
        })
        .await
    }

    async fn move_private_out(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        self.with_tenant(tenant, move |store| {
            store
                .transaction(|tx| admin::move_private_out_in(tx, &mut SqliteLedger { tenant }, now))
                .map_err(backend)
        })
        .await
    }

    async fn run_jobs(&self, tenant: TenantId, params: JobParams) -> Result<JobReport, StoreError> {
        self.with_tenant(tenant, move |store| {
            store
                .transaction(|tx| admin::run_jobs_in(tx, &mut SqliteLedger { tenant }, params))
                .map_err(backend)
        })
        .await
    }
}

/// Gives the tenant file at `path` a new epoch (see [`crate::backup`]), bringing its schema
/// up to date first; returns the epoch. For a file no server has open: a restored one.
pub fn renew_epoch(path: &std::path::Path) -> Result<u64, StoreError> {
    let mut store =
        CoreStore::open_with_options(path, Arc::new(SystemClock), TENANT_FILE).map_err(backend)?;
    store
        .transaction(|tx| sequence::renew_epoch(tx.extension_sql()))
        .map_err(backend)
}

/// The epoch of the tenant file at `path`, read without changing anything (`None`: the
/// file predates epochs).
pub fn epoch_of(path: &std::path::Path) -> Result<Option<u64>, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(backend)?;
    let has_epoch: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('sync_counter') WHERE name = 'epoch'",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if !has_epoch {
        return Ok(None);
    }
    conn.query_row("SELECT epoch FROM sync_counter WHERE id = 1", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|e| Some(e as u64))
    .map_err(backend)
}

impl SqliteRecords {
    /// A read-only connection to a tenant's file, for the audit tables (`None`: the tenant
    /// has no file yet). Opening it first migrates the file, so the tables exist.
    async fn audit_reader<T, F>(&self, tenant: TenantId, f: F) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let path = self.dir.join(format!("{tenant}.sqlite3"));
        if !tokio::fs::try_exists(&path).await.map_err(backend)? {
            return Ok(None);
        }
        let found = self.tenant(tenant)?;
        tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open_with_flags(
                found.readers.path(),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(backend)?;
            f(&conn).map(Some).map_err(backend)
        })
        .await
        .map_err(backend)?
    }
}

#[async_trait]
impl AuditLog for SqliteRecords {
    async fn audit_entries(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let query = query.clone();
        Ok(self
            .audit_reader(tenant, move |conn| {
                audit::sqlite::query(conn, tenant, Stream::Records, &query)
            })
            .await?
            .unwrap_or_default())
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let mut heads = Vec::new();
        for tenant in self.tenants().await? {
            let raw = self
                .audit_reader(tenant, audit::sqlite::heads)
                .await?
                .unwrap_or_default();
            heads.extend(
                audit::sqlite::decode_heads(raw)
                    .into_iter()
                    // A head copied in from another tenant's file is that tenant's: it
                    // cannot verify here, so it is reported under this file's tenant.
                    .map(|head| ChainHead { tenant, ..head })
                    .filter(|h| h.stream == Stream::Records),
            );
        }
        Ok(heads)
    }

    async fn audit_chain(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainRow>, StoreError> {
        Ok(self
            .audit_reader(tenant, move |conn| {
                audit::sqlite::chain_rows(conn, tenant, Stream::Records, after, limit)
            })
            .await?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ChangeHash;
    use fieldsales_core::Error;
    use fieldsales_core::doc::{RecordDoc, encode_heads};
    use fieldsales_core::store::StoreRead;
    use fieldsales_core::sync::protocol::Bytes;
    use rusqlite::params;

    use crate::model::DeviceId;

    fn refused() -> Error {
        Error::InvalidInput {
            field: "test",
            detail: "refused".into(),
        }
    }

    async fn count_rows(records: &SqliteRecords, tenant: TenantId) -> i64 {
        records
            .in_group_commit(tenant, |tx| {
                Ok(tx
                    .extension_sql()
                    .query_row("SELECT count(*) FROM sync_log", [], |r| r.get(0))?)
            })
            .await
            .unwrap()
    }

    /// The writer leaves the log to a checkpoint beside it: after a commit that wrote
    /// thousands of pages, a checkpoint runs shortly after on its own, so the log starts over
    /// at a later commit (with the writer checkpointing only at its backstop, it would keep
    /// growing).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_commit_has_the_log_checkpointed_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let records = SqliteRecords::new(dir.path());
        let tenant = TenantId::new();
        records
            .in_group_commit(tenant, |tx| {
                let mut insert = tx
                    .extension_sql()
                    .prepare("INSERT INTO sync_log (record_id, seq, heads) VALUES (?1, ?2, ?3)")?;
                for n in 0..2_000_i64 {
                    insert.execute(params![n.to_be_bytes().to_vec(), n, vec![7_u8; 4_000]])?;
                }
                Ok(())
            })
            .await
            .unwrap();
        // The log's header counts its restarts (its checkpoint sequence number, bytes 12 to
        // 16): read, not checkpointed, so the test itself copies nothing.
        let wal = dir.path().join(format!("{tenant}.sqlite3-wal"));
        let restarts = || {
            let bytes = std::fs::read(&wal).unwrap();
            u32::from_be_bytes(bytes[12..16].try_into().unwrap())
        };
        let big = std::fs::metadata(&wal).unwrap().len();
        assert!(big > 2_000 * 4_096, "{big} bytes in the log");
        let before = restarts();
        let mut commits = 0_i64;
        while restarts() == before && commits < 50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let n = 10_000 + commits;
            records
                .in_group_commit(tenant, move |tx| {
                    tx.extension_sql().execute(
                        "INSERT INTO sync_log (record_id, seq, heads) VALUES (?1, ?2, x'')",
                        params![n.to_be_bytes().to_vec(), n],
                    )?;
                    Ok(())
                })
                .await
                .unwrap();
            commits += 1;
        }
        assert_ne!(restarts(), before, "the log never started over");
        assert_eq!(count_rows(&records, tenant).await, 2_000 + commits);
    }

    /// Forty devices' calls arrive at once and are queued into group commits: every caller
    /// gets its own answer, and the calls that fail leave nothing behind while the others'
    /// writes in the same transaction stay.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_hear_their_own_answers_and_a_failing_call_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let records = SqliteRecords::new(dir.path());
        let tenant = TenantId::new();
        let calls: Vec<_> = (0..40u8)
            .map(|n| {
                let records = records.clone();
                tokio::spawn(async move {
                    records
                        .in_group_commit(tenant, move |tx| {
                            tx.extension_sql().execute(
                                "INSERT INTO sync_log (record_id, seq, heads) VALUES (?1, ?2, x'')",
                                params![vec![n; 16], i64::from(n)],
                            )?;
                            if n % 4 == 0 { Err(refused()) } else { Ok(n) }
                        })
                        .await
                })
            })
            .collect();
        for (n, call) in calls.into_iter().enumerate() {
            match call.await.unwrap() {
                Ok(answered) => {
                    assert_ne!(n % 4, 0);
                    assert_eq!(usize::from(answered), n, "each caller hears its own answer");
                }
                Err(_) => assert_eq!(n % 4, 0, "call {n} failed"),
            }
        }
        assert_eq!(count_rows(&records, tenant).await, 30);
    }

    /// A tenant file from before `moved_at`: upgraded on open, and every cursor handed out
    /// before is judged against the whole sequence again (as the old pull did), so a record
    /// that left someone's view before the upgrade still leaves their device.
    #[test]
    fn an_older_tenant_file_is_upgraded_and_older_cursors_rescan_everything() {
        let dir = tempfile::tempdir().unwrap();
        let tenant = TenantId::new();
        let file = dir.path().join(format!("{tenant}.sqlite3"));
        drop(CoreStore::open(&file).unwrap());
        {
            rusqlite::Connection::open(&file)
                .unwrap()
                .execute_batch(
                    "CREATE TABLE sync_counter (id INTEGER PRIMARY KEY CHECK (id = 1),
                         seq INTEGER NOT NULL);
                     INSERT INTO sync_counter (id, seq) VALUES (1, 42);
                     CREATE TABLE sync_log (record_id BLOB PRIMARY KEY,
                         seq INTEGER NOT NULL UNIQUE, heads BLOB NOT NULL, owner_id BLOB,
                         org_unit_id BLOB, created_by BLOB, shared_with BLOB) WITHOUT ROWID;
                     INSERT INTO sync_log (record_id, seq, heads) VALUES (x'01', 42, x'');",
                )
                .unwrap();
        }
        let records = SqliteRecords::new(dir.path());
        let found = records.tenant(tenant).unwrap();
        let check = rusqlite::Connection::open(&file).unwrap();
        let (seq, relogged_at): (i64, i64) = check
            .query_row("SELECT seq, relogged_at FROM sync_counter", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((seq, relogged_at), (42, 42));
        let moved_at: i64 = check
            .query_row("SELECT moved_at FROM sync_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(moved_at, 0);
        let version: i64 = check
            .query_row(
                "SELECT version FROM schema_versions WHERE schema = 'sync'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, sequence::SYNC_SCHEMA.latest());
        // Opening again does not upgrade twice.
        drop(check);
        drop(found);
        let again = SqliteRecords::new(dir.path());
        again.tenant(tenant).unwrap();
    }

    /// A push prepared beside the writer from a stored document that another push changed
    /// before the writer got to it: the writer sees the stored heads moved, merges again
    /// from what is stored now, and neither edit is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_push_prepared_from_a_document_that_moved_on_is_merged_again() {
        use fieldsales_core::Zone;
        use fieldsales_core::record::{Customer, DataScope};
        use fieldsales_core::sync::protocol::PushRecord;

        let dir = tempfile::tempdir().unwrap();
        let records = SqliteRecords::new(dir.path());
        let tenant = TenantId::new();
        let rep = RecordId::new();
        let device_actor = automerge::ActorId::random();
        // The device's second actor (a second app install's, say): two concurrent edits.
        let other_actor = automerge::ActorId::random();
        let push_of = |doc: &mut RecordDoc, since: &[ChangeHash]| Push {
            device: DeviceId::new(),
            account: crate::model::AccountId::new(),
            actors: vec![device_actor.clone(), other_actor.clone()],
            author: Me {
                hidden: Default::default(),
                user_id: rep,
                unit_id: RecordId::new(),
                roles: vec!["sales_rep".into()],
                scope: DataScope::Own,
                zone: Zone::SHANGHAI,
            },
            clock_offset: None,
            records: vec![PushRecord {
                id: doc.record_id().unwrap(),
                changes: Bytes(doc.changes_since(since)),
                heads: Bytes(encode_heads(&doc.heads())),
            }],
            now: Timestamp::now(),
        };
        let accepted = |verdicts: Vec<Verdict>| {
            assert!(
                verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))),
                "{verdicts:?}"
            );
        };
        let created = fieldsales_core::testing::customer(rep, "苏州园林建设有限公司");
        let id = created.header.id;
        let mut doc = RecordDoc::create(
            &AnyRecord::Customer(created.clone()),
            &device_actor,
            Timestamp::now(),
        )
        .unwrap();
        accepted(records.push(tenant, push_of(&mut doc, &[])).await.unwrap());
        let base = doc.heads();

        // Two edits from the same base: the tier, then the industry.
        let mut tier = doc.fork_as(&device_actor);
        let mut edited = created.clone();
        edited.tier = Some("B".into());
        tier.write(&AnyRecord::Customer(edited), Timestamp::now())
            .unwrap();
        let mut industry = doc.fork_as(&other_actor);
        let mut edited = created;
        edited.industry = Some("园林".into());
        industry
            .write(&AnyRecord::Customer(edited), Timestamp::now())
            .unwrap();
        let industry_push = push_of(&mut industry, &base);
        let found = records.tenant(tenant).unwrap();
        let prepared = found.readers.prepare_push(&found.actor, &industry_push);
        assert!(
            prepared.iter().all(Option::is_some),
            "prepared beside the writer"
        );

        accepted(
            records
                .push(tenant, push_of(&mut tier, &base))
                .await
                .unwrap(),
        );
        let verdicts = records
            .in_group_commit(tenant, move |tx| {
                push::push_blocking(tx, &mut SqliteLedger { tenant }, &industry_push, prepared)
            })
            .await
            .unwrap();
        accepted(verdicts);
        let stored: Customer = records
            .in_group_commit(tenant, move |tx| tx.get(id))
            .await
            .unwrap();
        assert_eq!(stored.tier.as_deref(), Some("B"), "the first edit is kept");
        assert_eq!(
            stored.industry.as_deref(),
            Some("园林"),
            "the second is merged in"
        );
    }
}
