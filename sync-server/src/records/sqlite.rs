//! Tenants' records in SQLite: one file per tenant, in the phone's schema plus sync's tables.
//!
//! One writer per tenant, with group commit: the sync calls of a tenant (who is asking,
//! pushes, pulls) queue up, and whichever blocking thread takes the tenant's store runs the
//! calls queued at that moment (up to [`MAX_GROUP`]) in one write transaction, each call in
//! its own savepoint (a failing call undoes only itself), commits once and only then answers
//! each caller. Two hundred devices pushing at once thus share a handful of commits instead
//! of waiting for two hundred disk syncs one after another, and a pushing device still hears
//! "accepted" only once its records are on disk. Tenants never wait on each other.
//!
//! `synchronous = FULL`: an acknowledged push survives a power cut, not only a crash of the
//! server; group commit is what makes that affordable.
//!
//! The writer's time bounds a tenant's pushes, so it does as little as it can: each pushed
//! record is prepared beforehand on a read-only connection, on the other cores (loaded,
//! merged with the pushed changes, hydrated, encoded: see [`review::Prepared`]), and the
//! writer only checks that the stored document did not move on meanwhile, judges and
//! stores. A pull reads the change sequence along indexes of who may see each record
//! instead of scanning it all: a rep's pull reads their own rows and the unowned ones, not
//! their colleagues'.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use automerge::ChangeHash;
use fieldsales_core::doc::{RecordDoc, encode_heads};
use fieldsales_core::engine::Me;
use fieldsales_core::record::{AnyRecord, DataScope, Header, IdSet, UserProfile};
use fieldsales_core::scope::Visibility;
use fieldsales_core::store::{Store as CoreStore, Tx};
use fieldsales_core::sync::protocol::{Bytes, PulledRecord, PushRecord};
use fieldsales_core::{Error, RecordId, Timestamp};
use rusqlite::{OptionalExtension, params};
use tokio::sync::oneshot;

use super::review::{self, Merged, TenantView};
use super::{AdminWriteError, Dashboard, DashboardQuery, Page, Pull, Push, RecordStore, Verdict};
use crate::jobs::{JobParams, JobReport};
use crate::model::{DeviceId, TenantId};
use crate::store::StoreError;

const SYNC_TABLES: &str = "
CREATE TABLE IF NOT EXISTS sync_counter (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    -- The sequence number after the last renumbering of every record (an org tree or role
    -- change): a cursor below it is judged against every record again.
    relogged_at INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO sync_counter (id, seq) VALUES (1, 0);
-- One row per record: its place in the change sequence and who may see it.
CREATE TABLE IF NOT EXISTS sync_log (
    record_id   BLOB PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    heads       BLOB NOT NULL,
    owner_id    BLOB,
    org_unit_id BLOB,
    created_by  BLOB,
    shared_with BLOB,               -- concatenated 16-byte ids
    -- The sequence number at which the record last changed who may see it (or may have
    -- left a device that cannot see it); 0 when never. A device whose cursor is below it may
    -- hold the record without seeing it any more.
    moved_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- What each device holds: the heads it was sent (at which page cursor; 0 = it pushed them),
-- or when it was told to delete the record.
CREATE TABLE IF NOT EXISTS device_records (
    device_id      BLOB NOT NULL,
    record_id      BLOB NOT NULL,
    held           INTEGER NOT NULL,
    heads          BLOB,
    heads_cursor   INTEGER NOT NULL DEFAULT 0,
    removed_cursor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, record_id)
) WITHOUT ROWID;
";

/// Added after the first release: brings an older tenant file up to [`SYNC_TABLES`]. Its
/// records carry no `moved_at`, so every cursor it already handed out is judged against
/// every record once more (`relogged_at`), as before.
const SYNC_UPGRADE_MOVED_AT: &str = "
ALTER TABLE sync_log ADD COLUMN moved_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_counter ADD COLUMN relogged_at INTEGER NOT NULL DEFAULT 0;
UPDATE sync_counter SET relogged_at = seq;
";

/// A pull reads the sequence along these: a user's own records, the unowned ones, each unit
/// they see, records shared with someone, records that moved.
const SYNC_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS sync_log_owner ON sync_log(owner_id, seq);
CREATE INDEX IF NOT EXISTS sync_log_unit ON sync_log(org_unit_id, seq);
CREATE INDEX IF NOT EXISTS sync_log_shared ON sync_log(seq) WHERE length(shared_with) > 0;
CREATE INDEX IF NOT EXISTS sync_log_moved ON sync_log(moved_at) WHERE moved_at > 0;
";

/// Creates or upgrades the sync tables of a tenant's store.
fn prepare_sync_tables(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SYNC_TABLES)?;
    let has_moved_at: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('sync_log') WHERE name = 'moved_at'",
        [],
        |r| r.get(0),
    )?;
    if !has_moved_at {
        conn.execute_batch(&format!("BEGIN; {SYNC_UPGRADE_MOVED_AT} COMMIT;"))?;
    }
    conn.execute_batch(SYNC_INDEXES)
}

/// Tenants' records in SQLite files under one directory.
#[derive(Clone)]
pub struct SqliteRecords {
    dir: PathBuf,
    tenants: Arc<Mutex<HashMap<TenantId, Arc<Tenant>>>>,
    /// Pushes being prepared at once, one per core: a burst of pushes is then prepared in
    /// turn and reaches the writer in turn, instead of all finishing together at the end
    /// while the writer waits.
    preparing: Arc<tokio::sync::Semaphore>,
}

/// What a queued call hands back once it ran: it answers its caller with the commit's
/// outcome (`Err` carries why the shared commit failed).
type Answer = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued call: runs inside the shared transaction; `false` when its savepoint could not
/// be closed, which dooms the whole batch.
type Job = Box<dyn FnOnce(&mut Tx<'_>) -> (Answer, bool) + Send>;

/// Calls one commit takes at most, oldest first: enough to share a disk sync widely, few
/// enough that the first callers are not held for everyone's work. Calls left queued are run
/// by the threads that queued them (each thread that queues a call drains the queue once).
const MAX_GROUP: usize = 32;

/// One tenant's store and the calls waiting for it.
struct Tenant {
    store: Mutex<CoreStore>,
    queue: Mutex<Vec<Job>>,
    /// The file, for reading connections beside the writer.
    path: PathBuf,
    /// The server's Automerge actor in this tenant.
    actor: automerge::ActorId,
    /// Read-only connections not in use (WAL: they read the last commit while the writer
    /// writes).
    readers: Mutex<Vec<rusqlite::Connection>>,
}

/// Read-only connections a tenant keeps for later.
const MAX_IDLE_READERS: usize = 4;

impl Tenant {
    /// Runs `f` with a read-only connection to the tenant's file.
    fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => rusqlite::Connection::open_with_flags(
                &self.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let out = f(&conn);
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
        out
    }

    /// Prepares each pushed record from a read of its stored document (see
    /// [`review::Prepared`]), the records split among the cores. A record whose preparation
    /// fails is left to the writer, which prepares it again and reports what went wrong.
    fn prepare_push(&self, push: &Push, threads: usize) -> Vec<Option<review::Prepared>> {
        const MIN_CHUNK: usize = 16;
        let workers = threads.clamp(1, push.records.len().div_ceil(MIN_CHUNK).max(1));
        let chunk = push.records.len().div_ceil(workers).max(1);
        let prepare_chunk = |records: &[PushRecord]| -> Vec<Option<review::Prepared>> {
            self.read(|conn| {
                Ok(records
                    .iter()
                    .map(|pushed| {
                        review::stored(conn, pushed.id)
                            .and_then(|row| review::prepare(&self.actor, &push.actors, pushed, row))
                            .ok()
                    })
                    .collect())
            })
            .unwrap_or_else(|_| records.iter().map(|_| None).collect())
        };
        if workers == 1 {
            return prepare_chunk(&push.records);
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = push
                .records
                .chunks(chunk)
                .map(|records| scope.spawn(move || prepare_chunk(records)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }
}

impl Tenant {
    /// Takes the store and runs every queued call in one transaction; returns at once when
    /// another thread already ran them.
    fn run_queued(&self) {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let jobs: Vec<Job> = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let n = queue.len().min(MAX_GROUP);
            queue.drain(..n).collect()
        };
        if jobs.is_empty() {
            return;
        }
        let mut answers = Vec::with_capacity(jobs.len());
        let committed = store.transaction(|tx| {
            let mut intact = true;
            for job in jobs {
                let (answer, ok) = job(tx);
                answers.push(answer);
                intact &= ok;
            }
            if intact {
                Ok(())
            } else {
                Err(Error::InvalidInput {
                    field: "transaction",
                    detail: "a savepoint could not be closed; the batch is rolled back".into(),
                })
            }
        });
        let committed = committed.map_err(|e| e.to_string());
        if let Err(e) = &committed {
            tracing::error!(error = %e, calls = answers.len(), "a tenant's group commit failed");
        }
        for answer in answers {
            answer(committed.clone());
        }
    }
}

/// Runs `f` in a savepoint of `tx`: its writes are undone when it fails. The flag says
/// whether the savepoint was closed.
fn in_savepoint<T>(
    tx: &mut Tx<'_>,
    f: impl FnOnce(&mut Tx<'_>) -> Result<T, Error>,
) -> (Result<T, Error>, bool) {
    if let Err(e) = tx.connection().execute_batch("SAVEPOINT call") {
        return (Err(e.into()), true);
    }
    let out = f(tx);
    let close = if out.is_ok() {
        "RELEASE call"
    } else {
        "ROLLBACK TO call; RELEASE call"
    };
    match tx.connection().execute_batch(close) {
        Ok(()) => (out, true),
        Err(e) => (Err(e.into()), false),
    }
}

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
        }
    }

    fn tenant(&self, tenant: TenantId) -> Result<Arc<Tenant>, StoreError> {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = tenants.get(&tenant) {
            return Ok(Arc::clone(found));
        }
        crate::create_data_dir(&self.dir).map_err(backend)?;
        let path = self.dir.join(format!("{tenant}.sqlite3"));
        let store = CoreStore::open(&path).map_err(backend)?;
        store
            .connection()
            .pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        // A server's tenant is read and written all day: a page cache of up to 64 MiB
        // (filled as pages are read) instead of the phone's 2 MB.
        store
            .connection()
            .pragma_update(None, "cache_size", -65_536)
            .map_err(backend)?;
        prepare_sync_tables(store.connection()).map_err(backend)?;
        let found = Arc::new(Tenant {
            actor: store.actor().clone(),
            store: Mutex::new(store),
            queue: Mutex::new(Vec::new()),
            path,
            readers: Mutex::new(Vec::new()),
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

    /// Prepares a push's records beside the writer (see [`Tenant::prepare_push`]), one push
    /// at a time per spare core.
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
        // A push prepared alone takes the idle cores too (a lone device's large push).
        let threads = 1 + self.preparing.available_permits();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let prepared = match this.tenant(tenant) {
                Ok(found) => found.prepare_push(&push, threads),
                Err(_) => Vec::new(),
            };
            (push, prepared)
        })
        .await
        .map_err(backend)
    }

    /// Runs `f` in the tenant's next group commit (see the module documentation); answers
    /// once the transaction `f` ran in is committed.
    pub async fn in_group_commit<T, F>(&self, tenant: TenantId, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, Error> + Send + 'static,
    {
        let (send, receive) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |tx| {
            let (out, intact) = in_savepoint(tx, f);
            let answer: Answer = Box::new(move |committed| {
                let result = match committed {
                    Ok(()) => out.map_err(backend),
                    Err(why) => Err(backend(std::io::Error::other(why))),
                };
                // The caller may have gone (a dropped request); nothing to tell then.
                let _ = send.send(result);
            });
            (answer, intact)
        });
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found = this.tenant(tenant)?;
            found
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(job);
            found.run_queued();
            Ok::<(), StoreError>(())
        })
        .await
        .map_err(backend)??;
        receive
            .await
            .map_err(|_| backend(std::io::Error::other("the tenant's writer stopped")))?
    }
}

/// The next number of the change sequence (read, then written: a statement with
/// `RETURNING` opens a statement journal, which makes the search index flush its pending
/// entries once per record instead of once per call).
fn next_seq(conn: &rusqlite::Connection) -> Result<i64, Error> {
    let seq: i64 = conn
        .prepare_cached("SELECT seq FROM sync_counter WHERE id = 1")?
        .query_row([], |r| r.get::<_, i64>(0))?
        + 1;
    conn.prepare_cached("UPDATE sync_counter SET seq = ?1 WHERE id = 1")?
        .execute([seq])?;
    Ok(seq)
}

/// Who may see a record, as the sequence keeps it.
#[derive(PartialEq)]
struct Reach {
    owner: Option<RecordId>,
    unit: Option<RecordId>,
    created_by: Option<RecordId>,
    shared: Vec<u8>,
}

/// Renumbers a record in the change sequence and records who may see it. `left_holder`:
/// a device holds the record that may not see it (a device pushed a record it cannot see).
pub(crate) fn bump(
    tx: &Tx<'_>,
    record: &AnyRecord,
    heads: &[ChangeHash],
    left_holder: bool,
) -> Result<u64, Error> {
    let conn = tx.connection();
    let seq = next_seq(conn)?;
    let h = record.header();
    let reach = Reach {
        owner: h.owner_id,
        unit: h.org_unit_id,
        created_by: h.created_by,
        shared: h
            .shared_with
            .iter()
            .flat_map(|id| id.as_uuid().as_bytes().to_vec())
            .collect(),
    };
    let before: Option<(Reach, i64)> = conn
        .prepare_cached(
            "SELECT owner_id, org_unit_id, created_by, shared_with, moved_at FROM sync_log
             WHERE record_id = ?1",
        )?
        .query_row([h.id], |r| {
            Ok((
                Reach {
                    owner: r.get(0)?,
                    unit: r.get(1)?,
                    created_by: r.get(2)?,
                    shared: r.get::<_, Option<Vec<u8>>>(3)?.unwrap_or_default(),
                },
                r.get(4)?,
            ))
        })
        .optional()?;
    let moved_at = match &before {
        _ if left_holder => seq,
        Some((was, _)) if *was != reach => seq,
        Some((_, moved_at)) => *moved_at,
        None => 0,
    };
    conn.prepare_cached(
        "INSERT INTO sync_log
             (record_id, seq, heads, owner_id, org_unit_id, created_by, shared_with, moved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(record_id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
             owner_id = excluded.owner_id, org_unit_id = excluded.org_unit_id,
             created_by = excluded.created_by, shared_with = excluded.shared_with,
             moved_at = excluded.moved_at",
    )?
    .execute(params![
        h.id,
        seq,
        encode_heads(heads),
        reach.owner,
        reach.unit,
        reach.created_by,
        reach.shared,
        moved_at
    ])?;
    Ok(seq as u64)
}

/// Moves a record to the end of the change sequence as having left someone's view, though
/// it did not change: a device holds it that may not see it.
fn relog_moved(tx: &Tx<'_>, id: RecordId) -> Result<(), Error> {
    let conn = tx.connection();
    let seq = next_seq(conn)?;
    conn.prepare_cached("UPDATE sync_log SET seq = ?2, moved_at = ?2 WHERE record_id = ?1")?
        .execute(params![id, seq])?;
    Ok(())
}

fn mark_held(
    tx: &Tx<'_>,
    device: DeviceId,
    id: RecordId,
    heads: Option<&[u8]>,
    heads_cursor: u64,
) -> Result<(), Error> {
    let conn = tx.connection();
    match heads {
        Some(heads) => conn
            .prepare_cached(
                "INSERT INTO device_records (device_id, record_id, held, heads, heads_cursor)
                 VALUES (?1, ?2, 1, ?3, ?4)
                 ON CONFLICT(device_id, record_id) DO UPDATE SET held = 1,
                     heads = excluded.heads, heads_cursor = excluded.heads_cursor",
            )?
            .execute(params![
                device.as_bytes().as_slice(),
                id,
                heads,
                heads_cursor as i64
            ])?,
        None => conn
            .prepare_cached(
                "INSERT INTO device_records (device_id, record_id, held) VALUES (?1, ?2, 1)
                 ON CONFLICT(device_id, record_id) DO UPDATE SET held = 1",
            )?
            .execute(params![device.as_bytes().as_slice(), id])?,
    };
    Ok(())
}

fn push_blocking(
    tx: &mut Tx<'_>,
    push: &Push,
    prepared: Vec<Option<review::Prepared>>,
) -> Result<Vec<Verdict>, Error> {
    {
        let view = TenantView::load(tx)?;
        let author = view.tree.viewer(&push.author);
        let mut verdicts = Vec::with_capacity(push.records.len());
        let mut prepared = prepared.into_iter();
        for pushed in &push.records {
            let ready = prepared.next().flatten();
            match review::merge(tx, &view, push, pushed, ready)? {
                Merged::Unchanged {
                    ack,
                    device_current,
                    heads,
                } => {
                    if device_current {
                        mark_held(tx, push.device, pushed.id, heads.as_deref(), 0)?;
                    }
                    verdicts.push(Verdict::Accepted(ack));
                }
                Merged::Stored {
                    ack,
                    record,
                    heads,
                    device_current,
                } => {
                    bump(tx, &record, &heads, !author.can_see(record.header()))?;
                    let encoded = encode_heads(&heads);
                    mark_held(
                        tx,
                        push.device,
                        pushed.id,
                        device_current.then_some(encoded.as_slice()),
                        0,
                    )?;
                    verdicts.push(Verdict::Accepted(ack));
                }
                Merged::Rejected(rejected) => {
                    if rejected.server_doc.is_some() {
                        // The device adopts the server's version; when it may not see the
                        // record, its next pull must find the record and remove it.
                        mark_held(tx, push.device, pushed.id, None, 0)?;
                        if logged(tx, pushed.id)?.is_some_and(|row| !author.can_see(&row.header()))
                        {
                            relog_moved(tx, pushed.id)?;
                        }
                    }
                    verdicts.push(Verdict::Rejected(rejected));
                }
            }
        }
        Ok(verdicts)
    }
}

/// A record's row in the change sequence.
struct LogRow {
    id: RecordId,
    seq: u64,
    heads: Vec<u8>,
    owner: Option<RecordId>,
    unit: Option<RecordId>,
    created_by: Option<RecordId>,
    shared: Option<Vec<u8>>,
}

const LOG_COLUMNS: &str = "record_id, seq, heads, owner_id, org_unit_id, created_by, shared_with";

impl LogRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<LogRow> {
        Ok(LogRow {
            id: r.get(0)?,
            seq: r.get::<_, i64>(1)? as u64,
            heads: r.get(2)?,
            owner: r.get(3)?,
            unit: r.get(4)?,
            created_by: r.get(5)?,
            shared: r.get(6)?,
        })
    }

    /// What the visibility rule reads of the record.
    fn header(&self) -> Header {
        let mut shared_with = IdSet::new();
        for chunk in self.shared.as_deref().unwrap_or_default().chunks_exact(16) {
            if let Ok(uuid) = uuid::Uuid::from_slice(chunk) {
                shared_with.insert(RecordId::from_uuid(uuid));
            }
        }
        Header {
            id: self.id,
            owner_id: self.owner,
            org_unit_id: self.unit,
            shared_with,
            created_at: Timestamp::default(),
            created_by: self.created_by,
            deleted: None,
        }
    }
}

/// The record's row in the change sequence, if it has one.
fn logged(tx: &Tx<'_>, id: RecordId) -> Result<Option<LogRow>, Error> {
    Ok(tx
        .connection()
        .prepare_cached(&format!(
            "SELECT {LOG_COLUMNS} FROM sync_log WHERE record_id = ?1"
        ))?
        .query_row([id], LogRow::read)
        .optional()?)
}

struct HeldRow {
    held: bool,
    heads: Option<Vec<u8>>,
    heads_cursor: u64,
    removed_cursor: u64,
}

/// What the device holds of a record or was told to delete.
fn held_row(tx: &Tx<'_>, device: &[u8], id: RecordId) -> Result<Option<HeldRow>, Error> {
    Ok(tx
        .connection()
        .prepare_cached(
            "SELECT held, heads, heads_cursor, removed_cursor FROM device_records
             WHERE device_id = ?1 AND record_id = ?2",
        )?
        .query_row(params![device, id], |r| {
            Ok(HeldRow {
                held: r.get(0)?,
                heads: r.get(1)?,
                heads_cursor: r.get::<_, i64>(2)? as u64,
                removed_cursor: r.get::<_, i64>(3)? as u64,
            })
        })
        .optional()?)
}

/// The SQL of the next rows of the change sequence a pull must judge, after `?1`, at most
/// `?2`, in order: the whole sequence when `everything`; otherwise only the rows the user
/// might see (their own, the unowned, those shared with someone, those of each unit they
/// see: `?3` is the user, `?4`… the units) and the rows that moved after the cursor (a
/// device may hold them without seeing them any more). Each part is read along its own
/// index and stops at `?2` rows; the first `?2` of their union are the first `?2` of the
/// sequence one filter over the whole sequence would give.
fn scan_sql(everything: bool, units: usize) -> String {
    if everything {
        return format!("SELECT {LOG_COLUMNS} FROM sync_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    }
    // Each part names its index: ordered by `seq` with a limit, the planner would otherwise
    // rather walk the whole sequence in order than sort a few rows found by an index.
    let part = |index: &str, filter: &str| {
        format!(
            "SELECT * FROM (SELECT {LOG_COLUMNS} FROM sync_log INDEXED BY {index}
                 WHERE {filter} ORDER BY seq LIMIT ?2)"
        )
    };
    let mut parts = vec![
        part("sync_log_owner", "owner_id = ?3 AND seq > ?1"),
        part("sync_log_owner", "owner_id IS NULL AND seq > ?1"),
        part("sync_log_shared", "length(shared_with) > 0 AND seq > ?1"),
        part("sync_log_moved", "moved_at > 0 AND moved_at > ?1"),
    ];
    for u in 0..units {
        parts.push(part(
            "sync_log_unit",
            &format!("org_unit_id = ?{} AND seq > ?1", u + 4),
        ));
    }
    format!("{} ORDER BY seq LIMIT ?2", parts.join(" UNION "))
}

/// Whether a pull reads the whole sequence after the cursor: for a user who sees everything,
/// or from a cursor older than the last renumbering (whose moves are not recorded per row).
fn scans_everything(visible: &Visibility, cursor: u64, relogged_at: i64) -> bool {
    matches!(visible, Visibility::All) || (cursor as i64) < relogged_at
}

fn pull_blocking(tx: &mut Tx<'_>, pull: &Pull) -> Result<Page, Error> {
    const BATCH: i64 = 1024;
    let tree = fieldsales_core::scope::OrgTree::load(tx.connection())?;
    let viewer = tree.viewer(&pull.viewer);
    let device = pull.device.as_bytes().as_slice();
    let relogged_at: i64 = tx
        .connection()
        .prepare_cached("SELECT relogged_at FROM sync_counter WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    // SQL narrows the scan to rows the user might see or the device might hold; the rule
    // itself is applied below, in Rust, by the one `can_see`.
    let everything = scans_everything(viewer.visible_units(), pull.cursor, relogged_at);
    let units: Vec<RecordId> = match viewer.visible_units() {
        Visibility::Units(set) if !everything => set.iter().copied().collect(),
        _ => Vec::new(),
    };
    let sql = scan_sql(everything, units.len());
    let mut page = Page {
        cursor: pull.cursor,
        ..Page::default()
    };
    let mut sent: Vec<(RecordId, Vec<u8>)> = Vec::new();
    let mut scanned = 0usize;
    let mut bytes = 0usize;
    let mut reached_end = false;
    'scan: loop {
        let rows: Vec<LogRow> = {
            let mut stmt = tx.connection().prepare_cached(&sql)?;
            let mut values: Vec<rusqlite::types::Value> =
                vec![(page.cursor as i64).into(), BATCH.into()];
            if !everything {
                values.push(pull.viewer.user_id.as_bytes().to_vec().into());
                values.extend(units.iter().map(|u| u.as_bytes().to_vec().into()));
            }
            let rows = stmt.query_map(rusqlite::params_from_iter(values), LogRow::read)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let full = rows.len() as i64 == BATCH;
        for row in rows {
            if page.records.len() >= pull.limit
                || (bytes >= pull.max_bytes && !page.records.is_empty())
                || scanned >= pull.max_scan
            {
                page.has_more = true;
                break 'scan;
            }
            scanned += 1;
            page.cursor = row.seq;
            let held = held_row(tx, device, row.id)?;
            if viewer.can_see(&row.header()) {
                let current = held.as_ref().is_some_and(|h| {
                    h.held
                        && h.heads.as_deref() == Some(row.heads.as_slice())
                        && h.heads_cursor <= pull.cursor
                });
                if current {
                    continue;
                }
                let doc: Option<Vec<u8>> = tx
                    .connection()
                    .prepare_cached("SELECT doc FROM documents WHERE id = ?1")?
                    .query_row([row.id], |r| r.get(0))
                    .optional()?;
                let Some(doc) = doc else { continue };
                bytes += doc.len();
                sent.push((row.id, row.heads.clone()));
                page.records.push(PulledRecord {
                    id: row.id,
                    doc: Bytes(doc),
                    heads: Bytes(row.heads),
                });
            } else if held.is_some_and(|h| h.held || h.removed_cursor > pull.cursor) {
                page.removed.push(row.id);
            }
        }
        if !full {
            reached_end = true;
            break;
        }
    }
    if reached_end {
        // Rows the filter skipped are behind the cursor too: nothing for this device.
        let last: i64 = tx
            .connection()
            .prepare_cached("SELECT seq FROM sync_counter WHERE id = 1")?
            .query_row([], |r| r.get(0))?;
        page.cursor = page.cursor.max(last as u64);
    }
    for (id, heads) in &sent {
        mark_held(tx, pull.device, *id, Some(heads), page.cursor)?;
    }
    for id in &page.removed {
        tx.connection()
            .prepare_cached(
                "UPDATE device_records SET held = 0, heads = NULL, removed_cursor = ?3
                 WHERE device_id = ?1 AND record_id = ?2",
            )?
            .execute(params![device, id, page.cursor as i64])?;
    }
    Ok(page)
}

fn me_blocking(tx: &Tx<'_>, profile: RecordId) -> Result<Option<Me>, Error> {
    let user: UserProfile = match tx.get(profile) {
        Ok(u) => u,
        Err(Error::NotFound { .. } | Error::WrongKind { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if user.header.is_deleted() || !user.active {
        return Ok(None);
    }
    let roles: Vec<String> = user.roles.iter().cloned().collect();
    let mut scope = DataScope::Own;
    {
        let mut stmt = tx
            .connection()
            .prepare_cached("SELECT code, data_scope FROM roles WHERE deleted = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (code, data_scope) = row?;
            if roles.contains(&code) {
                let candidate = DataScope::from_code(&data_scope);
                if breadth(&candidate) > breadth(&scope) {
                    scope = candidate;
                }
            }
        }
    }
    Ok(Some(Me {
        user_id: profile,
        unit_id: user.unit_id,
        roles,
        scope,
        zone: user.zone,
    }))
}

/// How much a scope shows; a scope this version does not know shows the least.
fn breadth(scope: &DataScope) -> u8 {
    match scope {
        DataScope::All => 3,
        DataScope::Region => 2,
        DataScope::Subtree => 1,
        _ => 0,
    }
}

fn put_blocking(
    store: &mut CoreStore,
    record: AnyRecord,
    now: Timestamp,
) -> Result<Result<RecordId, AdminWriteError>, Error> {
    if let Err(invalid) = record.validate() {
        return Ok(Err(AdminWriteError::Invalid(invalid.to_string())));
    }
    let id = record.header().id;
    store.transaction(|tx| {
        let mut doc = match tx.load_document(id)? {
            Some(doc) => {
                let found = doc.kind_code().unwrap_or_default();
                if found != record.kind().as_str() {
                    return Ok(Err(AdminWriteError::WrongKind { id, found }));
                }
                doc
            }
            None => RecordDoc::empty(tx.actor()),
        };
        let before = match tx.get_any(id) {
            Ok(before) => Some(before),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        doc.write(&record, now)
            .map_err(|e| Error::document(id, e))?;
        let heads = doc.heads();
        tx.save_document(id, &mut doc, Some(&heads))?;
        if before.is_some_and(|before| changes_visibility(&before, &record)) {
            relog_all(tx)?;
        }
        bump(tx, &record, &heads, false)?;
        Ok(Ok(id))
    })
}

/// Whether replacing `before` by `after` can change who sees which records: a unit moved in
/// the tree, a person moved or given other roles, a role given another data scope.
fn changes_visibility(before: &AnyRecord, after: &AnyRecord) -> bool {
    match (before, after) {
        (AnyRecord::OrgUnit(b), AnyRecord::OrgUnit(a)) => {
            b.parent_id != a.parent_id || b.level != a.level
        }
        (AnyRecord::UserProfile(b), AnyRecord::UserProfile(a)) => {
            b.unit_id != a.unit_id || b.roles != a.roles || b.active != a.active
        }
        (AnyRecord::Role(b), AnyRecord::Role(a)) => b.data_scope != a.data_scope,
        _ => false,
    }
}

/// Moves every record to the end of the change sequence, in its order, so that every
/// device's next pull judges them all again against the new org tree and roles: records now
/// visible arrive whole, records no longer visible are removed, and those a device already
/// holds at the same heads are skipped (its holdings are kept per device). No record changed,
/// so nothing else would bring them back into a pull.
fn relog_all(tx: &Tx<'_>) -> Result<(), Error> {
    let conn = tx.connection();
    let last: i64 = conn
        .prepare_cached("SELECT seq FROM sync_counter WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    // Every new number is above every old one, so the UNIQUE sequence never collides midway.
    conn.execute("UPDATE sync_log SET seq = seq + ?1", [last])?;
    conn.execute(
        "UPDATE sync_counter SET seq = seq + ?1, relogged_at = seq + ?1 WHERE id = 1",
        [last],
    )?;
    tracing::info!(
        sequence = last,
        "org tree or roles changed: every record relogged"
    );
    Ok(())
}

#[async_trait]
impl RecordStore for SqliteRecords {
    async fn me(&self, tenant: TenantId, profile: RecordId) -> Result<Option<Me>, StoreError> {
        self.in_group_commit(tenant, move |tx| me_blocking(tx, profile))
            .await
    }

    async fn push(&self, tenant: TenantId, push: Push) -> Result<Vec<Verdict>, StoreError> {
        let (push, prepared) = self.prepare(tenant, push).await?;
        self.in_group_commit(tenant, move |tx| push_blocking(tx, &push, prepared))
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
        self.in_group_commit(tenant, move |tx| {
            let verdicts = match push {
                Some((push, prepared)) => push_blocking(tx, &push, prepared)?,
                None => Vec::new(),
            };
            Ok((verdicts, pull_blocking(tx, &pull)?))
        })
        .await
    }

    async fn pull(&self, tenant: TenantId, pull: Pull) -> Result<Page, StoreError> {
        self.in_group_commit(tenant, move |tx| pull_blocking(tx, &pull))
            .await
    }

    async fn dashboard(
        &self,
        tenant: TenantId,
        viewer: Me,
        query: DashboardQuery,
        now: Timestamp,
    ) -> Result<Dashboard, StoreError> {
        self.with_tenant(tenant, move |store| {
            super::dashboards::compute(store, viewer, &query, now).map_err(backend)
        })
        .await
    }

    async fn put(
        &self,
        tenant: TenantId,
        record: AnyRecord,
        now: Timestamp,
    ) -> Result<RecordId, AdminWriteError> {
        self.with_tenant(tenant, move |store| {
            put_blocking(store, record, now).map_err(backend)
        })
        .await?
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

    async fn run_jobs(&self, tenant: TenantId, params: JobParams) -> Result<JobReport, StoreError> {
        self.with_tenant(tenant, move |store| {
            crate::jobs::run_blocking(store, params).map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    .connection()
                    .query_row("SELECT count(*) FROM sync_log", [], |r| r.get(0))?)
            })
            .await
            .unwrap()
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
                            tx.connection().execute(
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
        {
            let store = CoreStore::open(dir.path().join(format!("{tenant}.sqlite3"))).unwrap();
            store
                .connection()
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
        let store = found.store.lock().unwrap();
        let (seq, relogged_at): (i64, i64) = store
            .connection()
            .query_row("SELECT seq, relogged_at FROM sync_counter", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((seq, relogged_at), (42, 42));
        let moved_at: i64 = store
            .connection()
            .query_row("SELECT moved_at FROM sync_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(moved_at, 0);
        let team = Visibility::Units([RecordId::new()].into_iter().collect());
        assert!(scans_everything(&team, 41, relogged_at));
        assert!(!scans_everything(&team, 42, relogged_at));
        assert!(scans_everything(&Visibility::All, 42, relogged_at));
        // Opening again does not upgrade twice.
        drop(store);
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
            actors: vec![device_actor.clone(), other_actor.clone()],
            author: Me {
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
        let prepared = records
            .tenant(tenant)
            .unwrap()
            .prepare_push(&industry_push, 2);
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
                push_blocking(tx, &industry_push, prepared)
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
