//! Reading a store: one set of typed queries, answered alike by a phone's [`Store`], a write
//! transaction ([`Tx`]) and a read-only connection beside a writer ([`Reader`]).
//!
//! This is the fact layer's read side. Only core speaks core's SQL: the connection behind a
//! [`StoreRead`] can only be reached with a token core alone can make, so the server, the
//! command line and the FFI read core's tables through these typed queries and nothing else,
//! and the same question gets the same answer everywhere.

use std::collections::HashMap;
use std::path::Path;

use automerge::{ActorId, ChangeHash};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::directory::{self, PersonRow};
use super::query::{self, DuplicateReport, ListFilter, NearDuplicate, RecordSummary, SearchHit};
use super::{Store, Tx, load_doc, meta_get, process_config_id};
use crate::doc::{RecordDoc, decode_heads};
use crate::error::{Error, Result};
use crate::process::SalesProcess;
use crate::record::{
    AnyRecord, Customer, Kind, PrivateField, ProcessConfig, Record, SensitiveField,
};
use crate::scope::OrgTree;
use crate::{RecordId, Timestamp};

pub(crate) mod sealed {
    /// Proof of being inside core: only core makes one, so only core reaches the connection
    /// behind a [`super::StoreRead`].
    pub struct Inside(());

    /// The one token.
    pub(crate) const INSIDE: Inside = Inside(());

    /// What a readable store lends core's own queries.
    pub trait Sealed {
        /// The connection, to core alone.
        fn sql(&self, inside: Inside) -> &rusqlite::Connection;
        /// The actor documents are loaded as.
        fn doc_actor(&self, inside: Inside) -> &automerge::ActorId;
    }
}

/// The connection behind `store`, for core's own queries.
pub(crate) fn sql<S: StoreRead + ?Sized>(store: &S) -> &Connection {
    store.sql(sealed::INSIDE)
}

/// Sets `record`'s sensitive fields from the companions this store holds; a field without one
/// keeps what the record's own document says (nothing, since sensitive fields moved out).
pub(crate) fn join_private(
    conn: &Connection,
    actor: &ActorId,
    record: &mut AnyRecord,
) -> Result<()> {
    for field in SensitiveField::of_kind(record.kind()) {
        let id = field.companion_id(record.header().id);
        if let Some(doc) = load_doc(conn, id, actor)? {
            let companion: PrivateField = doc.hydrate_as().map_err(|e| Error::document(id, e))?;
            field.write(record, companion.value);
        }
    }
    Ok(())
}

/// `record` with its sensitive fields joined ([`join_private`]); a kind without any is
/// returned as it is.
pub(crate) fn joined<R: Record>(conn: &Connection, actor: &ActorId, record: R) -> Result<R> {
    if SensitiveField::of_kind(R::KIND).next().is_none() {
        return Ok(record);
    }
    let id = record.id();
    let mut any: AnyRecord = record.into();
    join_private(conn, actor, &mut any)?;
    R::try_from(any).map_err(|other| Error::WrongKind {
        id,
        expected: R::KIND,
        found: other.kind().to_string(),
    })
}

/// A stored document as the server merges into it: its saved bytes and its heads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// The saved Automerge document.
    pub bytes: Vec<u8>,
    /// Its heads.
    pub heads: Vec<ChangeHash>,
}

/// The typed reads of a store. Implemented by [`Store`], [`Tx`] and [`Reader`]; the trait
/// cannot be implemented outside core.
pub trait StoreRead: sealed::Sealed {
    /// A record of a known kind.
    ///
    /// A record's sensitive fields are read from their companions (see
    /// [`crate::record::private`]); one this store does not hold reads as empty (the user's
    /// roles may hide it: [`crate::me::Me::hidden`]).
    fn get<R: Record>(&self, id: RecordId) -> Result<R> {
        let doc = load_doc(sql(self), id, self.doc_actor(sealed::INSIDE))?
            .ok_or_else(|| Error::not_found(R::KIND, id))?;
        let record = doc.hydrate_as::<R>().map_err(|e| Error::document(id, e))?;
        joined(sql(self), self.doc_actor(sealed::INSIDE), record)
    }

    /// A record of any kind, its sensitive fields read from their companions.
    fn get_any(&self, id: RecordId) -> Result<AnyRecord> {
        let doc = load_doc(sql(self), id, self.doc_actor(sealed::INSIDE))?
            .ok_or_else(|| Error::not_found(None, id))?;
        let mut record = doc.hydrate().map_err(|e| Error::document(id, e))?;
        join_private(sql(self), self.doc_actor(sealed::INSIDE), &mut record)?;
        Ok(record)
    }

    /// A record of any kind, `None` when the store does not hold it.
    fn find_any(&self, id: RecordId) -> Result<Option<AnyRecord>> {
        match self.get_any(id) {
            Ok(record) => Ok(Some(record)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The kind code stored for `id`, if the record exists.
    fn kind_of(&self, id: RecordId) -> Result<Option<String>> {
        Ok(sql(self)
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// The current heads of `id`'s document.
    fn heads(&self, id: RecordId) -> Result<Vec<ChangeHash>> {
        let heads: Option<Vec<u8>> = sql(self)
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let heads = heads.ok_or_else(|| Error::not_found(None, id))?;
        decode_heads(&heads).map_err(|e| Error::document(id, e))
    }

    /// The heads of `id`'s document, `None` when the store does not hold it.
    fn stored_heads(&self, id: RecordId) -> Result<Option<Vec<ChangeHash>>> {
        let heads: Option<Vec<u8>> = sql(self)
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        heads
            .map(|h| decode_heads(&h).map_err(|e| Error::document(id, e)))
            .transpose()
    }

    /// The saved document of `id`, as stored.
    fn document_bytes(&self, id: RecordId) -> Result<Option<Vec<u8>>> {
        Ok(sql(self)
            .prepare_cached("SELECT doc FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// The saved document of `id` and its heads, if stored.
    fn stored_document(&self, id: RecordId) -> Result<Option<StoredDocument>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = sql(self)
            .prepare_cached("SELECT doc, heads FROM documents WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(bytes, heads)| {
            Ok(StoredDocument {
                bytes,
                heads: decode_heads(&heads).map_err(|e| Error::document(id, e))?,
            })
        })
        .transpose()
    }

    /// Every document the store holds (any kind, deleted ones included), by id.
    fn document_ids(&self) -> Result<Vec<RecordId>> {
        let mut stmt = sql(self).prepare_cached("SELECT id FROM documents ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The total size of the saved documents of these kinds, in bytes.
    fn documents_size(&self, kinds: &[Kind]) -> Result<u64> {
        let mut total = 0u64;
        let mut stmt = sql(self).prepare_cached(
            "SELECT coalesce(sum(length(doc)), 0) FROM documents WHERE kind = ?1",
        )?;
        for kind in kinds {
            let n: i64 = stmt.query_row([kind.as_str()], |r| r.get(0))?;
            total += u64::try_from(n).unwrap_or(0);
        }
        Ok(total)
    }

    /// The tenant's sales process: the synced configuration record, or the standard preset
    /// when this store holds none (a device that never synced works offline by the defaults).
    fn sales_process(&self) -> Result<SalesProcess> {
        Ok(self
            .process_config()?
            .map_or_else(SalesProcess::standard, |c| c.process))
    }

    /// The tenant's process configuration record, if this store holds one.
    fn process_config(&self) -> Result<Option<ProcessConfig>> {
        process_config_id(sql(self))?
            .map(|id| self.get::<ProcessConfig>(id))
            .transpose()
    }

    /// The org tree as this store holds it (deleted units included: their records still
    /// belong somewhere), without loading a document.
    fn org_tree(&self) -> Result<OrgTree> {
        OrgTree::load(sql(self))
    }

    /// A value of the store's own settings.
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        meta_get(sql(self), key)
    }

    /// Lists records by the common index, newest first: by the record's instant, then by ID
    /// (time-ordered at creation) for records without one and for ties.
    fn list(&self, filter: &ListFilter) -> Result<Vec<RecordSummary>> {
        query::list(sql(self), filter)
    }

    /// Fuzzy search by any substring of a name, Chinese or Latin, width- and case-insensitive.
    ///
    /// Queries of three characters or more use the trigram index; shorter ones (华为) scan the
    /// folded names. Deleted records are not found. `kinds` empty means customers, contacts,
    /// opportunities and leads.
    fn search(&self, query: &str, kinds: &[Kind], limit: usize) -> Result<Vec<SearchHit>> {
        query::search(sql(self), query, kinds, limit)
    }

    /// The duplicate check for a customer about to be created (deleted customers included).
    ///
    /// `exact` is a customer whose legal or English name normalises to the same key as the new
    /// one's legal or English name; `near` lists customers whose names score at least
    /// `near_threshold` on [`crate::dedup::similarity`]. The customer itself (same ID) is
    /// never reported.
    fn find_duplicates(&self, customer: &Customer, near_threshold: f64) -> Result<DuplicateReport> {
        query::find_duplicates(sql(self), customer, near_threshold)
    }

    /// The `exact` half of [`StoreRead::find_duplicates`] alone, without ranking near
    /// candidates: what refuses a new customer.
    fn find_exact_duplicate(&self, customer: &Customer) -> Result<Option<NearDuplicate>> {
        query::exact_duplicate(sql(self), customer)
    }

    /// Every live person, by id.
    fn people(&self) -> Result<Vec<PersonRow>> {
        directory::people(sql(self))
    }

    /// One live person.
    fn person(&self, id: RecordId) -> Result<Option<PersonRow>> {
        directory::person(sql(self), id)
    }

    /// The live people of one unit, by id.
    fn people_of_unit(&self, unit: RecordId) -> Result<Vec<PersonRow>> {
        directory::people_of_unit(sql(self), unit)
    }

    /// A customer's owner by the customer's id: `None` when there is no such live customer,
    /// `Some(None)` for an unowned one.
    fn customer_owner(&self, id: RecordId) -> Result<Option<Option<RecordId>>> {
        directory::customer_owner(sql(self), id)
    }

    /// The live customers one of whose names normalises to `norm` (see
    /// [`crate::dedup::normalize_company_name`]), with their owners, by id.
    fn customers_named(&self, norm: &str) -> Result<Vec<(RecordId, Option<RecordId>)>> {
        directory::customers_named(sql(self), norm)
    }

    /// Every customer's legal name (deleted ones included), by id.
    fn customer_legal_names(&self) -> Result<HashMap<RecordId, String>> {
        directory::customer_legal_names(sql(self))
    }

    /// The live contacts of `customer` with exactly this name, with their phones (from the
    /// phones' companions, where this store holds them), by id.
    fn contacts_named(
        &self,
        customer: RecordId,
        name: &str,
    ) -> Result<Vec<(RecordId, Option<String>)>> {
        let actor = self.doc_actor(sealed::INSIDE);
        directory::contacts_named(sql(self), customer, name)?
            .into_iter()
            .map(|id| {
                let phone = SensitiveField::ContactPhone.companion_id(id);
                let phone = match load_doc(sql(self), phone, actor)? {
                    Some(doc) => {
                        let companion: PrivateField =
                            doc.hydrate_as().map_err(|e| Error::document(phone, e))?;
                        companion.value.text
                    }
                    None => None,
                };
                Ok((id, phone))
            })
            .collect()
    }

    /// The live approvals about `subject` (an order, an opportunity), by id.
    fn approvals_of(&self, subject: RecordId) -> Result<Vec<RecordId>> {
        directory::approvals_of(sql(self), subject)
    }

    /// The live approvals in this status (`pending`, …), by id.
    fn approvals_in(&self, status: &str) -> Result<Vec<RecordId>> {
        directory::approvals_in(sql(self), status)
    }

    /// The live opportunities still open (neither won nor lost), by id.
    fn open_opportunities(&self) -> Result<Vec<RecordId>> {
        directory::open_opportunities(sql(self))
    }

    /// The open opportunities whose stage's time has run out at `now`: `limits` gives, per
    /// stage, its longest time in milliseconds (stages without one never run out). Read from
    /// the projection alone, so a scheduled run loads only the deals it reminds.
    fn stages_run_out(
        &self,
        limits: &HashMap<String, i64>,
        now: Timestamp,
    ) -> Result<Vec<RecordId>> {
        directory::stages_run_out(sql(self), limits, now)
    }

    /// The live orders in this status (`confirmed`, …), by id.
    fn orders_in(&self, status: &str) -> Result<Vec<RecordId>> {
        directory::orders_in(sql(self), status)
    }

    /// The live targets set for `subject` (a rep, a team, a region), by id.
    fn targets_of(&self, subject: RecordId) -> Result<Vec<RecordId>> {
        directory::targets_of(sql(self), subject)
    }

    /// The latest check-in time of `rep`'s live visits this store holds (device clock), for
    /// the next check-in to record what its device already held.
    fn latest_check_in(&self, rep: RecordId) -> Result<Option<Timestamp>> {
        directory::latest_check_in(sql(self), rep)
    }

    /// The raw connection, for core's own integration tests and benchmarks only.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    fn test_connection(&self) -> &Connection {
        sql(self)
    }
}

impl sealed::Sealed for Store {
    fn sql(&self, _: sealed::Inside) -> &Connection {
        &self.conn
    }
    fn doc_actor(&self, _: sealed::Inside) -> &ActorId {
        &self.actor
    }
}
impl StoreRead for Store {}

impl sealed::Sealed for Tx<'_> {
    fn sql(&self, _: sealed::Inside) -> &Connection {
        &self.tx
    }
    fn doc_actor(&self, _: sealed::Inside) -> &ActorId {
        self.actor
    }
}
impl StoreRead for Tx<'_> {}

/// A read-only connection to a store's file, beside the store's writer (WAL: it reads the
/// last commit while the writer writes). The server prepares pushed records on these.
pub struct Reader {
    conn: Connection,
    actor: ActorId,
}

impl Reader {
    /// Opens the store file at `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Reader> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        super::stable_plans(&conn)?;
        Ok(Reader {
            conn,
            actor: ActorId::random(),
        })
    }

    /// A document loaded for reading (and merging: changes made on it are the reader's own
    /// random actor's, never stored).
    pub fn load_document(&self, id: RecordId) -> Result<Option<RecordDoc>> {
        load_doc(&self.conn, id, &self.actor)
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl sealed::Sealed for Reader {
    fn sql(&self, _: sealed::Inside) -> &Connection {
        &self.conn
    }
    fn doc_actor(&self, _: sealed::Inside) -> &ActorId {
        &self.actor
    }
}
impl StoreRead for Reader {}
