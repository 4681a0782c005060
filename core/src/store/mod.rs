//! The local store: one SQLite file per signed-in user.
//!
//! The saved Automerge document of each record is the truth. Every write updates, **in the
//! same SQLite transaction**, the document, its projections (the `records` index, the kind
//! table, the search index, the duplicate-check names) and the outbox (records with changes the
//! server has not acknowledged). A crash at any point leaves a write either fully there or not
//! at all; [`Store::check_consistency`] proves it after the fact.
//!
//! Documents are loaded one at a time when asked for; listing, search and dashboards run in
//! SQL over the projections, so memory does not grow with the number of records.
//!
//! This module is core's fact layer: only core speaks core's SQL. Reads are the typed
//! queries of [`StoreRead`], implemented alike by a [`Store`], a write transaction ([`Tx`])
//! and a read-only [`Reader`]; the rules' facts are [`Facts`], the one implementation of
//! [`crate::authority::Lookup`]; writes go through [`Store::transaction`]. Another crate may
//! keep tables of its own in a store's file ([`StoreOptions::extensions`], migrated by the
//! workspace's one mechanism, [`migrate`]) and write them in the same transaction through
//! [`Tx::extension_sql`], but never reads or writes core's.
//!
//! ```
//! use fieldsales_core::record::{Customer, Header};
//! use fieldsales_core::store::{Store, StoreRead};
//! use fieldsales_core::{RecordId, Timestamp};
//!
//! # fn main() -> Result<(), fieldsales_core::Error> {
//! let mut store = Store::open_in_memory()?;
//! let rep = RecordId::new();
//! let customer = Customer::new(Header::new(rep, Timestamp::now()), "华为技术有限公司");
//! let id = store.create(customer)?.header.id;
//! let hits = store.search("华为", &[], 10)?;
//! assert_eq!(hits[0].id, id);
//! assert_eq!(store.pending()?, vec![id], "not yet acknowledged by the server");
//! # Ok(()) }
//! ```

mod checkpoint;
mod consistency;
mod customers;
pub(crate) mod directory;
mod facts;
#[cfg(feature = "encryption")]
mod key;
pub mod migrate;
mod projection;
mod query;
pub(crate) mod read;
mod schema;
mod sql;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use automerge::{ActorId, ChangeHash};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

pub use checkpoint::{Checkpointed, checkpoint};
pub use consistency::ConsistencyReport;
pub use customers::DEFAULT_NEAR_THRESHOLD;
pub use directory::PersonRow;
pub use facts::{FactCache, Facts};
#[cfg(feature = "encryption")]
pub use key::{STORE_KEY_BYTES, StoreKey};
pub use query::{
    DeletedFilter, DuplicateReport, ListFilter, NearDuplicate, RecordSummary, SearchHit,
};
pub use read::{Reader, StoreRead, StoredDocument};
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;
pub use sync::{RejectedChange, SetAside};

use crate::doc::{DocError, OwnChanges, RecordDoc, decode_heads, encode_heads};
use crate::error::{Error, Result};
use crate::record::private::{self, PrivateField, SensitiveField};
use crate::record::{AnyRecord, Kind, Record, Tombstone};
use crate::time::{Clock, SystemClock};
use crate::{RecordId, Timestamp};

const META_ACTOR: &str = "actor";
/// The random key photos are sealed with, kept inside an encrypted store (so changing the
/// store's key leaves them as they are, and wiping the store leaves them unreadable).
pub(crate) const META_ATTACHMENT_KEY: &str = "attachments.key";
/// Set while the photos of a store encrypted in place are not all sealed yet.
#[cfg(feature = "encryption")]
const META_SEALING: &str = "attachments.sealing";
/// The actors this store wrote changes as before its current one (a sign-in again of the same
/// user keeps the store and registers a fresh actor; the server keeps the old ones registered
/// to the device): each as a length byte and the actor's bytes.
const META_PREVIOUS_ACTORS: &str = "actors.previous";

/// The local store.
pub struct Store {
    conn: Connection,
    actor: ActorId,
    clock: Arc<dyn Clock>,
    path: Option<PathBuf>,
    /// Whether the file is encrypted (opened with a key).
    encrypted: bool,
}

/// How a store file is opened, beyond the phone's defaults.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// `synchronous = FULL`: a committed write survives a power cut, not only a crash of the
    /// process (the server, which acknowledges pushes). The phone's default, `NORMAL`, may lose
    /// the last commits to an OS crash and never corrupts.
    pub durable: bool,
    /// Page cache, KiB, filled only as pages are read (the phone's 2,000 by default).
    pub cache_kib: u32,
    /// Schemas of other crates kept in the same file, migrated after core's (the server's sync
    /// tables). Their SQL goes through [`Tx::extension_sql`].
    pub extensions: &'static [&'static migrate::Migrations],
    /// The write-ahead log is checkpointed beside the writer: its owner calls [`checkpoint`]
    /// from another thread, and the writer checkpoints only a log grown past a backstop (see
    /// that module: a server's writer is spared the commits that would each copy and sync a
    /// thousand pages).
    pub checkpoint_beside: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durable: false,
            cache_kib: 2_000,
            extensions: &[],
            checkpoint_beside: false,
        }
    }
}

/// What applying received changes did to a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The record is stored and projected; `pending` when local changes still await upload.
    Record {
        /// The record after the changes.
        record: Box<AnyRecord>,
        /// Whether local changes remain unacknowledged.
        pending: bool,
    },
    /// The document is of a kind this version does not know: kept as is, not projected.
    UnknownKind(String),
}

/// Reads the schema: [`Error::WrongKey`] when the file cannot be read as a database (a wrong
/// key, no key for an encrypted store, a key for a plain one, not a store at all).
fn readable(conn: &Connection) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(Error::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// Turns on SQLite's query planner stability guarantee for `conn`: a statement's plan never
/// depends on the values bound to it. Without it, a statement whose plan *could* depend on a
/// bound value (a `LIMIT ?`, a `LIKE ?`, an `=` whose selectivity is guessed from a small
/// integer) is marked to be compiled again whenever that parameter is bound anew — and the
/// statement cache clears every binding when a statement is handed back, so such a statement
/// was parsed and planned again on every use (the review of a pushed visit read its
/// neighbours twice per visit that way). The store runs no `ANALYZE`, so there were no
/// statistics for a bound value to improve a plan with; partial indexes are named by queries
/// that repeat their conditions literally. Public for the other SQLite files of the workspace
/// (the server's accounts store), which cache their statements the same way.
pub fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Deletes a database file and its WAL, shared-memory and journal files, if there.
pub(crate) fn remove_store_files(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The photo key as kept in the store's meta table.
mod zeroize_bytes {
    use crate::{Error, Result};

    /// The photo key: 32 bytes.
    #[cfg(feature = "encryption")]
    pub(crate) struct Key(pub(crate) zeroize::Zeroizing<[u8; 32]>);

    /// Without encryption there is never a photo key.
    #[cfg(not(feature = "encryption"))]
    pub(crate) enum Key {}

    impl Key {
        #[cfg(feature = "encryption")]
        pub(super) fn from_meta(bytes: Vec<u8>) -> Result<Key> {
            let bytes = zeroize::Zeroizing::new(bytes);
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                Error::Internal("the store's photo key is missing or damaged".into())
            })?;
            Ok(Key(zeroize::Zeroizing::new(key)))
        }

        #[cfg(not(feature = "encryption"))]
        pub(super) fn from_meta(_: Vec<u8>) -> Result<Key> {
            Err(Error::Internal(
                "an encrypted store in a build without encryption".into(),
            ))
        }

        #[cfg(feature = "encryption")]
        pub(super) fn random_meta() -> Result<Vec<u8>> {
            Ok(super::StoreKey::generate()?.as_bytes().to_vec())
        }

        #[cfg(not(feature = "encryption"))]
        pub(super) fn random_meta() -> Result<Vec<u8>> {
            Err(Error::Internal(
                "an encrypted store in a build without encryption".into(),
            ))
        }
    }
}

pub(crate) use zeroize_bytes::Key as AttachmentKey;

impl Store {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Opens the store with a clock of the caller's (tests, simulations).
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Store> {
        Self::open_with_options(path, clock, StoreOptions::default())
    }

    /// Opens the store with a clock and options of the caller's (the server's tenants).
    pub fn open_with_options(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
        options: StoreOptions,
    ) -> Result<Store> {
        let path = path.as_ref();
        let conn = Self::connect(path)?;
        Self::init(conn, clock, Some(path.to_path_buf()), options, false)
    }

    /// Opens (or creates) the encrypted store at `path` with `key` (see [`StoreKey`]). A
    /// wrong key, or a file that is not an encrypted store, is [`Error::WrongKey`], found
    /// before anything is written.
    #[cfg(feature = "encryption")]
    pub fn open_encrypted(path: impl AsRef<Path>, key: &StoreKey) -> Result<Store> {
        Self::open_encrypted_with_options(path, key, Arc::new(SystemClock), StoreOptions::default())
    }

    /// [`Store::open_encrypted`] with a clock and options of the caller's.
    #[cfg(feature = "encryption")]
    pub fn open_encrypted_with_options(
        path: impl AsRef<Path>,
        key: &StoreKey,
        clock: Arc<dyn Clock>,
        options: StoreOptions,
    ) -> Result<Store> {
        let path = path.as_ref();
        let conn = Self::connect(path)?;
        conn.execute_batch(&key.statement("key"))?;
        let store = Self::init(conn, clock, Some(path.to_path_buf()), options, true)?;
        if meta_get(&store.conn, META_SEALING)?.is_some() {
            // Encrypted in place, and cut short before every photo was sealed.
            crate::attachments::Attachments::beside(&store, u64::MAX)?.seal_plain_files()?;
            store
                .conn
                .execute("DELETE FROM meta WHERE key = ?1", [META_SEALING])?;
        }
        Ok(store)
    }

    /// Encrypts the plain store at `path` in place with `key`, for an app that kept its store
    /// plain before it turned encryption on; its photos are sealed too. The encrypted copy is
    /// written beside the file and renamed over it, so a crash leaves the plain store or the
    /// encrypted one, never a mix; a crash before every photo is sealed is finished by the
    /// next [`Store::open_encrypted`] (a photo not sealed yet reads as before meanwhile). A
    /// store that is already encrypted is [`Error::WrongKey`].
    #[cfg(feature = "encryption")]
    pub fn encrypt_plain(path: impl AsRef<Path>, key: &StoreKey) -> Result<()> {
        let path = path.as_ref();
        let plain = Store::open(path)?;
        let version: i64 = plain
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let mut name = path.as_os_str().to_owned();
        name.push(".encrypting");
        let copy = PathBuf::from(name);
        remove_store_files(&copy)?;
        plain.conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            params![copy.to_string_lossy(), &*key.raw_literal()],
        )?;
        let exported = plain.conn.execute_batch(&format!(
            "SELECT sqlcipher_export('encrypted'); PRAGMA encrypted.user_version = {version};
             INSERT OR REPLACE INTO encrypted.meta (key, value) VALUES ('{META_SEALING}', x'01');"
        ));
        plain.conn.execute_batch("DETACH DATABASE encrypted")?;
        exported?;
        plain
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        drop(plain);
        std::fs::File::open(&copy)?.sync_all()?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            match std::fs::remove_file(PathBuf::from(side)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        std::fs::rename(&copy, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        // Opening it seals the photos (the copy says they wait).
        Store::open_encrypted(path, key).map(drop)
    }

    fn connect(path: &Path) -> Result<Connection> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // SQLCipher would also write a wrong key's failed page check to the log (logcat on a
        // phone); the caller gets `Error::WrongKey` instead.
        #[cfg(feature = "encryption")]
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        Ok(conn)
    }

    /// Whether the store's file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Changes the key of an encrypted store: every page is written again under `new`, in
    /// one transaction (a crash leaves the store under the old key or the new one, never
    /// between). The photos' own key, kept inside, is unchanged.
    #[cfg(feature = "encryption")]
    pub fn rekey(&mut self, new: &StoreKey) -> Result<()> {
        if !self.encrypted {
            return Err(Error::InvalidInput {
                field: "key",
                detail: "the store is not encrypted: it has no key to change".into(),
            });
        }
        self.conn.execute_batch(&new.statement("rekey"))?;
        readable(&self.conn)
    }

    /// The key photos are sealed with: `None` for a plain store.
    pub(crate) fn attachment_key(&self) -> Result<Option<AttachmentKey>> {
        if !self.encrypted {
            return Ok(None);
        }
        let bytes = meta_get(&self.conn, META_ATTACHMENT_KEY)?.unwrap_or_default();
        AttachmentKey::from_meta(bytes).map(Some)
    }

    /// Writes a new photo key into an encrypted store that has none (a new store, a wiped one).
    fn ensure_attachment_key(&mut self) -> Result<()> {
        if self.encrypted && meta_get(&self.conn, META_ATTACHMENT_KEY)?.is_none() {
            meta_set(
                &self.conn,
                META_ATTACHMENT_KEY,
                AttachmentKey::random_meta()?,
            )?;
        }
        Ok(())
    }

    /// A store in memory, gone when dropped.
    pub fn open_in_memory() -> Result<Store> {
        Self::init(
            Connection::open_in_memory()?,
            Arc::new(SystemClock),
            None,
            StoreOptions::default(),
            false,
        )
    }

    /// A store in memory with the caller's clock.
    pub fn open_in_memory_with_clock(clock: Arc<dyn Clock>) -> Result<Store> {
        Self::init(
            Connection::open_in_memory()?,
            clock,
            None,
            StoreOptions::default(),
            false,
        )
    }

    fn init(
        mut conn: Connection,
        clock: Arc<dyn Clock>,
        path: Option<PathBuf>,
        options: StoreOptions,
        encrypted: bool,
    ) -> Result<Store> {
        // First a read of the schema: a wrong key (or none for an encrypted file, or a key
        // for a plain one) fails here, before anything is written.
        readable(&conn)?;
        // WAL: readers never block the writer. See `StoreOptions::durable` for `synchronous`.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let synchronous = if options.durable { "FULL" } else { "NORMAL" };
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -i64::from(options.cache_kib))?;
        // Statement journals in memory: an insert that fires triggers or touches many
        // indexes keeps its undo pages in memory instead of spilling them to a temporary
        // file, page by page, on every write.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        if options.checkpoint_beside {
            conn.pragma_update(
                None,
                "wal_autocheckpoint",
                checkpoint::WRITER_BACKSTOP_FRAMES,
            )?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(128);
        stable_plans(&conn)?;
        schema::migrate(&mut conn, options.extensions)?;
        let actor = match meta_get(&conn, META_ACTOR)? {
            Some(bytes) if !bytes.is_empty() => ActorId::from(bytes),
            _ => {
                let actor = ActorId::random();
                meta_set(&conn, META_ACTOR, actor.to_bytes().to_vec())?;
                actor
            }
        };
        let mut store = Store {
            conn,
            actor,
            clock,
            path,
            encrypted,
        };
        store.ensure_attachment_key()?;
        Ok(store)
    }

    /// The Automerge actor this store writes changes as.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Switches the actor for future changes (the server assigns one per device at sign-in).
    /// The one it replaces stays among [`Store::own_actors`]: changes it made are still this
    /// device's own.
    pub fn set_actor(&mut self, actor: ActorId) -> Result<()> {
        if actor != self.actor {
            let mut previous = meta_get(&self.conn, META_PREVIOUS_ACTORS)?.unwrap_or_default();
            let bytes = self.actor.to_bytes();
            if let Ok(len) = u8::try_from(bytes.len())
                && !decode_actors(&previous).contains(&self.actor)
            {
                previous.push(len);
                previous.extend_from_slice(bytes);
                meta_set(&self.conn, META_PREVIOUS_ACTORS, previous)?;
            }
        }
        meta_set(&self.conn, META_ACTOR, actor.to_bytes().to_vec())?;
        self.actor = actor;
        Ok(())
    }

    /// Every actor whose changes are this device's own: the current one and those it wrote
    /// as before (until the store is wiped). The sync client pushes only their changes: the
    /// server refuses any other actor's from this device.
    pub fn own_actors(&self) -> Result<Vec<ActorId>> {
        own_actors_of(&self.conn, &self.actor)
    }

    /// What of `id`'s unacknowledged changes this device may push now: its own, on what the
    /// server holds (see [`RecordDoc::own_changes_since`]); `own` from [`Store::own_actors`].
    pub fn offerable_changes(&self, id: RecordId, own: &[ActorId]) -> Result<OwnChanges> {
        let mut offers = self.offerable_changes_of(&[id], own)?;
        offers.pop().ok_or_else(|| Error::not_found(None, id))
    }

    /// [`Store::offerable_changes`] of each of `ids`, in their order. The stored rows are
    /// read on this connection; loading each document and picking its changes (the cost)
    /// runs on the pool, a document per task, so a push of many edited records is prepared
    /// on every core of the phone.
    pub fn offerable_changes_of(
        &self,
        ids: &[RecordId],
        own: &[ActorId],
    ) -> Result<Vec<OwnChanges>> {
        use rayon::prelude::*;
        let rows = ids
            .iter()
            .map(|&id| {
                let row = doc_with_acked_row(&self.conn, id)?;
                Ok((id, row.ok_or_else(|| Error::not_found(None, id))?))
            })
            .collect::<Result<Vec<_>>>()?;
        let actor = &self.actor;
        rows.into_par_iter()
            .map(|(id, row)| {
                let (mut doc, acked) = loaded_with_acked(id, row, actor)?;
                Ok(doc.own_changes_since(&acked, own))
            })
            .collect()
    }

    /// The clock the store stamps writes with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The file behind the store, if it has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` in one write transaction: every write inside commits together or not at all.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let now = self.clock.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut wrapped = Tx {
            tx,
            actor: &self.actor,
            now,
        };
        let out = f(&mut wrapped)?;
        wrapped.tx.commit()?;
        Ok(out)
    }

    /// Creates a record.
    pub fn create<R: Record>(&mut self, record: R) -> Result<R> {
        self.transaction(|tx| tx.create(record))
    }

    /// Creates many records in one transaction (imports): all of them or none.
    ///
    /// Building and saving the documents is CPU work independent per record, so it runs in
    /// chunks on the pool while this thread inserts the chunks already prepared, in their
    /// original order, inside the one transaction.
    pub fn create_batch(&mut self, records: Vec<AnyRecord>) -> Result<usize> {
        const CHUNK: usize = 64;
        let n = records.len();
        let now = self.clock.now();
        let actor = self.actor.clone();
        if n < 2 * CHUNK {
            return self.transaction(|tx| {
                for r in records {
                    tx.create_any(r)?;
                }
                Ok(n)
            });
        }
        self.transaction(|tx| {
            crate::pipeline::ordered(
                records,
                CHUNK,
                2 * rayon::current_num_threads(),
                |chunk| {
                    chunk
                        .into_iter()
                        .map(|r| prepare_all(r, &actor, now))
                        .collect::<Vec<_>>()
                },
                |prepared| {
                    for documents in prepared {
                        for p in documents? {
                            tx.insert_prepared(p)?;
                        }
                    }
                    Ok(())
                },
            )?;
            Ok(n)
        })
    }

    /// Changes a record through a closure over its typed value.
    pub fn update<R: Record>(
        &mut self,
        id: RecordId,
        f: impl FnOnce(&mut R) -> Result<()>,
    ) -> Result<R> {
        self.transaction(|tx| tx.update(id, f))
    }

    /// Deletes a record by writing a tombstone.
    pub fn delete(
        &mut self,
        id: RecordId,
        by: Option<RecordId>,
        reason: Option<String>,
    ) -> Result<()> {
        self.transaction(|tx| tx.delete(id, by, reason))
    }

    /// Applies changes (or a whole document) received from the server and records the
    /// server's heads as acknowledged.
    pub fn apply_remote(
        &mut self,
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
    ) -> Result<Applied> {
        self.transaction(|tx| tx.apply_remote(id, bytes, server_heads))
    }

    /// Records with changes the server has not acknowledged, oldest first.
    pub fn pending(&self) -> Result<Vec<RecordId>> {
        let mut stmt = self.conn.prepare_cached(
            // A record's companions after the record: the server judges a companion by
            // the record it belongs to.
            "SELECT o.id FROM outbox o LEFT JOIN documents d ON d.id = o.id
                 ORDER BY o.queued_at, d.kind = 'private', o.id",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The changes of `id` the server has not acknowledged, as concatenated change bytes.
    pub fn unacked_changes(&self, id: RecordId) -> Result<Vec<u8>> {
        let (mut doc, acked) = load_doc_with_acked(&self.conn, id, &self.actor)?
            .ok_or_else(|| Error::not_found(None, id))?;
        Ok(doc.changes_since(&acked))
    }

    /// Records that the server holds `heads` of `id`; the record leaves the outbox when the
    /// server has every local change.
    pub fn mark_acked(&mut self, id: RecordId, heads: &[ChangeHash]) -> Result<()> {
        self.transaction(|tx| tx.mark_acked(id, heads))
    }

    /// Removes a record and everything derived from it from this device (it left the user's
    /// scope). Not a delete: nothing is sent to the server.
    pub fn forget(&mut self, id: RecordId) -> Result<bool> {
        self.transaction(|tx| tx.forget(id))
    }

    /// Sets a value of the store's own settings.
    pub fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<()> {
        meta_set(&self.conn, key, value.to_vec())
    }

    /// Core's own SQL over the store (the fact layer); no other crate speaks it.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Recreates every projection from the documents (after a projection schema change, or
    /// to repair). Returns how many records were projected.
    pub fn rebuild_projections(&mut self) -> Result<usize> {
        let actor = self.actor.clone();
        self.transaction(|tx| {
            let ids: Vec<(RecordId, String)> = {
                let mut stmt = tx.tx.prepare("SELECT id, kind FROM documents")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut n = 0;
            for (id, kind) in ids {
                projection::remove(&tx.tx, id, &kind)?;
                let Some(doc) = load_doc(&tx.tx, id, &actor)? else {
                    continue;
                };
                match doc.hydrate() {
                    Ok(record) => {
                        projection::write(&tx.tx, &record)?;
                        n += 1;
                    }
                    Err(DocError::UnknownKind(_)) => {}
                    Err(e) => return Err(Error::document(id, e)),
                }
            }
            Ok(n)
        })
    }
}

/// One write transaction over the store. Everything done through it commits together.
pub struct Tx<'a> {
    tx: Transaction<'a>,
    actor: &'a ActorId,
    now: Timestamp,
}

impl Tx<'_> {
    /// The instant this transaction stamps its changes with.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Creates a record; its ID must be new.
    pub fn create<R: Record>(&mut self, record: R) -> Result<R> {
        let any: AnyRecord = record.into();
        let any = self.create_any(any)?;
        R::try_from(any).map_err(|other| Error::WrongKind {
            id: other.header().id,
            expected: R::KIND,
            found: other.kind().to_string(),
        })
    }

    /// Creates a record of any kind.
    ///
    /// A record's sensitive fields go into companion documents of their own, created after
    /// the record's (see [`crate::record::private`]).
    pub fn create_any(&mut self, mut record: AnyRecord) -> Result<AnyRecord> {
        self.attribute_to_owner_unit(&mut record)?;
        for prepared in prepare_all(record.clone(), self.actor, self.now)? {
            self.insert_prepared(prepared)?;
        }
        Ok(record)
    }

    /// Attributes a new owned record to its owner's org unit when the record names none and
    /// the owner's profile is known here: the server derives the same, so the record does not
    /// come back amended after its first push.
    fn attribute_to_owner_unit(&self, record: &mut AnyRecord) -> Result<()> {
        attribute_to_owner_unit(&self.tx, record)
    }

    /// `record` as [`Tx::create_any`] would store it (attributed to its owner's unit).
    pub(crate) fn attributed(&self, mut record: AnyRecord) -> Result<AnyRecord> {
        self.attribute_to_owner_unit(&mut record)?;
        Ok(record)
    }

    fn insert_prepared(&mut self, p: Prepared) -> Result<()> {
        let id = p.record.header().id;
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO documents (id, kind, doc, heads, acked_heads, updated_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            )?
            .execute(params![
                id,
                p.record.kind().as_str(),
                p.bytes,
                p.heads,
                self.now
            ]);
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                return Err(Error::InvalidInput {
                    field: "id",
                    detail: format!("record {id} exists already"),
                });
            }
            other => other?,
        };
        projection::insert(&self.tx, &p.record)?;
        self.enqueue(id)
    }

    /// Changes a record through a closure over its typed value.
    pub fn update<R: Record>(
        &mut self,
        id: RecordId,
        f: impl FnOnce(&mut R) -> Result<()>,
    ) -> Result<R> {
        let mut doc =
            load_doc(&self.tx, id, self.actor)?.ok_or_else(|| Error::not_found(R::KIND, id))?;
        let hydrated: R = doc.hydrate_as().map_err(|e| Error::document(id, e))?;
        let mut record = read::joined(&self.tx, self.actor, hydrated)?;
        let private = SensitiveField::of_kind(R::KIND).next().is_some();
        let before_id = record.header().id;
        f(&mut record)?;
        if record.header().id != before_id {
            return Err(Error::InvalidInput {
                field: "header.id",
                detail: "a record's ID never changes".into(),
            });
        }
        record.validate()?;
        let any: AnyRecord = record.clone().into();
        let own = if private { private::strip(&any) } else { any };
        let changed = doc
            .write(&own, self.now)
            .map_err(|e| Error::document(id, e))?;
        if changed {
            self.store_doc(id, &mut doc, &own, None)?;
            self.enqueue(id)?;
        }
        if private {
            self.write_companions(&record.clone().into(), Values::Set)?;
        }
        Ok(record)
    }

    /// Brings the companions of `record` in step with it: each one this store holds takes
    /// the record's reach (owner, unit, creator, sharing, tombstone) and, with
    /// [`Values::Set`], the record's value of its field; with `Values::Set` a companion is
    /// created for a value newly set. A field this store holds no companion of and the record
    /// leaves empty is left alone: it may be hidden from the user. Returns the companions
    /// written, with their heads.
    fn write_companions(
        &mut self,
        record: &AnyRecord,
        values: Values,
    ) -> Result<Vec<(AnyRecord, Vec<ChangeHash>)>> {
        let mut written = Vec::new();
        for field in SensitiveField::of_kind(record.kind()) {
            let value = field.read(record);
            let id = field.companion_id(record.header().id);
            match load_doc(&self.tx, id, self.actor)? {
                Some(mut doc) => {
                    let current: PrivateField =
                        doc.hydrate_as().map_err(|e| Error::document(id, e))?;
                    let next = PrivateField {
                        header: private::with_reach(&current.header, record.header()),
                        value: match values {
                            Values::Set => value,
                            Values::Kept => current.value.clone(),
                        },
                        ..current.clone()
                    };
                    if next == current {
                        continue;
                    }
                    let next: AnyRecord = next.into();
                    if doc
                        .write(&next, self.now)
                        .map_err(|e| Error::document(id, e))?
                    {
                        self.store_doc(id, &mut doc, &next, None)?;
                        self.enqueue(id)?;
                        written.push((next, doc.heads()));
                    }
                }
                None if values == Values::Set && !value.is_empty() => {
                    let companion = PrivateField::new(field, record.header(), value);
                    let prepared = prepare(companion.into(), self.actor, self.now)?;
                    let heads =
                        decode_heads(&prepared.heads).map_err(|e| Error::document(id, e))?;
                    let made = prepared.record.clone();
                    self.insert_prepared(prepared)?;
                    written.push((made, heads));
                }
                None => {}
            }
        }
        Ok(written)
    }

    /// Moves the sensitive fields of a record written before they had companions out of its
    /// own document: when that document ever held a value of one (its history included), the
    /// record's current values go to companions (one this store holds already keeps its own)
    /// and its document is replaced by a new one, with a fresh history, holding the record
    /// without them. Returns the documents written, the record's first, with their heads;
    /// none when the record needed nothing. Devices replace their copy of a re-created record
    /// rather than merge it (see `re_created`).
    pub fn move_private_out(&mut self, id: RecordId) -> Result<Vec<(AnyRecord, Vec<ChangeHash>)>> {
        let Some(mut doc) = load_doc(&self.tx, id, self.actor)? else {
            return Ok(Vec::new());
        };
        let Ok(mut record) = doc.hydrate() else {
            return Ok(Vec::new());
        };
        let fields: Vec<&str> = SensitiveField::of_kind(record.kind())
            .map(SensitiveField::field)
            .collect();
        if fields.is_empty() || doc.root_values_since(&[], &fields).is_empty() {
            return Ok(Vec::new());
        }
        read::join_private(&self.tx, self.actor, &mut record)?;
        let own = private::strip(&record);
        let mut fresh =
            RecordDoc::create(&own, self.actor, self.now).map_err(|e| Error::document(id, e))?;
        self.store_doc(id, &mut fresh, &own, None)?;
        self.enqueue(id)?;
        let mut written = vec![(own.clone(), fresh.heads())];
        // `record` holds the companions' values where they exist (those stay as they are);
        // the others are made from the old document's values.
        written.extend(self.write_companions(&record, Values::Set)?);
        Ok(written)
    }

    /// Brings the companions this store holds of `record` to its reach, leaving their values
    /// alone; returns the companions changed. The server calls it after storing a record a
    /// device pushed, which may have moved the record without its companions (a device that
    /// may not see them cannot move them).
    pub fn align_companions(
        &mut self,
        record: &AnyRecord,
    ) -> Result<Vec<(AnyRecord, Vec<ChangeHash>)>> {
        self.write_companions(record, Values::Kept)
    }

    /// Writes a tombstone on any record.
    pub fn delete(
        &mut self,
        id: RecordId,
        by: Option<RecordId>,
        reason: Option<String>,
    ) -> Result<()> {
        let mut doc =
            load_doc(&self.tx, id, self.actor)?.ok_or_else(|| Error::not_found(None, id))?;
        let mut record = doc.hydrate().map_err(|e| Error::document(id, e))?;
        if record.header().is_deleted() {
            return Ok(());
        }
        let tomb = Tombstone {
            at: self.now,
            by,
            reason,
        };
        set_tombstone(&mut record, tomb);
        doc.write(&record, self.now)
            .map_err(|e| Error::document(id, e))?;
        self.store_doc(id, &mut doc, &record, None)?;
        self.enqueue(id)?;
        self.align_companions(&record)?;
        Ok(())
    }

    /// Applies changes received from the server; see [`Store::apply_remote`].
    pub fn apply_remote(
        &mut self,
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
    ) -> Result<Applied> {
        self.apply_remote_decoded(id, bytes, server_heads, None)
    }

    /// Applies many received records in order, like [`Tx::apply_remote`] on each.
    ///
    /// Decoding and hydrating a received document is CPU work that needs no database (and
    /// costs several times what writing it does), while writing it is database work that
    /// needs no decoding: the pool decodes chunks ahead while this thread writes the ones
    /// already decoded, in their order. What is written, and in which order, is exactly what
    /// applying the records one by one writes.
    pub fn apply_remote_all(&mut self, records: &[Received<'_>]) -> Result<usize> {
        const CHUNK: usize = 8;
        if records.len() < CHUNK {
            for r in records {
                self.apply_remote(r.id, r.bytes, r.heads)?;
            }
            return Ok(records.len());
        }
        let actor = self.actor.clone();
        crate::pipeline::ordered(
            records.to_vec(),
            CHUNK,
            4 * rayon::current_num_threads(),
            |chunk| {
                chunk
                    .into_iter()
                    .map(|r| (r, Decoded::of(r.bytes, &actor)))
                    .collect::<Vec<_>>()
            },
            |decoded| {
                for (r, d) in decoded {
                    self.apply_remote_decoded(r.id, r.bytes, r.heads, Some(d))?;
                }
                Ok(())
            },
        )?;
        Ok(records.len())
    }

    fn apply_remote_decoded(
        &mut self,
        id: RecordId,
        bytes: &[u8],
        server_heads: &[ChangeHash],
        decoded: Option<Decoded>,
    ) -> Result<Applied> {
        let local_heads: Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let decoded = decoded.unwrap_or_else(|| Decoded::of(bytes, self.actor));
        let (mut doc, source, hydrated) = match local_heads {
            None => {
                let (doc, hydrated) = decoded.0.map_err(|e| Error::document(id, e))?;
                (doc, Source::New, Some(hydrated))
            }
            Some(local_heads) => match covering(decoded, &local_heads) {
                Ok((doc, hydrated)) => (doc, Source::Covering, Some(hydrated)),
                Err(decoded) => {
                    let mut doc = load_doc(&self.tx, id, self.actor)?
                        .ok_or_else(|| Error::not_found(None, id))?;
                    match re_created(decoded, &mut doc) {
                        Some((fresh, record)) => {
                            // What the user changed on the old history cannot apply to the
                            // new one: it is set aside for them to see, not lost.
                            if self.is_pending(id)? {
                                self.set_aside(
                                    id,
                                    SetAside {
                                        rule: crate::rule::RuleCode::RecordReCreated.as_str(),
                                        field: None,
                                        detail: "the server re-created the record; this edit \
                                                 was made on the copy it replaced",
                                    },
                                )?;
                            }
                            (fresh, Source::Covering, Some(Ok(record)))
                        }
                        None => {
                            // On an error the half-merged copy is dropped with the
                            // transaction's work.
                            doc.apply_or_discard(bytes)
                                .map_err(|e| Error::document(id, e))?;
                            (doc, Source::Merged, None)
                        }
                    }
                }
            },
        };
        if let Some(found) = doc.record_id_given(hydrated.as_ref().and_then(|h| h.as_ref().ok()))
            && found != id
        {
            return Err(Error::InvalidInput {
                field: "record id",
                detail: format!("changes for {id} hold record {found}"),
            });
        }
        let pending = doc.count_changes_since(server_heads) > 0;
        let outcome = match hydrated.unwrap_or_else(|| doc.hydrate()) {
            Ok(record) => {
                match source {
                    // A record new to this device (most of an initial sync): the received
                    // bytes load on their own into exactly this document, so they are stored
                    // as they came instead of re-encoded, and there are no old projection
                    // rows to drop.
                    Source::New => {
                        self.insert_received(id, bytes, &mut doc, &record, server_heads)?;
                    }
                    // The received document already holds every local change (the usual
                    // incremental pull): the merge would give back exactly it, so it replaces
                    // the stored one as it came.
                    Source::Covering => {
                        let heads = encode_heads(&doc.heads());
                        self.store_bytes(
                            id,
                            record.kind().as_str(),
                            bytes,
                            &heads,
                            Some(server_heads),
                        )?;
                        projection::write(&self.tx, &record)?;
                    }
                    Source::Merged => {
                        self.store_doc(id, &mut doc, &record, Some(server_heads))?;
                    }
                }
                Applied::Record {
                    record: Box::new(record),
                    pending,
                }
            }
            Err(DocError::UnknownKind(code)) => {
                self.store_raw(id, &code, &mut doc, Some(server_heads))?;
                Applied::UnknownKind(code)
            }
            Err(e) => return Err(Error::document(id, e)),
        };
        if pending {
            self.enqueue(id)?;
        } else {
            self.tx
                .prepare_cached("DELETE FROM outbox WHERE id = ?1")?
                .execute([id])?;
        }
        Ok(outcome)
    }

    /// See [`Store::mark_acked`].
    pub fn mark_acked(&mut self, id: RecordId, heads: &[ChangeHash]) -> Result<()> {
        let acked = encode_heads(heads);
        let Some(stored): Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
        else {
            return Ok(());
        };
        self.tx
            .prepare_cached("UPDATE documents SET acked_heads = ?2 WHERE id = ?1")?
            .execute(params![id, acked])?;
        // The usual case (nothing edited since the push) is settled by the heads alone;
        // only a record edited meanwhile is loaded to count what the server lacks.
        let settled = stored == acked
            || match load_doc(&self.tx, id, self.actor)? {
                Some(mut doc) => doc.count_changes_since(heads) == 0,
                None => false,
            };
        if settled {
            self.tx
                .prepare_cached("DELETE FROM outbox WHERE id = ?1")?
                .execute([id])?;
        }
        Ok(())
    }

    /// See [`Store::forget`].
    pub fn forget(&mut self, id: RecordId) -> Result<bool> {
        let Some(kind): Option<String> = self
            .tx
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
        else {
            return Ok(false);
        };
        projection::remove(&self.tx, id, &kind)?;
        self.tx
            .prepare_cached("DELETE FROM outbox WHERE id = ?1")?
            .execute([id])?;
        self.tx
            .prepare_cached("DELETE FROM documents WHERE id = ?1")?
            .execute([id])?;
        Ok(true)
    }

    /// Core's own SQL within the transaction (the fact layer); no other crate speaks it.
    pub(crate) fn connection(&self) -> &Connection {
        &self.tx
    }

    /// SQL over the tables of an extension schema kept in this file beside core's (see
    /// [`StoreOptions::extensions`]): the server's change sequence and device holdings, written
    /// in the same transaction as the records they describe. Core's own tables are not for
    /// it: only core speaks core's SQL, and the workspace's layering test fails on any other
    /// crate naming one.
    pub fn extension_sql(&self) -> &Connection {
        &self.tx
    }

    /// Runs `f` in a savepoint: its writes are undone when it fails, the transaction's other
    /// writes stay. The flag says whether the savepoint could be closed (when not, the whole
    /// transaction must be rolled back).
    pub fn savepoint<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> (Result<T>, bool) {
        if let Err(e) = self.tx.execute_batch("SAVEPOINT call") {
            return (Err(e.into()), true);
        }
        let out = f(self);
        let close = if out.is_ok() {
            "RELEASE call"
        } else {
            "ROLLBACK TO call; RELEASE call"
        };
        match self.tx.execute_batch(close) {
            Ok(()) => (out, true),
            Err(e) => (Err(e.into()), false),
        }
    }

    fn enqueue(&mut self, id: RecordId) -> Result<()> {
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO outbox (id, queued_at) VALUES (?1, ?2)")?
            .execute(params![id, self.now])?;
        Ok(())
    }

    fn store_doc(
        &mut self,
        id: RecordId,
        doc: &mut RecordDoc,
        record: &AnyRecord,
        acked: Option<&[ChangeHash]>,
    ) -> Result<()> {
        self.store_raw(id, record.kind().as_str(), doc, acked)?;
        projection::write(&self.tx, record)?;
        Ok(())
    }

    /// Inserts a record this store did not hold, its document as the received `bytes`.
    fn insert_received(
        &mut self,
        id: RecordId,
        bytes: &[u8],
        doc: &mut RecordDoc,
        record: &AnyRecord,
        acked: &[ChangeHash],
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO documents (id, kind, doc, heads, acked_heads, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                id,
                record.kind().as_str(),
                bytes,
                encode_heads(&doc.heads()),
                encode_heads(acked),
                self.now
            ])?;
        projection::insert(&self.tx, record)?;
        Ok(())
    }

    fn store_raw(
        &mut self,
        id: RecordId,
        kind: &str,
        doc: &mut RecordDoc,
        acked: Option<&[ChangeHash]>,
    ) -> Result<()> {
        let bytes = doc.save();
        let heads = encode_heads(&doc.heads());
        self.store_bytes(id, kind, &bytes, &heads, acked)
    }

    fn store_bytes(
        &mut self,
        id: RecordId,
        kind: &str,
        bytes: &[u8],
        heads: &[u8],
        acked: Option<&[ChangeHash]>,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO documents (id, kind, doc, heads, acked_heads, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, doc = excluded.doc,
                     heads = excluded.heads,
                     acked_heads = COALESCE(excluded.acked_heads, documents.acked_heads),
                     updated_at = excluded.updated_at",
            )?
            .execute(params![
                id,
                kind,
                bytes,
                heads,
                acked.map(encode_heads),
                self.now
            ])?;
        Ok(())
    }
}

/// See [`Tx::attributed`].
fn attribute_to_owner_unit(conn: &Connection, record: &mut AnyRecord) -> Result<()> {
    let header = record.header();
    let (None, Some(owner)) = (header.org_unit_id, header.owner_id) else {
        return Ok(());
    };
    let unit: Option<RecordId> = conn
        .prepare_cached("SELECT unit_id FROM users WHERE id = ?1 AND deleted = 0")?
        .query_row([owner], |row| row.get(0))
        .optional()?;
    if unit.is_some() {
        record.header_mut().org_unit_id = unit;
    }
    Ok(())
}

/// A received record, as [`Tx::apply_remote_all`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The record.
    pub id: RecordId,
    /// Its changes or whole document, as received.
    pub bytes: &'a [u8],
    /// The server's heads of it.
    pub heads: &'a [ChangeHash],
}

/// Received bytes loaded as a whole document of their own, and the record inside.
struct Decoded(
    std::result::Result<(RecordDoc, std::result::Result<AnyRecord, DocError>), DocError>,
);

impl Decoded {
    fn of(bytes: &[u8], actor: &ActorId) -> Decoded {
        Decoded(RecordDoc::load_complete(bytes, actor).map(|doc| {
            let record = doc.hydrate();
            (doc, record)
        }))
    }
}

/// The received document, when it is whole and holds every change behind the stored heads
/// `local_heads`: then merging it into the stored document gives exactly it (the same set of
/// changes), so the stored one need not be loaded.
fn covering(
    decoded: Decoded,
    local_heads: &[u8],
) -> std::result::Result<(RecordDoc, std::result::Result<AnyRecord, DocError>), Box<Decoded>> {
    let Ok(local_heads) = decode_heads(local_heads) else {
        return Err(Box::new(decoded));
    };
    match decoded.0 {
        Ok((mut doc, record)) => {
            if local_heads.iter().all(|h| doc.has_change(h)) {
                Ok((doc, record))
            } else {
                Err(Box::new(Decoded(Ok((doc, record)))))
            }
        }
        Err(e) => Err(Box::new(Decoded(Err(e)))),
    }
}

/// The received document, when it shares no change with the stored one `local` and is a
/// record with sensitive fields: the server re-created it with a fresh history (the upgrade
/// that moved its sensitive fields out of its own document), and it replaces the stored one
/// instead of merging with it, which would bring the old history back.
fn re_created(decoded: Box<Decoded>, local: &mut RecordDoc) -> Option<(RecordDoc, AnyRecord)> {
    match decoded.0 {
        Ok((mut doc, Ok(record))) => {
            let sensitive = SensitiveField::of_kind(record.kind()).next().is_some();
            (sensitive && !local.roots().iter().any(|h| doc.has_change(h))).then_some((doc, record))
        }
        _ => None,
    }
}

/// What [`Tx::write_companions`] does with a companion's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Values {
    /// Sets the record's value (the record is whole, as its user sees it).
    Set,
    /// Keeps the companion's own (only the reach follows the record).
    Kept,
}

/// Where the document of a received record came from.
enum Source {
    /// The device did not hold the record: the received bytes alone.
    New,
    /// The received bytes alone, holding every change the device had.
    Covering,
    /// The stored document merged with the received bytes.
    Merged,
}

/// A new record's document, built and saved, ready to insert.
struct Prepared {
    record: AnyRecord,
    bytes: Vec<u8>,
    heads: Vec<u8>,
}

/// A new record's documents, ready to insert in this order: the record's own, its sensitive
/// fields cleared, then a companion for each sensitive field it sets.
fn prepare_all(record: AnyRecord, actor: &ActorId, now: Timestamp) -> Result<Vec<Prepared>> {
    record.validate()?;
    let (own, companions) = private::split(record);
    let mut out = Vec::with_capacity(1 + companions.len());
    out.push(prepare(own, actor, now)?);
    for companion in companions {
        out.push(prepare(companion.into(), actor, now)?);
    }
    Ok(out)
}

fn prepare(record: AnyRecord, actor: &ActorId, now: Timestamp) -> Result<Prepared> {
    record.validate()?;
    let id = record.header().id;
    let mut doc = RecordDoc::create(&record, actor, now).map_err(|e| Error::document(id, e))?;
    Ok(Prepared {
        bytes: doc.save(),
        heads: encode_heads(&doc.heads()),
        record,
    })
}

fn set_tombstone(record: &mut AnyRecord, tomb: Tombstone) {
    record.header_mut().deleted = Some(tomb);
}

fn load_doc(conn: &Connection, id: RecordId, actor: &ActorId) -> Result<Option<RecordDoc>> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT doc FROM documents WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    bytes
        .map(|b| RecordDoc::load(&b, actor).map_err(|e| Error::document(id, e)))
        .transpose()
}

fn load_doc_with_acked(
    conn: &Connection,
    id: RecordId,
    actor: &ActorId,
) -> Result<Option<(RecordDoc, Vec<ChangeHash>)>> {
    doc_with_acked_row(conn, id)?
        .map(|row| loaded_with_acked(id, row, actor))
        .transpose()
}

/// The stored document of `id` and the heads the server last acknowledged, as stored.
type DocWithAcked = (Vec<u8>, Option<Vec<u8>>);

fn doc_with_acked_row(conn: &Connection, id: RecordId) -> Result<Option<DocWithAcked>> {
    Ok(conn
        .prepare_cached("SELECT doc, acked_heads FROM documents WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// A row of [`doc_with_acked_row`] loaded: the work, without the connection (so it can run
/// on the pool).
fn loaded_with_acked(
    id: RecordId,
    (bytes, acked): DocWithAcked,
    actor: &ActorId,
) -> Result<(RecordDoc, Vec<ChangeHash>)> {
    let doc = RecordDoc::load(&bytes, actor).map_err(|e| Error::document(id, e))?;
    let acked = match acked {
        Some(a) => decode_heads(&a).map_err(|e| Error::document(id, e))?,
        None => Vec::new(),
    };
    Ok((doc, acked))
}

fn meta_get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// The current actor and the previous ones kept in the store's settings.
fn own_actors_of(conn: &Connection, actor: &ActorId) -> Result<Vec<ActorId>> {
    let mut actors = vec![actor.clone()];
    if let Some(previous) = meta_get(conn, META_PREVIOUS_ACTORS)? {
        actors.extend(decode_actors(&previous));
    }
    Ok(actors)
}

/// Actors kept as a length byte and the actor's bytes each.
fn decode_actors(mut bytes: &[u8]) -> Vec<ActorId> {
    let mut actors = Vec::new();
    while let Some((&len, rest)) = bytes.split_first() {
        let Some(actor) = rest.get(..usize::from(len)) else {
            break;
        };
        actors.push(ActorId::from(actor));
        bytes = &rest[usize::from(len)..];
    }
    actors
}

fn meta_set(conn: &Connection, key: &str, value: Vec<u8>) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute(params![key, value])?;
    Ok(())
}

/// The live process configuration record of the tenant (there is one per tenant; the most
/// recently updated wins should a store ever hold two).
fn process_config_id(conn: &Connection) -> Result<Option<RecordId>> {
    Ok(conn
        .prepare_cached(
            "SELECT r.id FROM records r JOIN documents d ON d.id = r.id
             WHERE r.kind = ?1 AND r.deleted = 0 ORDER BY d.updated_at DESC LIMIT 1",
        )?
        .query_row([Kind::ProcessConfig.as_str()], |row| row.get(0))
        .optional()?)
}
