//! The change sequence and the holdings as a group commit leaves them, written to PostgreSQL
//! in a handful of statements at its end.
//!
//! Numbers are handed out here, from the counter row the group commit holds locked, so they
//! follow each other without a round trip. Each call of the group commit collects its writes
//! apart and hands them to the group only if it succeeds (its core-store savepoint is then
//! released too); the group writes one row per record however often the group touched it,
//! with the last number it got. What only PostgreSQL can answer (who may see a record the
//! group did not write, a renumbering of every record) is asked at once, on the group's
//! transaction, under a savepoint of the call.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use automerge::ChangeHash;
use fieldsales_core::doc::encode_heads;
use fieldsales_core::record::{AnyRecord, Header, Kind};
use fieldsales_core::store::{StoreRead, Tx};
use fieldsales_core::{Error, RecordId};
use tokio::runtime::Handle;
use uuid::Uuid;

use crate::audit::{AuditDraft, Stream};
use crate::model::{DeviceId, TenantId};
use crate::postgres::uuid;
use crate::records::ledger::Ledger;
use crate::records::page::{LogRow, Reach};

/// A record's document as written.
#[derive(Clone)]
struct DocWrite {
    kind: Kind,
    doc: Vec<u8>,
    heads: Vec<u8>,
    reach: Reach,
    changed_seq: i64,
}

/// What becomes of one record's row.
#[derive(Clone)]
struct RowWrite {
    /// The document, when it changed.
    write: Option<DocWrite>,
    /// Its new place in the sequence.
    seq: i64,
    /// The row's `moved_at` is at least this (it was relogged as having moved).
    moved_min: Option<i64>,
    /// A device holds it that may not see it.
    left_holder: bool,
}

impl RowWrite {
    /// `later` happened after `self`, to the same record.
    fn then(&mut self, later: RowWrite) {
        if later.write.is_some() {
            self.write = later.write;
        }
        self.seq = later.seq;
        self.moved_min = self.moved_min.max(later.moved_min);
        self.left_holder |= later.left_holder;
    }
}

/// Writes not yet in PostgreSQL.
#[derive(Default)]
struct Pending {
    rows: HashMap<RecordId, RowWrite>,
    /// Per device and record: the heads it holds (`None`: heads the server does not track).
    held: HashMap<(DeviceId, RecordId), Option<Vec<u8>>>,
}

impl Pending {
    fn row(&mut self, id: RecordId, write: RowWrite) {
        match self.rows.entry(id) {
            Entry::Occupied(mut found) => found.get_mut().then(write),
            Entry::Vacant(slot) => {
                slot.insert(write);
            }
        }
    }

    fn held(&mut self, device: DeviceId, id: RecordId, heads: Option<Vec<u8>>) {
        let entry = self.held.entry((device, id)).or_insert(None);
        // Untracked heads keep the heads the device was last known to hold.
        if heads.is_some() {
            *entry = heads;
        }
    }

    fn absorb(&mut self, later: Pending) {
        for (id, write) in later.rows {
            self.row(id, write);
        }
        for ((device, id), heads) in later.held {
            self.held(device, id, heads);
        }
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.held.is_empty()
    }
}

/// The group's ledger over its PostgreSQL transaction.
pub(super) struct PgLedger<'t> {
    pg: deadpool_postgres::Transaction<'t>,
    handle: Handle,
    tenant: Uuid,
    /// The last number handed out, and the number after the last renumbering.
    pub seq: i64,
    pub relogged_at: i64,
    /// The counters when the current call began.
    call_start: (i64, i64),
    group: Pending,
    call: Pending,
    /// The current call opened a savepoint in PostgreSQL.
    savepoint: bool,
    /// Audit entries of the group's succeeded calls, and of the current call: appended to the
    /// tenant's records chain at commit, in the group's order.
    group_audit: Vec<AuditDraft>,
    call_audit: Vec<AuditDraft>,
}

fn pg_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("PostgreSQL: {e}"))
}

impl<'t> PgLedger<'t> {
    /// A ledger for a group whose counter row reads `seq`, `relogged_at`.
    pub fn new(
        pg: deadpool_postgres::Transaction<'t>,
        handle: Handle,
        tenant: Uuid,
        seq: i64,
        relogged_at: i64,
    ) -> Self {
        PgLedger {
            pg,
            handle,
            tenant,
            seq,
            relogged_at,
            call_start: (seq, relogged_at),
            group: Pending::default(),
            call: Pending::default(),
            savepoint: false,
            group_audit: Vec::new(),
            call_audit: Vec::new(),
        }
    }

    fn next(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    /// A call of the group begins.
    pub fn begin_call(&mut self) {
        self.call_start = (self.seq, self.relogged_at);
        self.call = Pending::default();
        self.call_audit.clear();
        self.savepoint = false;
    }

    /// The call ended: its writes join the group when it succeeded, and are forgotten (with
    /// what it already wrote to PostgreSQL) when it failed. `false` when PostgreSQL could not
    /// close the call's savepoint, which dooms the group.
    pub fn end_call(&mut self, succeeded: bool) -> bool {
        let call = std::mem::take(&mut self.call);
        let audit = std::mem::take(&mut self.call_audit);
        let closed = if succeeded {
            self.group.absorb(call);
            self.group_audit.extend(audit);
            !self.savepoint || self.run("RELEASE SAVEPOINT call").is_ok()
        } else {
            (self.seq, self.relogged_at) = self.call_start;
            !self.savepoint || self.run("ROLLBACK TO SAVEPOINT call").is_ok()
        };
        self.savepoint = false;
        closed
    }

    fn run(&self, sql: &str) -> Result<(), Error> {
        self.handle
            .block_on(self.pg.batch_execute(sql))
            .map_err(pg_error)
    }

    fn savepoint(&mut self) -> Result<(), Error> {
        if !self.savepoint {
            self.run("SAVEPOINT call")?;
            self.savepoint = true;
        }
        Ok(())
    }

    /// Writes everything collected so far (the group's, then the current call's).
    fn flush_all(&mut self) -> Result<(), Error> {
        let group = std::mem::take(&mut self.group);
        self.handle
            .block_on(write(&self.pg, self.tenant, group))
            .map_err(pg_error)?;
        if !self.call.is_empty() {
            self.savepoint()?;
            let call = std::mem::take(&mut self.call);
            self.handle
                .block_on(write(&self.pg, self.tenant, call))
                .map_err(pg_error)?;
        }
        Ok(())
    }

    /// The last number the group handed out.
    pub fn last(&self) -> i64 {
        self.seq
    }

    /// Writes the group's rows and holdings, then the counter as the last statement, and
    /// commits the PostgreSQL transaction.
    pub fn commit(mut self) -> Result<(), Error> {
        let group = std::mem::take(&mut self.group);
        let audit = std::mem::take(&mut self.group_audit);
        let (tenant, seq, relogged_at) = (self.tenant, self.seq, self.relogged_at);
        let pg = self.pg;
        self.handle
            .block_on(async move {
                write(&pg, tenant, group).await?;
                crate::audit::postgres::append(
                    &pg,
                    TenantId::from_uuid(tenant),
                    Stream::Records,
                    audit,
                )
                .await?;
                crate::postgres::execute(
                    &pg,
                    "UPDATE tenant_counter SET seq = $2, relogged_at = $3 WHERE tenant_id = $1",
                    &[&tenant, &seq, &relogged_at],
                )
                .await?;
                pg.commit().await
            })
            .map_err(pg_error)
    }
}

/// Writes collected rows and holdings.
async fn write(
    pg: &deadpool_postgres::Transaction<'_>,
    tenant: Uuid,
    pending: Pending,
) -> Result<u64, tokio_postgres::Error> {
    let mut ids = Vec::new();
    let mut kinds = Vec::new();
    let mut docs = Vec::new();
    let mut heads = Vec::new();
    let mut changed = Vec::new();
    let mut seqs = Vec::new();
    let mut owners: Vec<Option<Uuid>> = Vec::new();
    let mut units: Vec<Option<Uuid>> = Vec::new();
    let mut creators: Vec<Option<Uuid>> = Vec::new();
    let mut shared = Vec::new();
    let mut left = Vec::new();
    let mut moved_ids = Vec::new();
    let mut moved_seqs = Vec::new();
    let mut moved_min = Vec::new();
    for (id, row) in pending.rows {
        if let Some(w) = row.write {
            ids.push(*id.as_uuid());
            kinds.push(w.kind.as_str().to_owned());
            docs.push(w.doc);
            heads.push(w.heads);
            changed.push(w.changed_seq);
            seqs.push(row.seq);
            owners.push(w.reach.owner.map(|r| *r.as_uuid()));
            units.push(w.reach.unit.map(|r| *r.as_uuid()));
            creators.push(w.reach.created_by.map(|r| *r.as_uuid()));
            shared.push(w.reach.shared);
            left.push(row.left_holder);
        }
        if let Some(min) = row.moved_min {
            moved_ids.push(*id.as_uuid());
            moved_seqs.push(row.seq);
            moved_min.push(min);
        }
    }
    let mut written = 0;
    if !ids.is_empty() {
        written += crate::postgres::execute(
            pg,
            "INSERT INTO record AS r (tenant_id, id, kind, doc, heads, changed_seq, seq,
                     owner_id, org_unit_id, created_by, shared_with, moved_at)
                 SELECT $1, u.id, u.kind, u.doc, u.heads, u.changed, u.seq, u.owner, u.unit,
                     u.creator, u.shared, CASE WHEN u.left_holder THEN u.seq ELSE 0 END
                 FROM unnest($2::uuid[], $3::text[], $4::bytea[], $5::bytea[], $6::int8[],
                     $7::int8[], $8::uuid[], $9::uuid[], $10::uuid[], $11::bytea[], $12::bool[])
                     AS u(id, kind, doc, heads, changed, seq, owner, unit, creator, shared,
                          left_holder)
                 ON CONFLICT (tenant_id, id) DO UPDATE SET
                     kind = excluded.kind, doc = excluded.doc, heads = excluded.heads,
                     changed_seq = excluded.changed_seq, seq = excluded.seq,
                     owner_id = excluded.owner_id, org_unit_id = excluded.org_unit_id,
                     created_by = excluded.created_by, shared_with = excluded.shared_with,
                     moved_at = CASE
                         WHEN excluded.moved_at > 0
                           OR (r.owner_id, r.org_unit_id, r.created_by, r.shared_with)
                              IS DISTINCT FROM (excluded.owner_id, excluded.org_unit_id,
                                                excluded.created_by, excluded.shared_with)
                         THEN excluded.seq ELSE r.moved_at END",
            &[
                &tenant, &ids, &kinds, &docs, &heads, &changed, &seqs, &owners, &units, &creators,
                &shared, &left,
            ],
        )
        .await?;
    }
    if !moved_ids.is_empty() {
        written += crate::postgres::execute(
            pg,
            "UPDATE record AS r SET seq = u.seq, moved_at = greatest(r.moved_at, u.moved)
                 FROM unnest($2::uuid[], $3::int8[], $4::int8[]) AS u(id, seq, moved)
                 WHERE r.tenant_id = $1 AND r.id = u.id",
            &[&tenant, &moved_ids, &moved_seqs, &moved_min],
        )
        .await?;
    }
    let (mut with_heads, mut untracked) = (Vec::new(), Vec::new());
    for ((device, id), heads) in pending.held {
        match heads {
            Some(h) => with_heads.push((uuid(device.as_bytes()), *id.as_uuid(), h)),
            None => untracked.push((uuid(device.as_bytes()), *id.as_uuid())),
        }
    }
    if !with_heads.is_empty() {
        let devices: Vec<Uuid> = with_heads.iter().map(|h| h.0).collect();
        let records: Vec<Uuid> = with_heads.iter().map(|h| h.1).collect();
        let heads: Vec<Vec<u8>> = with_heads.into_iter().map(|h| h.2).collect();
        written += crate::postgres::execute(
            pg,
            "INSERT INTO device_record (tenant_id, device_id, record_id, held, heads,
                     heads_cursor)
                 SELECT $1, u.device, u.record, true, u.heads, 0
                 FROM unnest($2::uuid[], $3::uuid[], $4::bytea[]) AS u(device, record, heads)
                 ON CONFLICT (tenant_id, device_id, record_id) DO UPDATE SET
                     held = true, heads = excluded.heads, heads_cursor = 0",
            &[&tenant, &devices, &records, &heads],
        )
        .await?;
    }
    if !untracked.is_empty() {
        let devices: Vec<Uuid> = untracked.iter().map(|h| h.0).collect();
        let records: Vec<Uuid> = untracked.iter().map(|h| h.1).collect();
        written += crate::postgres::execute(
            pg,
            "INSERT INTO device_record (tenant_id, device_id, record_id, held)
                 SELECT $1, u.device, u.record, true
                 FROM unnest($2::uuid[], $3::uuid[]) AS u(device, record)
                 ON CONFLICT (tenant_id, device_id, record_id) DO UPDATE SET held = true",
            &[&tenant, &devices, &records],
        )
        .await?;
    }
    Ok(written)
}

impl Ledger for PgLedger<'_> {
    fn stored(
        &mut self,
        tx: &Tx<'_>,
        record: &AnyRecord,
        heads: &[ChangeHash],
        left_holder: bool,
    ) -> Result<(), Error> {
        let id = record.header().id;
        let doc = tx
            .document_bytes(id)?
            .ok_or_else(|| Error::Internal(format!("record {id} was stored without a document")))?;
        let seq = self.next();
        self.call.row(
            id,
            RowWrite {
                write: Some(DocWrite {
                    kind: record.kind(),
                    doc,
                    heads: encode_heads(heads),
                    reach: Reach::of(record.header()),
                    changed_seq: seq,
                }),
                seq,
                moved_min: None,
                left_holder,
            },
        );
        Ok(())
    }

    fn held(
        &mut self,
        _tx: &Tx<'_>,
        device: DeviceId,
        id: RecordId,
        heads: Option<&[u8]>,
    ) -> Result<(), Error> {
        self.call.held(device, id, heads.map(<[u8]>::to_vec));
        Ok(())
    }

    fn logged(
        &mut self,
        _tx: &Tx<'_>,
        id: RecordId,
    ) -> Result<Option<(Option<Kind>, Header)>, Error> {
        let collected = self
            .call
            .rows
            .get(&id)
            .and_then(|r| r.write.as_ref())
            .or_else(|| self.group.rows.get(&id).and_then(|r| r.write.as_ref()));
        if let Some(w) = collected {
            let row = LogRow {
                id,
                seq: 0,
                heads: Vec::new(),
                owner: w.reach.owner,
                unit: w.reach.unit,
                created_by: w.reach.created_by,
                shared: Some(w.reach.shared.clone()),
            };
            return Ok(Some((Some(w.kind), row.header())));
        }
        let found = self
            .handle
            .block_on(crate::postgres::query_opt(
                &self.pg,
                "SELECT kind, owner_id, org_unit_id, created_by, shared_with FROM record
                 WHERE tenant_id = $1 AND id = $2",
                &[&self.tenant, id.as_uuid()],
            ))
            .map_err(pg_error)?;
        Ok(found.map(|r| {
            let kind: String = r.get(0);
            let row = LogRow {
                id,
                seq: 0,
                heads: Vec::new(),
                owner: r.get::<_, Option<Uuid>>(1).map(RecordId::from_uuid),
                unit: r.get::<_, Option<Uuid>>(2).map(RecordId::from_uuid),
                created_by: r.get::<_, Option<Uuid>>(3).map(RecordId::from_uuid),
                shared: Some(r.get(4)),
            };
            (kind.parse().ok(), row.header())
        }))
    }

    fn relog_moved(&mut self, _tx: &Tx<'_>, id: RecordId) -> Result<(), Error> {
        let seq = self.next();
        self.call.row(
            id,
            RowWrite {
                write: None,
                seq,
                moved_min: Some(seq),
                left_holder: false,
            },
        );
        Ok(())
    }

    fn relog_all(&mut self, _tx: &Tx<'_>) -> Result<(), Error> {
        self.flush_all()?;
        self.savepoint()?;
        let last = self.seq;
        // Every new number is above every old one, so the unique sequence never collides.
        self.handle
            .block_on(self.pg.execute(
                "UPDATE record SET seq = seq + $2 WHERE tenant_id = $1",
                &[&self.tenant, &last],
            ))
            .map_err(pg_error)?;
        self.seq += last;
        self.relogged_at = self.seq;
        tracing::info!(
            sequence = last,
            "org tree or roles changed: every record relogged"
        );
        Ok(())
    }

    fn audit(&mut self, _tx: &Tx<'_>, entries: Vec<AuditDraft>) -> Result<(), Error> {
        self.call_audit.extend(entries);
        Ok(())
    }
}
