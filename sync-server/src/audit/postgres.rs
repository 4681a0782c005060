//! The audit tables in PostgreSQL: both chains of every tenant in one table, `tenant_id`
//! leading every key. An append takes the chain's head row with `SELECT … FOR UPDATE` in the
//! transaction of the change, so concurrent writers of one chain (several instances) take
//! turns and numbers follow each other without gaps, on ordinary row locks only.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::chain::{self, GENESIS};
use super::{AuditDraft, AuditEntry, AuditQuery, ChainHead, ChainRow, Stream};
use crate::model::TenantId;
use crate::postgres::migrate::PgMigrations;

/// The audit schema. Never edit a shipped step: append a new one.
pub const MIGRATIONS: PgMigrations = PgMigrations {
    schema: "audit",
    steps: &[
        // 1: the chains' heads and entries; entries refuse UPDATE and DELETE.
        "CREATE TABLE audit_head (
            tenant_id uuid NOT NULL,
            stream    smallint NOT NULL,
            seq       bigint NOT NULL,
            hash      bytea NOT NULL,
            PRIMARY KEY (tenant_id, stream)
        );
        CREATE TABLE audit_entry (
            tenant_id  uuid NOT NULL,
            stream     smallint NOT NULL,
            seq        bigint NOT NULL,
            at         bigint NOT NULL,
            account_id uuid,
            user_id    uuid,
            device_id  uuid,
            record_id  uuid,
            kind       text,
            operation  text NOT NULL,
            rule       text,
            changes    text NOT NULL,
            detail     text,
            prev_hash  bytea NOT NULL,
            hash       bytea NOT NULL,
            PRIMARY KEY (tenant_id, stream, seq)
        );
        CREATE INDEX audit_by_time ON audit_entry (tenant_id, at);
        CREATE INDEX audit_by_record ON audit_entry (tenant_id, record_id, at);
        CREATE INDEX audit_by_account ON audit_entry (tenant_id, account_id, at);
        CREATE INDEX audit_by_user ON audit_entry (tenant_id, user_id, at);
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only';
        END $$;
        CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
    ],
};

/// Appends `drafts`, in order, to the chain `stream` of `tenant`, inside the caller's
/// transaction: sealed one after the other here, written [`BATCH`] entries per statement.
pub async fn append(
    tx: &impl GenericClient,
    tenant: TenantId,
    stream: Stream,
    drafts: Vec<AuditDraft>,
) -> Result<(), tokio_postgres::Error> {
    if drafts.is_empty() {
        return Ok(());
    }
    let t = *tenant.as_uuid();
    let code = stream.code() as i16;
    const HEAD: &str =
        "SELECT seq, hash FROM audit_head WHERE tenant_id = $1 AND stream = $2 FOR UPDATE";
    // The chain's head row is created once (by whichever writer comes first), then locked.
    let head = match crate::postgres::query_opt(tx, HEAD, &[&t, &code]).await? {
        Some(head) => head,
        None => {
            tx.execute(
                "INSERT INTO audit_head (tenant_id, stream, seq, hash) VALUES ($1, $2, 0, $3)
                 ON CONFLICT (tenant_id, stream) DO NOTHING",
                &[&t, &code, &&GENESIS[..]],
            )
            .await?;
            tx.query_one(HEAD, &[&t, &code]).await?
        }
    };
    let mut seq = head.get::<_, i64>(0).max(0) as u64;
    let stored: Vec<u8> = head.get(1);
    let mut prev = <[u8; 32]>::try_from(stored.as_slice()).unwrap_or([0xff; 32]);
    // Sealed in order on this side (each hash chains the one before), then written a batch
    // of entries per statement: one round trip for a group commit's entries, not one each.
    let mut drafts = drafts.into_iter().peekable();
    while drafts.peek().is_some() {
        let mut batch = Columns::default();
        for draft in drafts.by_ref().take(BATCH) {
            seq += 1;
            let (entry, hash) = chain::seal(tenant, stream, seq, &prev, draft);
            batch.push(entry, &prev, &hash);
            prev = hash;
        }
        crate::postgres::execute(
            tx,
            "INSERT INTO audit_entry (tenant_id, stream, seq, at, account_id, user_id,
                     device_id, record_id, kind, operation, rule, changes, detail, prev_hash, hash)
                 SELECT $1, $2, e.* FROM unnest($3::int8[], $4::int8[], $5::uuid[], $6::uuid[],
                 $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[],
                 $13::text[], $14::bytea[], $15::bytea[])
                 AS e(seq, at, account_id, user_id, device_id, record_id, kind, operation, rule,
                      changes, detail, prev_hash, hash)",
            &[
                &t,
                &code,
                &batch.seq,
                &batch.at,
                &batch.account_id,
                &batch.user_id,
                &batch.device_id,
                &batch.record_id,
                &batch.kind,
                &batch.operation,
                &batch.rule,
                &batch.changes,
                &batch.detail,
                &batch.prev_hash,
                &batch.hash,
            ],
        )
        .await?;
    }
    crate::postgres::execute(
        tx,
        "UPDATE audit_head SET seq = $3, hash = $4 WHERE tenant_id = $1 AND stream = $2",
        &[&t, &code, &(seq as i64), &&prev[..]],
    )
    .await?;
    Ok(())
}

/// Entries written per statement.
const BATCH: usize = 1_000;

/// A batch of sealed entries, column by column (what `unnest` takes).
#[derive(Default)]
struct Columns {
    seq: Vec<i64>,
    at: Vec<i64>,
    account_id: Vec<Option<Uuid>>,
    user_id: Vec<Option<Uuid>>,
    device_id: Vec<Option<Uuid>>,
    record_id: Vec<Option<Uuid>>,
    kind: Vec<Option<String>>,
    operation: Vec<String>,
    rule: Vec<Option<String>>,
    changes: Vec<String>,
    detail: Vec<Option<String>>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

impl Columns {
    fn push(&mut self, entry: AuditEntry, prev: &[u8; 32], hash: &[u8; 32]) {
        self.seq.push(entry.seq as i64);
        self.at.push(entry.at);
        self.account_id.push(entry.account_id);
        self.user_id.push(entry.user_id);
        self.device_id.push(entry.device_id);
        self.record_id.push(entry.record_id);
        self.changes.push(chain::changes_json(&entry.changes));
        self.kind.push(entry.kind);
        self.operation.push(entry.operation);
        self.rule.push(entry.rule);
        self.detail.push(entry.detail);
        self.prev_hash.push(prev.to_vec());
        self.hash.push(hash.to_vec());
    }
}

const COLUMNS: &str = "stream, seq, at, account_id, user_id, device_id, record_id, kind, \
                       operation, rule, changes, detail, prev_hash, hash";

fn entry_of(row: &Row) -> Result<AuditEntry, String> {
    let e = |e: tokio_postgres::Error| e.to_string();
    let stream = row
        .try_get::<_, i16>(0)
        .ok()
        .and_then(|c| Stream::from_code(i64::from(c)))
        .ok_or("the stream is unknown")?;
    let changes: String = row.try_get(10).map_err(e)?;
    Ok(AuditEntry {
        stream,
        seq: row.try_get::<_, i64>(1).map_err(e)?.max(0) as u64,
        at: row.try_get(2).map_err(e)?,
        account_id: row.try_get(3).map_err(e)?,
        user_id: row.try_get(4).map_err(e)?,
        device_id: row.try_get(5).map_err(e)?,
        record_id: row.try_get(6).map_err(e)?,
        kind: row.try_get(7).map_err(e)?,
        operation: row.try_get(8).map_err(e)?,
        rule: row.try_get(9).map_err(e)?,
        changes: serde_json::from_str(&changes).map_err(|e| format!("changes: {e}"))?,
        detail: row.try_get(11).map_err(e)?,
        prev_hash: hex::encode(row.try_get::<_, Vec<u8>>(12).map_err(e)?),
        hash: hex::encode(row.try_get::<_, Vec<u8>>(13).map_err(e)?),
    })
}

/// Entries of one chain of `tenant` matching `query`, in order of (time, stream, number).
pub async fn query(
    conn: &impl GenericClient,
    tenant: TenantId,
    stream: Stream,
    query: &AuditQuery,
) -> Result<Vec<AuditEntry>, tokio_postgres::Error> {
    let (a_at, a_stream, a_seq) = match query.after {
        Some(c) => (c.at, c.stream.code() as i16, c.seq as i64),
        None => (i64::MIN, i16::MIN, i64::MIN),
    };
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM audit_entry
                 WHERE tenant_id = $1 AND stream = $2
                   AND ($3::uuid IS NULL OR record_id = $3)
                   AND ($4::uuid IS NULL OR account_id = $4 OR user_id = $4)
                   AND ($5::text IS NULL OR operation = $5)
                   AND ($6::int8 IS NULL OR at >= $6)
                   AND ($7::int8 IS NULL OR at < $7)
                   AND (at, stream, seq) > ($8, $9, $10)
                 ORDER BY at, stream, seq
                 LIMIT $11"
            ),
            &[
                tenant.as_uuid(),
                &(stream.code() as i16),
                &query.record,
                &query.user,
                &query.operation,
                &query.from,
                &query.to,
                &a_at,
                &a_stream,
                &a_seq,
                &(query.limit as i64),
            ],
        )
        .await?;
    // A damaged row is skipped here; `audit verify` names it.
    Ok(rows.iter().filter_map(|r| entry_of(r).ok()).collect())
}

/// The heads of every tenant's chain `stream`.
pub async fn heads(
    conn: &impl GenericClient,
    stream: Stream,
) -> Result<Vec<ChainHead>, tokio_postgres::Error> {
    let rows = conn
        .query(
            "SELECT tenant_id, seq, hash FROM audit_head WHERE stream = $1 ORDER BY tenant_id",
            &[&(stream.code() as i16)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let hash: Vec<u8> = r.get(2);
            ChainHead {
                tenant: TenantId::from_uuid(r.get::<_, Uuid>(0)),
                stream,
                seq: r.get::<_, i64>(1).max(0) as u64,
                hash: <[u8; 32]>::try_from(hash.as_slice()).unwrap_or([0xee; 32]),
            }
        })
        .collect())
}

/// Rows of a chain after number `after`, in order.
pub async fn chain_rows(
    conn: &impl GenericClient,
    tenant: TenantId,
    stream: Stream,
    after: u64,
    limit: usize,
) -> Result<Vec<ChainRow>, tokio_postgres::Error> {
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM audit_entry
                 WHERE tenant_id = $1 AND stream = $2 AND seq > $3
                 ORDER BY seq LIMIT $4"
            ),
            &[
                tenant.as_uuid(),
                &(stream.code() as i16),
                &(after as i64),
                &(limit as i64),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ChainRow {
            seq: r.get::<_, i64>(1).max(0) as u64,
            entry: entry_of(r),
        })
        .collect())
}
