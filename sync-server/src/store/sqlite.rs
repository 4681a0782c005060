//! The embedded default: one SQLite file in the data directory, created on first start.
//!
//! One writer connection (SQLite admits one writer at a time anyway) migrates the schema
//! and takes every write; a few read-only connections serve lookups concurrently, which WAL
//! mode allows. Every call runs on tokio's blocking pool. `synchronous = FULL`: the server
//! is the authority, so a write it acknowledged must survive a power cut, not only a crash.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use fieldsales_core::store::migrate::{MigrationError, Migrations, Step, VersionSlot};
use fieldsales_core::{RecordId, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, params};

use super::{
    ActorRecord, Credentials, NewAccount, NewBrowserSession, NewSession, NewTenant, PasswordChange,
    PasswordHash, SessionDevice, Store, StoreError, TokenHash, TokenRecord,
};
use crate::audit::{
    self, Actor, AuditDraft, AuditEntry, AuditLog, AuditQuery, ChainHead, ChainRow, Stream,
};
use crate::model::{
    Account, AccountId, ActorId, Device, DeviceId, DisplayName, Login, Tenant, TenantId, TenantSlug,
};

/// The accounts schema, migrated by the workspace's one mechanism: step *n* brings it to
/// version *n*. Never edit a shipped step: append a new one.
const MIGRATIONS: Migrations = Migrations {
    schema: "accounts",
    steps: &[
        // 1: tenants, accounts, devices, their tokens and actors.
        Step::Sql(
            "CREATE TABLE tenant (
        id BLOB PRIMARY KEY NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE account (
        id BLOB PRIMARY KEY NOT NULL,
        tenant_id BLOB NOT NULL REFERENCES tenant(id),
        login TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        profile_id BLOB NOT NULL,
        is_admin INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        UNIQUE (tenant_id, login),
        UNIQUE (tenant_id, profile_id)
    ) STRICT;
    CREATE TABLE device (
        id BLOB PRIMARY KEY NOT NULL,
        tenant_id BLOB NOT NULL REFERENCES tenant(id),
        account_id BLOB NOT NULL REFERENCES account(id),
        name TEXT NOT NULL,
        registered_at INTEGER NOT NULL,
        last_login_at INTEGER NOT NULL,
        revoked_at INTEGER
    ) STRICT;
    CREATE INDEX device_by_account ON device (account_id, registered_at);
    CREATE TABLE device_token (
        hash BLOB PRIMARY KEY NOT NULL,
        device_id BLOB NOT NULL REFERENCES device(id),
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
    ) STRICT;
    CREATE INDEX device_token_by_device ON device_token (device_id);
    CREATE TABLE device_actor (
        actor BLOB PRIMARY KEY NOT NULL,
        device_id BLOB NOT NULL REFERENCES device(id),
        registered_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX device_actor_by_device ON device_actor (device_id, registered_at);",
        ),
        // 2: browser sessions: tokens of an account on no device.
        Step::Sql(
            "CREATE TABLE browser_session (
        hash BLOB PRIMARY KEY NOT NULL,
        tenant_id BLOB NOT NULL REFERENCES tenant(id),
        account_id BLOB NOT NULL REFERENCES account(id),
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
    ) STRICT;
    CREATE INDEX browser_session_by_account ON browser_session (account_id, issued_at);",
        ),
        // 3: the audit log's accounts chains.
        Step::Sql(crate::audit::sqlite::TABLES),
    ],
    slot: VersionSlot::UserVersion,
};

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.steps.len() as i64;

/// Tuning of the SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read-only connections serving lookups concurrently.
    pub readers: usize,
    /// How long a connection waits for a lock before failing.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("readers", &self.inner.readers.len())
            .finish()
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`]; refuses a database written by a newer server.
    pub async fn open(
        path: impl Into<PathBuf>,
        options: SqliteOptions,
    ) -> Result<Self, StoreError> {
        let path = path.into();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path, &options))
            .await
            .map_err(backend)?
    }

    /// The blocking half of [`SqliteStore::open`], for command-line tools.
    pub fn open_blocking(path: &Path, options: &SqliteOptions) -> Result<Self, StoreError> {
        crate::private_file(path).map_err(backend)?;
        let mut writer = Connection::open(path).map_err(backend)?;
        configure(&writer, options)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        migrate(&mut writer)?;
        let readers = (0..options.readers.max(1))
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(backend)?;
                configure(&conn, options)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[i]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(backend)?
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic mid-transaction drops the transaction, which rolls back: the
            // connection is consistent even if the lock is poisoned.
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
        .map_err(backend)?
    }
}

fn configure(conn: &Connection, options: &SqliteOptions) -> Result<(), StoreError> {
    conn.busy_timeout(options.busy_timeout).map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(backend)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    fieldsales_core::store::stable_plans(conn).map_err(backend)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    MIGRATIONS.apply(conn).map_err(|e| match e {
        MigrationError::Newer {
            found, supported, ..
        } => StoreError::SchemaTooNew { found, supported },
        other => backend(other),
    })?;
    Ok(())
}

// ---- decoding rows -------------------------------------------------------------------------

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        detail: detail.into(),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn opt_ts(ms: Option<i64>) -> Option<Timestamp> {
    ms.map(Timestamp::from_millis)
}

/// Reads a column, turning a type mismatch into a rusqlite error (then `Corrupt`).
fn col<T: rusqlite::types::FromSql>(row: &Row<'_>, name: &str) -> rusqlite::Result<T> {
    row.get(name)
}

struct AccountRow {
    id: Vec<u8>,
    tenant_id: Vec<u8>,
    login: String,
    profile_id: Vec<u8>,
    is_admin: bool,
    created_at: i64,
    revoked_at: Option<i64>,
}

const ACCOUNT_COLUMNS: &str = "a.id AS a_id, a.tenant_id AS a_tenant_id, a.login AS a_login, \
     a.profile_id AS a_profile_id, a.is_admin AS a_is_admin, a.created_at AS a_created_at, \
     a.revoked_at AS a_revoked_at";

impl AccountRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(AccountRow {
            id: col(row, "a_id")?,
            tenant_id: col(row, "a_tenant_id")?,
            login: col(row, "a_login")?,
            profile_id: col(row, "a_profile_id")?,
            is_admin: col(row, "a_is_admin")?,
            created_at: col(row, "a_created_at")?,
            revoked_at: col(row, "a_revoked_at")?,
        })
    }

    fn decode(self) -> Result<Account, StoreError> {
        let id =
            AccountId::from_slice(&self.id).map_err(|e| corrupt(format!("account id: {e}")))?;
        Ok(Account {
            id,
            tenant_id: TenantId::from_slice(&self.tenant_id)
                .map_err(|e| corrupt(format!("account {id} tenant: {e}")))?,
            login: Login::parse(&self.login)
                .map_err(|e| corrupt(format!("account {id} login: {e}")))?,
            profile_id: RecordId::from_slice(&self.profile_id)
                .map_err(|e| corrupt(format!("account {id} profile: {e}")))?,
            is_admin: self.is_admin,
            created_at: ts(self.created_at),
            revoked_at: opt_ts(self.revoked_at),
        })
    }
}

struct DeviceRow {
    id: Vec<u8>,
    tenant_id: Vec<u8>,
    account_id: Vec<u8>,
    name: String,
    registered_at: i64,
    last_login_at: i64,
    revoked_at: Option<i64>,
}

const DEVICE_COLUMNS: &str = "d.id AS d_id, d.tenant_id AS d_tenant_id, \
     d.account_id AS d_account_id, d.name AS d_name, d.registered_at AS d_registered_at, \
     d.last_login_at AS d_last_login_at, d.revoked_at AS d_revoked_at";

impl DeviceRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(DeviceRow {
            id: col(row, "d_id")?,
            tenant_id: col(row, "d_tenant_id")?,
            account_id: col(row, "d_account_id")?,
            name: col(row, "d_name")?,
            registered_at: col(row, "d_registered_at")?,
            last_login_at: col(row, "d_last_login_at")?,
            revoked_at: col(row, "d_revoked_at")?,
        })
    }

    fn decode(self) -> Result<Device, StoreError> {
        let id = DeviceId::from_slice(&self.id).map_err(|e| corrupt(format!("device id: {e}")))?;
        Ok(Device {
            id,
            tenant_id: TenantId::from_slice(&self.tenant_id)
                .map_err(|e| corrupt(format!("device {id} tenant: {e}")))?,
            account_id: AccountId::from_slice(&self.account_id)
                .map_err(|e| corrupt(format!("device {id} account: {e}")))?,
            name: DisplayName::parse(&self.name)
                .map_err(|e| corrupt(format!("device {id} name: {e}")))?,
            registered_at: ts(self.registered_at),
            last_login_at: ts(self.last_login_at),
            revoked_at: opt_ts(self.revoked_at),
        })
    }
}

fn decode_tenant(row: &Row<'_>) -> rusqlite::Result<(Vec<u8>, String, String, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn tenant_from(raw: (Vec<u8>, String, String, i64)) -> Result<Tenant, StoreError> {
    let (id, slug, name, created_at) = raw;
    let id = TenantId::from_slice(&id).map_err(|e| corrupt(format!("tenant id: {e}")))?;
    Ok(Tenant {
        id,
        slug: TenantSlug::parse(&slug).map_err(|e| corrupt(format!("tenant {id} slug: {e}")))?,
        name: DisplayName::parse(&name).map_err(|e| corrupt(format!("tenant {id} name: {e}")))?,
        created_at: ts(created_at),
    })
}

fn query_account(
    conn: &Connection,
    tenant: TenantId,
    account: AccountId,
) -> Result<Option<Account>, StoreError> {
    let sql =
        format!("SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.tenant_id = ?1 AND a.id = ?2");
    conn.prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_row(
                params![tenant.as_bytes(), account.as_bytes()],
                AccountRow::read,
            )
            .optional()
        })
        .map_err(backend)?
        .map(AccountRow::decode)
        .transpose()
}

fn query_device(
    conn: &Connection,
    tenant: TenantId,
    device: DeviceId,
) -> Result<Option<Device>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM device d WHERE d.tenant_id = ?1 AND d.id = ?2");
    conn.prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_row(
                params![tenant.as_bytes(), device.as_bytes()],
                DeviceRow::read,
            )
            .optional()
        })
        .map_err(backend)?
        .map(DeviceRow::decode)
        .transpose()
}

/// An actor row as read, before decoding.
struct ActorRow {
    actor: Vec<u8>,
    device: Vec<u8>,
    account: Vec<u8>,
    registered_at: i64,
}

fn decode_actor(row: &Row<'_>) -> rusqlite::Result<ActorRow> {
    Ok(ActorRow {
        actor: row.get(0)?,
        device: row.get(1)?,
        account: row.get(2)?,
        registered_at: row.get(3)?,
    })
}

fn actor_from(raw: ActorRow) -> Result<ActorRecord, StoreError> {
    Ok(ActorRecord {
        actor: ActorId::from_slice(&raw.actor).map_err(|e| corrupt(format!("actor: {e}")))?,
        device_id: DeviceId::from_slice(&raw.device)
            .map_err(|e| corrupt(format!("actor device: {e}")))?,
        account_id: AccountId::from_slice(&raw.account)
            .map_err(|e| corrupt(format!("actor account: {e}")))?,
        registered_at: ts(raw.registered_at),
    })
}

/// The profile of an account signing in or out from a browser, for its audit entry.
fn browser_profile(
    tx: &rusqlite::Transaction<'_>,
    tenant: TenantId,
    account: AccountId,
) -> Result<RecordId, StoreError> {
    let profile: Vec<u8> = tx
        .query_row(
            "SELECT profile_id FROM account WHERE tenant_id = ?1 AND id = ?2",
            params![tenant.as_bytes(), account.as_bytes()],
            |r| r.get(0),
        )
        .map_err(backend)?;
    RecordId::from_slice(&profile).map_err(|_| corrupt("an account's profile is not an id"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn health(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM tenant", [], |r| r.get::<_, i64>(0))
                .map_err(backend)?;
            Ok(())
        })
        .await?;
        self.write(|tx| {
            tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn create_tenant(&self, new: NewTenant) -> Result<Tenant, StoreError> {
        self.write(move |tx| {
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM tenant WHERE slug = ?1)",
                    [new.slug.as_str()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if taken {
                return Err(StoreError::TenantExists { slug: new.slug });
            }
            tx.execute(
                "INSERT INTO tenant (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    new.id.as_bytes(),
                    new.slug.as_str(),
                    new.name.as_str(),
                    new.created_at.millis()
                ],
            )
            .map_err(backend)?;
            Ok(Tenant {
                id: new.id,
                slug: new.slug,
                name: new.name,
                created_at: new.created_at,
            })
        })
        .await
    }

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        let slug = slug.clone();
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, slug, name, created_at FROM tenant WHERE slug = ?1")
                .and_then(|mut st| st.query_row([slug.as_str()], decode_tenant).optional())
                .map_err(backend)?
                .map(tenant_from)
                .transpose()
        })
        .await
    }

    async fn create_account(&self, new: NewAccount, by: &Actor) -> Result<Account, StoreError> {
        let by = *by;
        self.write(move |tx| {
            let tenant_known: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM tenant WHERE id = ?1)",
                    [new.tenant_id.as_bytes()],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !tenant_known {
                return Err(StoreError::TenantNotFound {
                    tenant_id: new.tenant_id,
                });
            }
            let (login_taken, profile_taken): (bool, bool) = tx
                .query_row(
                    "SELECT
                        EXISTS (SELECT 1 FROM account WHERE tenant_id = ?1 AND login = ?2),
                        EXISTS (SELECT 1 FROM account WHERE tenant_id = ?1 AND profile_id = ?3)",
                    params![
                        new.tenant_id.as_bytes(),
                        new.login.as_str(),
                        new.profile_id.as_bytes()
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(backend)?;
            if login_taken {
                return Err(StoreError::LoginTaken { login: new.login });
            }
            if profile_taken {
                return Err(StoreError::ProfileTaken {
                    profile_id: new.profile_id,
                });
            }
            tx.execute(
                "INSERT INTO account
                    (id, tenant_id, login, password_hash, profile_id, is_admin, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.id.as_bytes(),
                    new.tenant_id.as_bytes(),
                    new.login.as_str(),
                    new.password_hash.0,
                    new.profile_id.as_bytes(),
                    new.is_admin,
                    new.created_at.millis()
                ],
            )
            .map_err(backend)?;
            let account = Account {
                id: new.id,
                tenant_id: new.tenant_id,
                login: new.login,
                profile_id: new.profile_id,
                is_admin: new.is_admin,
                created_at: new.created_at,
                revoked_at: None,
            };
            append(
                tx,
                account.tenant_id,
                audit::accounts::account_created(&account, &by),
            )?;
            Ok(account)
        })
        .await
    }

    async fn account(
        &self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        self.read(move |conn| query_account(conn, tenant, account))
            .await
    }

    async fn credentials(
        &self,
        tenant: TenantId,
        login: &Login,
    ) -> Result<Option<Credentials>, StoreError> {
        let login = login.clone();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS}, a.password_hash AS a_password_hash
                 FROM account a WHERE a.tenant_id = ?1 AND a.login = ?2"
            );
            let found = conn
                .prepare_cached(&sql)
                .and_then(|mut st| {
                    st.query_row(params![tenant.as_bytes(), login.as_str()], |row| {
                        Ok((
                            AccountRow::read(row)?,
                            col::<String>(row, "a_password_hash")?,
                        ))
                    })
                    .optional()
                })
                .map_err(backend)?;
            found
                .map(|(row, hash)| {
                    Ok(Credentials {
                        account: row.decode()?,
                        password_hash: PasswordHash(hash),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn accounts(&self, tenant: TenantId) -> Result<Vec<Account>, StoreError> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.tenant_id = ?1 ORDER BY a.login"
            );
            let rows = conn
                .prepare_cached(&sql)
                .and_then(|mut st| {
                    st.query_map([tenant.as_bytes()], AccountRow::read)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)?;
            rows.into_iter().map(AccountRow::decode).collect()
        })
        .await
    }

    async fn set_password_hash(
        &self,
        tenant: TenantId,
        account: AccountId,
        hash: PasswordHash,
        change: PasswordChange,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE account SET password_hash = ?3 WHERE tenant_id = ?1 AND id = ?2",
                    params![tenant.as_bytes(), account.as_bytes(), hash.0],
                )
                .map_err(backend)?;
            if changed == 0 {
                return Err(StoreError::AccountNotFound {
                    account_id: account,
                });
            }
            let signed_out = match change {
                PasswordChange::Own { .. } => 0,
                PasswordChange::Reset { at, .. } => tx
                    .execute(
                        "UPDATE device_token SET revoked_at = ?3
                         WHERE revoked_at IS NULL AND device_id IN (
                             SELECT id FROM device WHERE tenant_id = ?1 AND account_id = ?2)",
                        params![tenant.as_bytes(), account.as_bytes(), at.millis()],
                    )
                    .map_err(backend)? as u64,
            };
            append(
                tx,
                tenant,
                audit::accounts::password_changed(account, change, signed_out),
            )?;
            Ok(signed_out)
        })
        .await
    }

    async fn revoke_account(
        &self,
        tenant: TenantId,
        account: AccountId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<Account, StoreError> {
        let by = *by;
        self.write(move |tx| {
            let before = query_account(tx, tenant, account)?.and_then(|a| a.revoked_at);
            let changed = tx
                .execute(
                    "UPDATE account SET revoked_at = coalesce(revoked_at, ?3)
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![tenant.as_bytes(), account.as_bytes(), at.millis()],
                )
                .map_err(backend)?;
            if changed == 0 {
                return Err(StoreError::AccountNotFound {
                    account_id: account,
                });
            }
            tx.execute(
                "UPDATE device SET revoked_at = ?3
                 WHERE tenant_id = ?1 AND account_id = ?2 AND revoked_at IS NULL",
                params![tenant.as_bytes(), account.as_bytes(), at.millis()],
            )
            .map_err(backend)?;
            let revoked =
                query_account(tx, tenant, account)?.ok_or(StoreError::AccountNotFound {
                    account_id: account,
                })?;
            append(
                tx,
                tenant,
                audit::accounts::account_revoked(&revoked, before, at, &by),
            )?;
            Ok(revoked)
        })
        .await
    }

    async fn start_session(&self, s: NewSession) -> Result<Device, StoreError> {
        self.write(move |tx| {
            let device_id = match s.device {
                SessionDevice::Existing(id) => {
                    let changed = tx
                        .execute(
                            "UPDATE device SET name = ?4, last_login_at = ?5
                             WHERE tenant_id = ?1 AND id = ?2 AND account_id = ?3
                               AND revoked_at IS NULL",
                            params![
                                s.tenant_id.as_bytes(),
                                id.as_bytes(),
                                s.account_id.as_bytes(),
                                s.device_name.as_str(),
                                s.issued_at.millis()
                            ],
                        )
                        .map_err(backend)?;
                    if changed == 0 {
                        return Err(StoreError::DeviceUnavailable { device_id: id });
                    }
                    tx.execute(
                        "UPDATE device_token SET revoked_at = ?2
                         WHERE device_id = ?1 AND revoked_at IS NULL",
                        params![id.as_bytes(), s.issued_at.millis()],
                    )
                    .map_err(backend)?;
                    id
                }
                SessionDevice::New(id) => {
                    tx.execute(
                        "INSERT INTO device
                            (id, tenant_id, account_id, name, registered_at, last_login_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                        params![
                            id.as_bytes(),
                            s.tenant_id.as_bytes(),
                            s.account_id.as_bytes(),
                            s.device_name.as_str(),
                            s.issued_at.millis()
                        ],
                    )
                    .map_err(backend)?;
                    id
                }
            };
            tx.execute(
                "INSERT INTO device_token (hash, device_id, issued_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    &s.token_hash.0[..],
                    device_id.as_bytes(),
                    s.issued_at.millis(),
                    s.expires_at.millis()
                ],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT INTO device_actor (actor, device_id, registered_at) VALUES (?1, ?2, ?3)",
                params![
                    &s.actor.as_bytes()[..],
                    device_id.as_bytes(),
                    s.issued_at.millis()
                ],
            )
            .map_err(backend)?;
            let device = query_device(tx, s.tenant_id, device_id)?
                .ok_or(StoreError::DeviceNotFound { device_id })?;
            let profile = query_account(tx, s.tenant_id, s.account_id)?
                .ok_or(StoreError::AccountNotFound {
                    account_id: s.account_id,
                })?
                .profile_id;
            append(
                tx,
                s.tenant_id,
                audit::accounts::signed_in(
                    s.account_id,
                    profile,
                    &device,
                    matches!(s.device, SessionDevice::New(_)),
                    s.issued_at,
                ),
            )?;
            Ok(device)
        })
        .await
    }

    async fn device(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<Option<Device>, StoreError> {
        self.read(move |conn| query_device(conn, tenant, device))
            .await
    }

    async fn devices(
        &self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Vec<Device>, StoreError> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {DEVICE_COLUMNS} FROM device d
                 WHERE d.tenant_id = ?1 AND d.account_id = ?2
                 ORDER BY d.registered_at, d.id"
            );
            let rows = conn
                .prepare_cached(&sql)
                .and_then(|mut st| {
                    st.query_map(
                        params![tenant.as_bytes(), account.as_bytes()],
                        DeviceRow::read,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)?;
            rows.into_iter().map(DeviceRow::decode).collect()
        })
        .await
    }

    async fn revoke_device(
        &self,
        tenant: TenantId,
        device: DeviceId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<Device, StoreError> {
        let by = *by;
        self.write(move |tx| {
            let before = query_device(tx, tenant, device)?.and_then(|d| d.revoked_at);
            let changed = tx
                .execute(
                    "UPDATE device SET revoked_at = coalesce(revoked_at, ?3)
                     WHERE tenant_id = ?1 AND id = ?2",
                    params![tenant.as_bytes(), device.as_bytes(), at.millis()],
                )
                .map_err(backend)?;
            if changed == 0 {
                return Err(StoreError::DeviceNotFound { device_id: device });
            }
            let revoked = query_device(tx, tenant, device)?
                .ok_or(StoreError::DeviceNotFound { device_id: device })?;
            append(
                tx,
                tenant,
                audit::accounts::device_revoked(&revoked, before, at, &by),
            )?;
            Ok(revoked)
        })
        .await
    }

    async fn token(&self, hash: TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS}, {DEVICE_COLUMNS},
                        t.issued_at AS t_issued_at, t.expires_at AS t_expires_at,
                        t.revoked_at AS t_revoked_at
                 FROM device_token t
                 JOIN device d ON d.id = t.device_id
                 JOIN account a ON a.id = d.account_id
                 WHERE t.hash = ?1"
            );
            let found = conn
                .prepare_cached(&sql)
                .and_then(|mut st| {
                    st.query_row([&hash.0[..]], |row| {
                        Ok((
                            AccountRow::read(row)?,
                            DeviceRow::read(row)?,
                            col::<i64>(row, "t_issued_at")?,
                            col::<i64>(row, "t_expires_at")?,
                            col::<Option<i64>>(row, "t_revoked_at")?,
                        ))
                    })
                    .optional()
                })
                .map_err(backend)?;
            if let Some((account, device, issued, expires, revoked)) = found {
                return Ok(Some(TokenRecord {
                    token_hash: hash,
                    account: account.decode()?,
                    device: Some(device.decode()?),
                    issued_at: ts(issued),
                    expires_at: ts(expires),
                    revoked_at: opt_ts(revoked),
                }));
            }
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS},
                        b.issued_at AS t_issued_at, b.expires_at AS t_expires_at,
                        b.revoked_at AS t_revoked_at
                 FROM browser_session b
                 JOIN account a ON a.id = b.account_id AND a.tenant_id = b.tenant_id
                 WHERE b.hash = ?1"
            );
            let browser = conn
                .prepare_cached(&sql)
                .and_then(|mut st| {
                    st.query_row([&hash.0[..]], |row| {
                        Ok((
                            AccountRow::read(row)?,
                            col::<i64>(row, "t_issued_at")?,
                            col::<i64>(row, "t_expires_at")?,
                            col::<Option<i64>>(row, "t_revoked_at")?,
                        ))
                    })
                    .optional()
                })
                .map_err(backend)?;
            browser
                .map(|(account, issued, expires, revoked)| {
                    Ok(TokenRecord {
                        token_hash: hash,
                        account: account.decode()?,
                        device: None,
                        issued_at: ts(issued),
                        expires_at: ts(expires),
                        revoked_at: opt_ts(revoked),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn start_browser_session(&self, s: NewBrowserSession) -> Result<(), StoreError> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "INSERT INTO browser_session
                        (hash, tenant_id, account_id, issued_at, expires_at)
                     SELECT ?1, ?2, ?3, ?4, ?5
                     FROM account WHERE tenant_id = ?2 AND id = ?3",
                    params![
                        &s.token_hash.0[..],
                        s.tenant_id.as_bytes(),
                        s.account_id.as_bytes(),
                        s.issued_at.millis(),
                        s.expires_at.millis()
                    ],
                )
                .map_err(backend)?;
            if changed == 0 {
                return Err(StoreError::AccountNotFound {
                    account_id: s.account_id,
                });
            }
            let profile = browser_profile(tx, s.tenant_id, s.account_id)?;
            append(
                tx,
                s.tenant_id,
                audit::accounts::browser_signed_in(s.account_id, profile, s.issued_at),
            )?;
            Ok(())
        })
        .await
    }

    async fn revoke_browser_sessions(
        &self,
        tenant: TenantId,
        account: AccountId,
        at: Timestamp,
        by: Actor,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE browser_session SET revoked_at = ?3
                     WHERE tenant_id = ?1 AND account_id = ?2 AND revoked_at IS NULL",
                    params![tenant.as_bytes(), account.as_bytes(), at.millis()],
                )
                .map_err(backend)? as u64;
            if changed > 0 {
                append(
                    tx,
                    tenant,
                    audit::accounts::browser_sessions_revoked(account, changed, at, &by),
                )?;
            }
            Ok(changed)
        })
        .await
    }

    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let mut changed = tx
                .execute(
                    "UPDATE device_token SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
                    params![&hash.0[..], at.millis()],
                )
                .map_err(backend)?;
            if changed > 0 {
                let whose: (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) = tx
                    .query_row(
                        "SELECT a.tenant_id, a.id, a.profile_id, d.id FROM device_token t
                         JOIN device d ON d.id = t.device_id
                         JOIN account a ON a.id = d.account_id
                         WHERE t.hash = ?1",
                        [&hash.0[..]],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .map_err(backend)?;
                let bad = |_| corrupt("a token's device or account is not an id");
                let tenant = TenantId::from_slice(&whose.0).map_err(bad)?;
                let account = AccountId::from_slice(&whose.1).map_err(bad)?;
                let profile = RecordId::from_slice(&whose.2)
                    .map_err(|_| corrupt("an account's profile is not an id"))?;
                let device = DeviceId::from_slice(&whose.3).map_err(bad)?;
                append(
                    tx,
                    tenant,
                    audit::accounts::signed_out(account, profile, device, at),
                )?;
            }
            let browser = tx
                .execute(
                    "UPDATE browser_session SET revoked_at = ?2
                     WHERE hash = ?1 AND revoked_at IS NULL",
                    params![&hash.0[..], at.millis()],
                )
                .map_err(backend)?;
            if browser > 0 {
                let whose: (Vec<u8>, Vec<u8>) = tx
                    .query_row(
                        "SELECT tenant_id, account_id FROM browser_session WHERE hash = ?1",
                        [&hash.0[..]],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(backend)?;
                let bad = |_| corrupt("a browser session's account is not an id");
                let tenant = TenantId::from_slice(&whose.0).map_err(bad)?;
                let account = AccountId::from_slice(&whose.1).map_err(bad)?;
                let profile = browser_profile(tx, tenant, account)?;
                append(
                    tx,
                    tenant,
                    audit::accounts::browser_signed_out(account, profile, at),
                )?;
            }
            changed += browser;
            Ok(changed > 0)
        })
        .await
    }

    async fn audit_event(&self, tenant: TenantId, entry: AuditDraft) -> Result<(), StoreError> {
        self.write(move |tx| append(tx, tenant, entry)).await
    }

    async fn actor(
        &self,
        tenant: TenantId,
        actor: ActorId,
    ) -> Result<Option<ActorRecord>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT x.actor, x.device_id, d.account_id, x.registered_at
                 FROM device_actor x JOIN device d ON d.id = x.device_id
                 WHERE x.actor = ?1 AND d.tenant_id = ?2",
            )
            .and_then(|mut st| {
                st.query_row(
                    params![&actor.as_bytes()[..], tenant.as_bytes()],
                    decode_actor,
                )
                .optional()
            })
            .map_err(backend)?
            .map(actor_from)
            .transpose()
        })
        .await
    }

    async fn device_actors(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<Vec<ActorRecord>, StoreError> {
        self.read(move |conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT x.actor, x.device_id, d.account_id, x.registered_at
                     FROM device_actor x JOIN device d ON d.id = x.device_id
                     WHERE x.device_id = ?1 AND d.tenant_id = ?2
                     ORDER BY x.registered_at, x.actor",
                )
                .and_then(|mut st| {
                    st.query_map(params![device.as_bytes(), tenant.as_bytes()], decode_actor)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)?;
            rows.into_iter().map(actor_from).collect()
        })
        .await
    }
}

/// Appends one entry to the tenant's accounts chain, in the caller's transaction.
fn append(tx: &Transaction<'_>, tenant: TenantId, entry: AuditDraft) -> Result<(), StoreError> {
    audit::sqlite::append(tx, tenant, Stream::Accounts, [entry]).map_err(backend)
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn audit_entries(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let query = query.clone();
        self.read(move |conn| {
            audit::sqlite::query(conn, tenant, Stream::Accounts, &query).map_err(backend)
        })
        .await
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.read(|conn| {
            let heads = audit::sqlite::heads(conn).map_err(backend)?;
            Ok(audit::sqlite::decode_heads(heads)
                .into_iter()
                .filter(|h| h.stream == Stream::Accounts)
                .collect())
        })
        .await
    }

    async fn audit_chain(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainRow>, StoreError> {
        self.read(move |conn| {
            audit::sqlite::chain_rows(conn, tenant, Stream::Accounts, after, limit).map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_a_newer_server_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = SqliteStore::open_blocking(&path, &SqliteOptions::default()).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, supported }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
            "{err:?}"
        );
        let conn = Connection::open(&path).unwrap();
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0, "nothing may be created in a newer database");
    }

    #[test]
    fn reopening_a_current_database_runs_no_migration_and_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        let store = SqliteStore::open_blocking(&path, &SqliteOptions::default()).unwrap();
        store
            .inner
            .writer
            .lock()
            .unwrap()
            .execute(
                "INSERT INTO tenant (id, slug, name, created_at) VALUES (x'01', 'acme', 'Acme', 0)",
                [],
            )
            .unwrap();
        drop(store);
        let store = SqliteStore::open_blocking(&path, &SqliteOptions::default()).unwrap();
        let conn = store.inner.writer.lock().unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let journal: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
        let tenants: i64 = conn
            .query_row("SELECT count(*) FROM tenant", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tenants, 1);
    }
}
