//! Tenants' records in PostgreSQL, for several stateless server instances.
//!
//! PostgreSQL holds the truth: per tenant, every record's document (bytes, heads, kind) with
//! its place in the change sequence and who may see it, the devices' holdings, a counter row
//! and the jobs' lease. Each instance also keeps a **read model** per tenant ([`model`]): a
//! core store in the phone's own schema, in a file of the instance's data directory, that
//! copies PostgreSQL's documents by following the order in which they changed, like a device
//! that sees everything. The rules' facts (`core::store::Facts`), who a user is
//! (`core::me::resolve`) and the dashboards (`core::dashboard::compute`) run over it: the
//! phone's own code and queries, so the same numbers and the same verdicts as on the phone,
//! with no second implementation of core's SQL. The read model is only a cache: deleting it
//! costs a rebuild from PostgreSQL, nothing else.
//!
//! - [`commit`]: group commit per instance. A write transaction takes the tenant's counter
//!   row first (`SELECT … FOR UPDATE`), brings the read model up to it, reviews and writes
//!   up to [`commit::MAX_GROUP`] queued calls, writes the counter last and commits
//!   PostgreSQL, then the read model.
//! - [`ledger`]: the change sequence and holdings as a write leaves them, written to
//!   PostgreSQL in a few statements per group.
//! - [`pull`]: a page read from PostgreSQL in one snapshot, judged by the shared page builder.
//! - [`model`]: the read models and how they catch up.
//!
//! Because every write of a tenant's records holds its counter row from start to commit,
//! sequence numbers become visible in the order they were handed out: a reader following its
//! cursor can never pass a number whose change commits later (the race a plain `nextval`
//! sequence has; `sync-server/tests/it/sequence_race.rs` shows both).

mod commit;
mod ledger;
mod model;
mod pull;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use deadpool_postgres::Pool;
use fieldsales_core::dashboard::{self, Dashboard, DashboardQuery, Focus};
use fieldsales_core::me::Me;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::store::Store as CoreStore;
use fieldsales_core::{RecordId, Timestamp};
use tokio::runtime::Handle;
use uuid::Uuid;

use super::push::{self, Readers};
use super::{AdminWriteError, Page, Pull, Push, RecordStore, Verdict, admin, review};
use crate::audit::{self, Actor, AuditEntry, AuditLog, AuditQuery, ChainHead, ChainRow, Stream};
use crate::jobs::{JobParams, JobReport};
use crate::model::TenantId;
use crate::postgres::migrate::PgMigrations;
use crate::postgres::{PgOptions, backend, client, uuid};
use crate::store::StoreError;
use crate::telemetry::Metrics;

/// The records schema in PostgreSQL. Never edit a shipped step: append a new one.
pub const MIGRATIONS: PgMigrations = PgMigrations {
    schema: "records",
    steps: &[
        // 1: documents with their place in the sequence, the counter, holdings, job leases.
        "-- Which database this is: a read model copied from another one is thrown away.
        CREATE TABLE records_identity (
            id uuid PRIMARY KEY
        );
        INSERT INTO records_identity (id) VALUES (gen_random_uuid());
        -- Per tenant: the last number of its change sequence, and the number after the last
        -- renumbering of every record (an org tree or role change). Every write of the
        -- tenant's records holds this row from its first statement to its commit.
        CREATE TABLE tenant_counter (
            tenant_id   uuid PRIMARY KEY,
            seq         bigint NOT NULL,
            relogged_at bigint NOT NULL DEFAULT 0
        );
        -- One row per record: the document (the truth), its place in the change sequence
        -- (renumbered whenever it changes or moves), the number at which its document last
        -- changed (what the read models follow), and who may see it.
        CREATE TABLE record (
            tenant_id   uuid NOT NULL,
            id          uuid NOT NULL,
            kind        text NOT NULL,
            doc         bytea NOT NULL,
            heads       bytea NOT NULL,
            changed_seq bigint NOT NULL,
            seq         bigint NOT NULL,
            owner_id    uuid,
            org_unit_id uuid,
            created_by  uuid,
            shared_with bytea NOT NULL DEFAULT '\\x',
            moved_at    bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, id)
        );
        -- Automerge compresses its documents already.
        ALTER TABLE record ALTER COLUMN doc SET STORAGE EXTERNAL;
        CREATE UNIQUE INDEX record_seq ON record (tenant_id, seq);
        CREATE UNIQUE INDEX record_changed ON record (tenant_id, changed_seq);
        CREATE INDEX record_owner ON record (tenant_id, owner_id, seq);
        CREATE INDEX record_unit ON record (tenant_id, org_unit_id, seq);
        CREATE INDEX record_shared ON record (tenant_id, seq) WHERE shared_with <> '\\x';
        CREATE INDEX record_moved ON record (tenant_id, moved_at) WHERE moved_at > 0;
        -- What each device holds: the heads it was sent (at which page cursor; 0 = it pushed
        -- them), or when it was told to delete the record.
        CREATE TABLE device_record (
            tenant_id      uuid NOT NULL,
            device_id      uuid NOT NULL,
            record_id      uuid NOT NULL,
            held           boolean NOT NULL,
            heads          bytea,
            heads_cursor   bigint NOT NULL DEFAULT 0,
            removed_cursor bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, device_id, record_id)
        );
        -- The next run of a tenant's scheduled jobs: the instance that moves it takes the run.
        CREATE TABLE job_lease (
            tenant_id   uuid NOT NULL,
            job         text NOT NULL,
            next_run_at timestamptz NOT NULL,
            run_by      text NOT NULL,
            runs        bigint NOT NULL,
            PRIMARY KEY (tenant_id, job)
        );",
        // 2: a pull reads the kinds its user reads company-wide (the catalogue, the org
        // tree) along this, not the whole sequence.
        "CREATE INDEX record_kind ON record (tenant_id, kind, seq);",
        // 3: the epoch of each tenant's sequence, random, renewed by `fieldsales-server
        // new-epoch` after the database is restored from a backup (see `crate::backup`).
        "ALTER TABLE tenant_counter ADD COLUMN epoch bigint NOT NULL
             DEFAULT (('x' || substr(md5(gen_random_uuid()::text), 1, 16))::bit(64)::bigint
                      & 9223372036854775807);",
    ],
};

/// Gives every tenant's sequence a new epoch and the database a new identity, after it was
/// restored from a backup (`fieldsales-server new-epoch`, with every instance stopped): each
/// device then pulls from the start and offers again what the database lacks, and each
/// instance throws its read models away (they followed the database past the backup) and
/// builds them again. Returns the tenants and their new epochs.
pub async fn renew_epochs(options: &PgOptions) -> Result<Vec<(TenantId, u64)>, StoreError> {
    let pool = crate::postgres::pool(options)?;
    let mut conn = client(&pool).await?;
    MIGRATIONS.apply(&mut conn).await?;
    let tx = conn.transaction().await.map_err(backend)?;
    tx.execute("UPDATE records_identity SET id = gen_random_uuid()", &[])
        .await
        .map_err(backend)?;
    let rows = tx
        .query(
            "UPDATE tenant_counter SET epoch = (('x' || substr(md5(gen_random_uuid()::text), 1,
                 16))::bit(64)::bigint & 9223372036854775807)
             RETURNING tenant_id, epoch",
            &[],
        )
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    let mut renewed: Vec<(TenantId, u64)> = rows
        .iter()
        .map(|r| (TenantId::from_uuid(r.get(0)), r.get::<_, i64>(1) as u64))
        .collect();
    renewed.sort();
    Ok(renewed)
}

/// Tenants' records in PostgreSQL, with this instance's read models under a directory.
#[derive(Clone)]
pub struct PostgresRecords {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Where the read models live (one core store file per tenant).
    dir: PathBuf,
    /// The database's identity (`records_identity`).
    identity: Uuid,
    /// This instance, as the job lease names it.
    instance: String,
    tenants: Mutex<HashMap<TenantId, Arc<Tenant>>>,
    /// Pushes being prepared at once, one per core.
    preparing: Arc<tokio::sync::Semaphore>,
    metrics: Option<Arc<Metrics>>,
    handle: Handle,
}

/// One tenant on this instance: its read model and the calls waiting for a group commit.
struct Tenant {
    id: TenantId,
    /// The read model's writer.
    model: Mutex<CoreStore>,
    /// Read-only connections to the read model.
    readers: Readers,
    /// The server's Automerge actor in this read model.
    actor: automerge::ActorId,
    /// Calls waiting for the next group commit.
    queue: Mutex<Vec<commit::Job>>,
    /// Held by the thread running a group commit of this tenant on this instance.
    runner: Mutex<()>,
    /// The tenant's counter row is known to exist.
    counted: AtomicBool,
}

impl std::fmt::Debug for PostgresRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRecords")
            .field("read_models", &self.inner.dir)
            .field("instance", &self.inner.instance)
            .finish()
    }
}

impl PostgresRecords {
    /// Connects to the database `options` names, brings the records schema up to date
    /// (several instances starting at once migrate it once) and keeps this instance's read
    /// models under `dir`. Call from within the tokio runtime.
    pub async fn open(
        options: &PgOptions,
        dir: impl Into<PathBuf>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, StoreError> {
        let pool = crate::postgres::pool(options)?;
        Self::with_pool(pool, dir, metrics).await
    }

    /// The same over a pool shared with the accounts store.
    pub async fn with_pool(
        pool: Pool,
        dir: impl Into<PathBuf>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, StoreError> {
        let identity: Uuid = {
            let mut conn = client(&pool).await?;
            MIGRATIONS.apply(&mut conn).await?;
            crate::audit::postgres::MIGRATIONS.apply(&mut conn).await?;
            conn.query_one("SELECT id FROM records_identity", &[])
                .await
                .map_err(backend)?
                .get(0)
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(PostgresRecords {
            inner: Arc::new(Inner {
                pool,
                dir: dir.into(),
                identity,
                instance: Uuid::new_v4().to_string(),
                tenants: Mutex::new(HashMap::new()),
                preparing: Arc::new(tokio::sync::Semaphore::new(cores)),
                metrics,
                handle: Handle::current(),
            }),
        })
    }

    /// The tenant's read model, opened (and checked against this database) on first use.
    /// Blocking.
    fn tenant(&self, tenant: TenantId) -> Result<Arc<Tenant>, StoreError> {
        let mut tenants = self
            .inner
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = tenants.get(&tenant) {
            return Ok(Arc::clone(found));
        }
        let found = Arc::new(model::open(&self.inner.dir, self.inner.identity, tenant)?);
        tenants.insert(tenant, Arc::clone(&found));
        Ok(found)
    }

    /// The file of this instance's read model of `tenant`, brought up to what PostgreSQL has
    /// committed: the tenant's records, for tools and tests that read them with core's own
    /// code (open it read-only, or beside a stopped server).
    pub async fn caught_up_copy(&self, tenant: TenantId) -> Result<PathBuf, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found = this.tenant(tenant)?;
            this.catch_up(&found)?;
            Ok(found.readers.path().to_path_buf())
        })
        .await
        .map_err(backend)?
    }

    /// Runs `f` on the blocking pool with the tenant's read model brought up to what
    /// PostgreSQL has committed, reading it through a read-only connection.
    async fn read_current<T, F>(&self, tenant: TenantId, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&fieldsales_core::store::Reader) -> Result<T, fieldsales_core::Error>
            + Send
            + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let found = this.tenant(tenant)?;
            this.catch_up(&found)?;
            found.readers.read(f).map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    /// Prepares a push's records beside the writer from the read model (see
    /// [`push::Readers::prepare_push`]), one push at a time per core, after bringing the read
    /// model up to date when nobody else is using it (the write catches it up anyway).
    async fn prepare(
        &self,
        tenant: TenantId,
        push: Push,
    ) -> Result<(Push, Vec<Option<review::Prepared>>), StoreError> {
        let this = self.clone();
        let slot = Arc::clone(&self.inner.preparing)
            .acquire_owned()
            .await
            .map_err(backend)?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let prepared = match this.tenant(tenant) {
                Ok(found) => {
                    if let Err(e) = this.catch_up_if_idle(&found) {
                        tracing::warn!(error = %e, "read model catch-up before a push failed");
                    }
                    found.readers.prepare_push(&found.actor, &push)
                }
                Err(_) => Vec::new(),
            };
            (push, prepared)
        })
        .await
        .map_err(backend)
    }
}

#[async_trait]
impl RecordStore for PostgresRecords {
    async fn me(&self, tenant: TenantId, profile: RecordId) -> Result<Option<Me>, StoreError> {
        self.read_current(tenant, move |reader| {
            fieldsales_core::me::resolve(reader, profile)
        })
        .await
    }

    async fn push(&self, tenant: TenantId, push: Push) -> Result<Vec<Verdict>, StoreError> {
        let (push, prepared) = self.prepare(tenant, push).await?;
        self.in_group_commit(tenant, move |tx, ledger| {
            push::push_blocking(tx, ledger, &push, prepared)
        })
        .await
    }

    async fn pull(&self, tenant: TenantId, pull: Pull) -> Result<Page, StoreError> {
        self.pull_page(tenant, pull).await
    }

    async fn dashboard(
        &self,
        tenant: TenantId,
        viewer: Me,
        focus: Option<Focus>,
        query: DashboardQuery,
        now: Timestamp,
    ) -> Result<Dashboard, StoreError> {
        self.read_current(tenant, move |reader| {
            dashboard::compute_within(reader, viewer, focus, &query, now, Some(now))
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
        self.in_group_commit(tenant, move |tx, ledger| {
            admin::put_in(tx, ledger, &record, now, &by)
        })
        .await?
    }

    async fn console(&self, tenant: TenantId) -> Result<admin::Console, StoreError> {
        self.read_current(tenant, admin::console_of).await
    }

    async fn hand_over(
        &self,
        tenant: TenantId,
        from: RecordId,
        to: RecordId,
        now: Timestamp,
        by: Actor,
    ) -> Result<admin::HandedOver, AdminWriteError> {
        self.in_group_commit(tenant, move |tx, ledger| {
            admin::hand_over_in(tx, ledger, from, to, now, &by)
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
        self.in_group_commit(tenant, move |tx, ledger| {
            admin::set_matrix_in(tx, ledger, &role, permissions, revision, now, &by)
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
        self.in_group_commit(tenant, move |tx, ledger| {
            admin::import_in(tx, ledger, entity, &table, &file, &options, now, &by)
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
        // Over the read model brought up to what PostgreSQL has committed, as the phone's
        // own check runs over its store.
        self.read_current(tenant, move |reader| {
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
        .await
    }

    async fn epoch(&self, tenant: TenantId) -> Result<Option<u64>, StoreError> {
        let conn = client(&self.inner.pool).await?;
        let row = conn
            .query_opt(
                "SELECT epoch FROM tenant_counter WHERE tenant_id = $1",
                &[&uuid(tenant.as_bytes())],
            )
            .await
            .map_err(backend)?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let conn = client(&self.inner.pool).await?;
        let rows = conn
            .query(
                "SELECT tenant_id FROM tenant_counter ORDER BY tenant_id",
                &[],
            )
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| TenantId::from_uuid(r.get(0))).collect())
    }

    async fn move_private_out(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        self.in_group_commit(tenant, move |tx, ledger| {
            admin::move_private_out_in(tx, ledger, now)
        })
        .await
    }

    async fn run_jobs(&self, tenant: TenantId, params: JobParams) -> Result<JobReport, StoreError> {
        self.in_group_commit(tenant, move |tx, ledger| {
            admin::run_jobs_in(tx, ledger, params)
        })
        .await
    }

    async fn claim_scheduled_run(
        &self,
        tenant: TenantId,
        every: std::time::Duration,
    ) -> Result<bool, StoreError> {
        // The lease runs a little short of the interval, so instances ticking at slightly
        // different moments do not skip a run between them; PostgreSQL's clock, so the
        // instances' own clocks do not matter.
        let lease_ms = (every.as_millis() as i64 * 9 / 10).max(1);
        let conn = client(&self.inner.pool).await?;
        let claimed = conn
            .query_opt(
                "INSERT INTO job_lease AS l (tenant_id, job, next_run_at, run_by, runs)
                 VALUES ($1, 'scheduled', now() + $2 * interval '1 millisecond', $3, 1)
                 ON CONFLICT (tenant_id, job) DO UPDATE
                     SET next_run_at = excluded.next_run_at, run_by = excluded.run_by,
                         runs = l.runs + 1
                     WHERE l.next_run_at <= now()
                 RETURNING runs",
                &[
                    &uuid(tenant.as_bytes()),
                    &(lease_ms as f64),
                    &self.inner.instance,
                ],
            )
            .await
            .map_err(backend)?;
        Ok(claimed.is_some())
    }
}

#[async_trait]
impl AuditLog for PostgresRecords {
    async fn audit_entries(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = client(&self.inner.pool).await?;
        audit::postgres::query(&conn, tenant, Stream::Records, query)
            .await
            .map_err(backend)
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let conn = client(&self.inner.pool).await?;
        audit::postgres::heads(&conn, Stream::Records)
            .await
            .map_err(backend)
    }

    async fn audit_chain(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainRow>, StoreError> {
        let conn = client(&self.inner.pool).await?;
        audit::postgres::chain_rows(&conn, tenant, Stream::Records, after, limit)
            .await
            .map_err(backend)
    }
}
