//! The accounts in PostgreSQL, for several server instances over one database.
//!
//! The same tables as the SQLite store, with `tenant_id` leading every key of a per-tenant
//! table. A bearer token is looked up by its hash alone (the tenant is not known before the
//! token is), so `device_token` is keyed by the hash and carries the tenant beside it. Every
//! instance reads tokens from here on every request: revoking a device on one instance is
//! refused by all at once.

use async_trait::async_trait;
use deadpool_postgres::Pool;
use fieldsales_core::{RecordId, Timestamp};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

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
use crate::postgres::migrate::PgMigrations;
use crate::postgres::{self, PgOptions, backend, client, unique_violation, uuid};

/// The accounts schema in PostgreSQL. Never edit a shipped step: append a new one.
pub const MIGRATIONS: PgMigrations = PgMigrations {
    schema: "accounts",
    steps: &[
        // 1: tenants, accounts, devices, their tokens and actors.
        "CREATE TABLE tenant (
            id         uuid PRIMARY KEY,
            slug       text NOT NULL UNIQUE,
            name       text NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE TABLE account (
            tenant_id     uuid NOT NULL REFERENCES tenant (id),
            id            uuid NOT NULL,
            login         text NOT NULL,
            password_hash text NOT NULL,
            profile_id    uuid NOT NULL,
            is_admin      boolean NOT NULL,
            created_at    bigint NOT NULL,
            revoked_at    bigint,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT account_login UNIQUE (tenant_id, login),
            CONSTRAINT account_profile UNIQUE (tenant_id, profile_id)
        );
        CREATE TABLE device (
            tenant_id     uuid NOT NULL,
            id            uuid NOT NULL,
            account_id    uuid NOT NULL,
            name          text NOT NULL,
            registered_at bigint NOT NULL,
            last_login_at bigint NOT NULL,
            revoked_at    bigint,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id)
        );
        CREATE INDEX device_by_account ON device (tenant_id, account_id, registered_at);
        CREATE TABLE device_token (
            hash       bytea PRIMARY KEY,
            tenant_id  uuid NOT NULL,
            device_id  uuid NOT NULL,
            issued_at  bigint NOT NULL,
            expires_at bigint NOT NULL,
            revoked_at bigint,
            FOREIGN KEY (tenant_id, device_id) REFERENCES device (tenant_id, id)
        );
        CREATE INDEX device_token_by_device ON device_token (tenant_id, device_id);
        CREATE TABLE device_actor (
            tenant_id     uuid NOT NULL,
            actor         bytea NOT NULL,
            device_id     uuid NOT NULL,
            registered_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, actor),
            FOREIGN KEY (tenant_id, device_id) REFERENCES device (tenant_id, id)
        );
        CREATE INDEX device_actor_by_device ON device_actor (tenant_id, device_id, registered_at);",
        // 2: browser sessions: tokens of an account on no device.
        "CREATE TABLE browser_session (
            hash       bytea PRIMARY KEY,
            tenant_id  uuid NOT NULL,
            account_id uuid NOT NULL,
            issued_at  bigint NOT NULL,
            expires_at bigint NOT NULL,
            revoked_at bigint,
            FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id)
        );
        CREATE INDEX browser_session_by_account ON browser_session (tenant_id, account_id, issued_at);",
        // 3: wrong passwords in a row per login, shared by every instance (the sign-in
        // throttle). Keyed by the tenant and login as typed, so unknown ones count too.
        "CREATE TABLE sign_in_failure (
            tenant_key text NOT NULL,
            login_key  text NOT NULL,
            failures   integer NOT NULL,
            last_at    bigint NOT NULL,
            until_at   bigint NOT NULL,
            PRIMARY KEY (tenant_key, login_key)
        );
        CREATE INDEX sign_in_failure_by_age ON sign_in_failure (last_at);",
    ],
};

/// Rows of logins whose wait is over and whose last failure is older than the longest wait
/// go, a batch at a time, as new failures arrive: a flood of invented logins does not grow
/// the table without end.
const SIGN_IN_PRUNE_BATCH: i64 = 100;

/// The PostgreSQL accounts store. Cheap to clone.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        detail: detail.into(),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

const ACCOUNT_COLUMNS: &str = "a.id AS a_id, a.tenant_id AS a_tenant_id, a.login AS a_login, \
     a.profile_id AS a_profile_id, a.is_admin AS a_is_admin, a.created_at AS a_created_at, \
     a.revoked_at AS a_revoked_at";

const DEVICE_COLUMNS: &str = "d.id AS d_id, d.tenant_id AS d_tenant_id, \
     d.account_id AS d_account_id, d.name AS d_name, d.registered_at AS d_registered_at, \
     d.last_login_at AS d_last_login_at, d.revoked_at AS d_revoked_at";

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column)
        .map_err(|e| corrupt(format!("column {column}: {e}")))
}

fn account_of(row: &Row) -> Result<Account, StoreError> {
    let id = AccountId::from_uuid(get(row, "a_id")?);
    let login: String = get(row, "a_login")?;
    let profile: uuid::Uuid = get(row, "a_profile_id")?;
    Ok(Account {
        id,
        tenant_id: TenantId::from_uuid(get(row, "a_tenant_id")?),
        login: Login::parse(&login).map_err(|e| corrupt(format!("account {id} login: {e}")))?,
        profile_id: RecordId::from_uuid(profile),
        is_admin: get(row, "a_is_admin")?,
        created_at: ts(get(row, "a_created_at")?),
        revoked_at: get::<Option<i64>>(row, "a_revoked_at")?.map(ts),
    })
}

fn device_of(row: &Row) -> Result<Device, StoreError> {
    let id = DeviceId::from_uuid(get(row, "d_id")?);
    let name: String = get(row, "d_name")?;
    Ok(Device {
        id,
        tenant_id: TenantId::from_uuid(get(row, "d_tenant_id")?),
        account_id: AccountId::from_uuid(get(row, "d_account_id")?),
        name: DisplayName::parse(&name).map_err(|e| corrupt(format!("device {id} name: {e}")))?,
        registered_at: ts(get(row, "d_registered_at")?),
        last_login_at: ts(get(row, "d_last_login_at")?),
        revoked_at: get::<Option<i64>>(row, "d_revoked_at")?.map(ts),
    })
}

fn tenant_of(row: &Row) -> Result<Tenant, StoreError> {
    let id = TenantId::from_uuid(get(row, "id")?);
    let slug: String = get(row, "slug")?;
    let name: String = get(row, "name")?;
    Ok(Tenant {
        id,
        slug: TenantSlug::parse(&slug).map_err(|e| corrupt(format!("tenant {id} slug: {e}")))?,
        name: DisplayName::parse(&name).map_err(|e| corrupt(format!("tenant {id} name: {e}")))?,
        created_at: ts(get(row, "created_at")?),
    })
}

fn actor_of(row: &Row) -> Result<ActorRecord, StoreError> {
    let actor: Vec<u8> = get(row, "actor")?;
    Ok(ActorRecord {
        actor: ActorId::from_slice(&actor).map_err(|e| corrupt(format!("actor: {e}")))?,
        device_id: DeviceId::from_uuid(get(row, "device_id")?),
        account_id: AccountId::from_uuid(get(row, "account_id")?),
        registered_at: ts(get(row, "registered_at")?),
    })
}

impl PostgresStore {
    /// Connects to the database `options` names and brings the accounts schema up to date
    /// (several instances starting at once migrate it once); refuses a newer database.
    pub async fn open(options: &PgOptions) -> Result<Self, StoreError> {
        let pool = postgres::pool(options)?;
        let mut conn = client(&pool).await?;
        MIGRATIONS.apply(&mut conn).await?;
        audit::postgres::MIGRATIONS.apply(&mut conn).await?;
        Ok(PostgresStore { pool })
    }

    /// The pool, shared with the records store of the same database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn one<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        decode: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let conn = client(&self.pool).await?;
        let stmt = conn.prepare_cached(sql).await.map_err(backend)?;
        conn.query_opt(&stmt, params)
            .await
            .map_err(backend)?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn all<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        decode: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let conn = client(&self.pool).await?;
        let stmt = conn.prepare_cached(sql).await.map_err(backend)?;
        conn.query(&stmt, params)
            .await
            .map_err(backend)?
            .iter()
            .map(decode)
            .collect()
    }
}

async fn device_in(
    tx: &impl tokio_postgres::GenericClient,
    tenant: TenantId,
    device: DeviceId,
) -> Result<Option<Device>, StoreError> {
    tx.query_opt(
        &format!("SELECT {DEVICE_COLUMNS} FROM device d WHERE d.tenant_id = $1 AND d.id = $2"),
        &[&uuid(tenant.as_bytes()), &uuid(device.as_bytes())],
    )
    .await
    .map_err(backend)?
    .as_ref()
    .map(device_of)
    .transpose()
}

async fn account_in(
    tx: &impl tokio_postgres::GenericClient,
    tenant: TenantId,
    account: AccountId,
) -> Result<Option<Account>, StoreError> {
    tx.query_opt(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.tenant_id = $1 AND a.id = $2"),
        &[&uuid(tenant.as_bytes()), &uuid(account.as_bytes())],
    )
    .await
    .map_err(backend)?
    .as_ref()
    .map(account_of)
    .transpose()
}

#[async_trait]
impl Store for PostgresStore {
    async fn sign_in_failed(
        &self,
        key: &(String, String),
        now: Timestamp,
        after: u32,
        max: std::time::Duration,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        let max_ms = i64::try_from(max.as_millis()).unwrap_or(i64::MAX);
        let conn = client(&self.pool).await?;
        conn.execute(
            "DELETE FROM sign_in_failure WHERE (tenant_key, login_key) IN (
                 SELECT tenant_key, login_key FROM sign_in_failure
                 WHERE last_at < $1 AND until_at < $2 LIMIT $3)",
            &[
                &now.millis().saturating_sub(max_ms),
                &now.millis(),
                &SIGN_IN_PRUNE_BATCH,
            ],
        )
        .await
        .map_err(backend)?;
        let row = conn
            .query_one(
                "INSERT INTO sign_in_failure (tenant_key, login_key, failures, last_at, until_at)
                 VALUES ($1, $2, 1, $3, $3)
                 ON CONFLICT (tenant_key, login_key) DO UPDATE
                 SET failures = LEAST(sign_in_failure.failures, 1000000) + 1, last_at = $3
                 RETURNING failures",
                &[&key.0, &key.1, &now.millis()],
            )
            .await
            .map_err(backend)?;
        let failures: i32 = row.get(0);
        let wait = crate::auth::throttle::backoff(u32::try_from(failures).unwrap_or(0), after, max);
        if let Some(wait) = wait {
            let until = now
                .millis()
                .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(0));
            conn.execute(
                "UPDATE sign_in_failure SET until_at = GREATEST(until_at, $3)
                 WHERE tenant_key = $1 AND login_key = $2",
                &[&key.0, &key.1, &until],
            )
            .await
            .map_err(backend)?;
        }
        Ok(wait)
    }

    async fn sign_in_wait(
        &self,
        key: &(String, String),
        now: Timestamp,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        let conn = client(&self.pool).await?;
        let until: Option<i64> = conn
            .query_opt(
                "SELECT until_at FROM sign_in_failure WHERE tenant_key = $1 AND login_key = $2",
                &[&key.0, &key.1],
            )
            .await
            .map_err(backend)?
            .map(|row| row.get(0));
        Ok(until
            .filter(|until| *until > now.millis())
            .map(|until| std::time::Duration::from_millis((until - now.millis()) as u64)))
    }

    async fn sign_in_succeeded(&self, key: &(String, String)) -> Result<(), StoreError> {
        client(&self.pool)
            .await?
            .execute(
                "DELETE FROM sign_in_failure WHERE tenant_key = $1 AND login_key = $2",
                &[&key.0, &key.1],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn health(&self) -> Result<(), StoreError> {
        let conn = client(&self.pool).await?;
        conn.query_one("SELECT count(*) FROM tenant", &[])
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn create_tenant(&self, new: NewTenant) -> Result<Tenant, StoreError> {
        let conn = client(&self.pool).await?;
        let inserted = conn
            .execute(
                "INSERT INTO tenant (id, slug, name, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (slug) DO NOTHING",
                &[
                    &uuid(new.id.as_bytes()),
                    &new.slug.as_str(),
                    &new.name.as_str(),
                    &new.created_at.millis(),
                ],
            )
            .await
            .map_err(backend)?;
        if inserted == 0 {
            return Err(StoreError::TenantExists { slug: new.slug });
        }
        Ok(Tenant {
            id: new.id,
            slug: new.slug,
            name: new.name,
            created_at: new.created_at,
        })
    }

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        self.one(
            "SELECT id, slug, name, created_at FROM tenant WHERE slug = $1",
            &[&slug.as_str()],
            tenant_of,
        )
        .await
    }

    async fn create_account(&self, new: NewAccount, by: &Actor) -> Result<Account, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let inserted = tx
            .execute(
                "INSERT INTO account
                    (tenant_id, id, login, password_hash, profile_id, is_admin, created_at)
                 SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM tenant WHERE id = $1)",
                &[
                    &uuid(new.tenant_id.as_bytes()),
                    &uuid(new.id.as_bytes()),
                    &new.login.as_str(),
                    &new.password_hash.0,
                    &new.profile_id.as_uuid(),
                    &new.is_admin,
                    &new.created_at.millis(),
                ],
            )
            .await;
        match inserted {
            Ok(0) => Err(StoreError::TenantNotFound {
                tenant_id: new.tenant_id,
            }),
            Ok(_) => {
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
                    &tx,
                    account.tenant_id,
                    audit::accounts::account_created(&account, by),
                )
                .await?;
                tx.commit().await.map_err(backend)?;
                Ok(account)
            }
            Err(e) => match unique_violation(&e) {
                Some("account_login") => Err(StoreError::LoginTaken { login: new.login }),
                Some("account_profile") => Err(StoreError::ProfileTaken {
                    profile_id: new.profile_id,
                }),
                _ => Err(backend(e)),
            },
        }
    }

    async fn account(
        &self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let conn = client(&self.pool).await?;
        account_in(&**conn, tenant, account).await
    }

    async fn credentials(
        &self,
        tenant: TenantId,
        login: &Login,
    ) -> Result<Option<Credentials>, StoreError> {
        self.one(
            &format!(
                "SELECT {ACCOUNT_COLUMNS}, a.password_hash AS a_password_hash
                 FROM account a WHERE a.tenant_id = $1 AND a.login = $2"
            ),
            &[&uuid(tenant.as_bytes()), &login.as_str()],
            |row| {
                Ok(Credentials {
                    account: account_of(row)?,
                    password_hash: PasswordHash(get(row, "a_password_hash")?),
                })
            },
        )
        .await
    }

    async fn accounts(&self, tenant: TenantId) -> Result<Vec<Account>, StoreError> {
        self.all(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.tenant_id = $1 ORDER BY a.login COLLATE \"C\""
            ),
            &[&uuid(tenant.as_bytes())],
            account_of,
        )
        .await
    }

    async fn set_password_hash(
        &self,
        tenant: TenantId,
        account: AccountId,
        hash: PasswordHash,
        change: PasswordChange,
    ) -> Result<u64, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let (t, a) = (uuid(tenant.as_bytes()), uuid(account.as_bytes()));
        let changed = tx
            .execute(
                "UPDATE account SET password_hash = $3 WHERE tenant_id = $1 AND id = $2",
                &[&t, &a, &hash.0],
            )
            .await
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
                    "UPDATE device_token SET revoked_at = $3
                     WHERE tenant_id = $1 AND revoked_at IS NULL AND device_id IN (
                         SELECT id FROM device WHERE tenant_id = $1 AND account_id = $2)",
                    &[&t, &a, &at.millis()],
                )
                .await
                .map_err(backend)?,
        };
        append(
            &tx,
            tenant,
            audit::accounts::password_changed(account, change, signed_out),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(signed_out)
    }

    async fn revoke_account(
        &self,
        tenant: TenantId,
        account: AccountId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<Account, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let before = account_in(&*tx, tenant, account)
            .await?
            .and_then(|a| a.revoked_at);
        let (t, a, at) = (
            uuid(tenant.as_bytes()),
            uuid(account.as_bytes()),
            at.millis(),
        );
        let changed = tx
            .execute(
                "UPDATE account SET revoked_at = coalesce(revoked_at, $3)
                 WHERE tenant_id = $1 AND id = $2",
                &[&t, &a, &at],
            )
            .await
            .map_err(backend)?;
        if changed == 0 {
            return Err(StoreError::AccountNotFound {
                account_id: account,
            });
        }
        tx.execute(
            "UPDATE device SET revoked_at = $3
             WHERE tenant_id = $1 AND account_id = $2 AND revoked_at IS NULL",
            &[&t, &a, &at],
        )
        .await
        .map_err(backend)?;
        let found =
            account_in(&*tx, tenant, account)
                .await?
                .ok_or(StoreError::AccountNotFound {
                    account_id: account,
                })?;
        append(
            &tx,
            tenant,
            audit::accounts::account_revoked(&found, before, Timestamp::from_millis(at), by),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(found)
    }

    async fn start_session(&self, s: NewSession) -> Result<Device, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let tenant = uuid(s.tenant_id.as_bytes());
        let account = uuid(s.account_id.as_bytes());
        let issued = s.issued_at.millis();
        let device_id = match s.device {
            SessionDevice::Existing(id) => {
                let changed = tx
                    .execute(
                        "UPDATE device SET name = $4, last_login_at = $5
                         WHERE tenant_id = $1 AND id = $2 AND account_id = $3
                           AND revoked_at IS NULL",
                        &[
                            &tenant,
                            &uuid(id.as_bytes()),
                            &account,
                            &s.device_name.as_str(),
                            &issued,
                        ],
                    )
                    .await
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(StoreError::DeviceUnavailable { device_id: id });
                }
                tx.execute(
                    "UPDATE device_token SET revoked_at = $3
                     WHERE tenant_id = $1 AND device_id = $2 AND revoked_at IS NULL",
                    &[&tenant, &uuid(id.as_bytes()), &issued],
                )
                .await
                .map_err(backend)?;
                id
            }
            SessionDevice::New(id) => {
                tx.execute(
                    "INSERT INTO device
                        (tenant_id, id, account_id, name, registered_at, last_login_at)
                     VALUES ($1, $2, $3, $4, $5, $5)",
                    &[
                        &tenant,
                        &uuid(id.as_bytes()),
                        &account,
                        &s.device_name.as_str(),
                        &issued,
                    ],
                )
                .await
                .map_err(backend)?;
                id
            }
        };
        let device = uuid(device_id.as_bytes());
        tx.execute(
            "INSERT INTO device_token (hash, tenant_id, device_id, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &&s.token_hash.0[..],
                &tenant,
                &device,
                &issued,
                &s.expires_at.millis(),
            ],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "INSERT INTO device_actor (tenant_id, actor, device_id, registered_at)
             VALUES ($1, $2, $3, $4)",
            &[&tenant, &&s.actor.as_bytes()[..], &device, &issued],
        )
        .await
        .map_err(backend)?;
        let found = device_in(&*tx, s.tenant_id, device_id)
            .await?
            .ok_or(StoreError::DeviceNotFound { device_id })?;
        let profile = account_in(&*tx, s.tenant_id, s.account_id)
            .await?
            .ok_or(StoreError::AccountNotFound {
                account_id: s.account_id,
            })?
            .profile_id;
        append(
            &tx,
            s.tenant_id,
            audit::accounts::signed_in(
                s.account_id,
                profile,
                &found,
                matches!(s.device, SessionDevice::New(_)),
                s.issued_at,
            ),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(found)
    }

    async fn device(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<Option<Device>, StoreError> {
        let conn = client(&self.pool).await?;
        device_in(&**conn, tenant, device).await
    }

    async fn devices(
        &self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Vec<Device>, StoreError> {
        self.all(
            &format!(
                "SELECT {DEVICE_COLUMNS} FROM device d
                 WHERE d.tenant_id = $1 AND d.account_id = $2
                 ORDER BY d.registered_at, d.id"
            ),
            &[&uuid(tenant.as_bytes()), &uuid(account.as_bytes())],
            device_of,
        )
        .await
    }

    async fn revoke_device(
        &self,
        tenant: TenantId,
        device: DeviceId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<Device, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let before = device_in(&*tx, tenant, device)
            .await?
            .and_then(|d| d.revoked_at);
        let changed = tx
            .execute(
                "UPDATE device SET revoked_at = coalesce(revoked_at, $3)
                 WHERE tenant_id = $1 AND id = $2",
                &[
                    &uuid(tenant.as_bytes()),
                    &uuid(device.as_bytes()),
                    &at.millis(),
                ],
            )
            .await
            .map_err(backend)?;
        if changed == 0 {
            return Err(StoreError::DeviceNotFound { device_id: device });
        }
        let found = device_in(&*tx, tenant, device)
            .await?
            .ok_or(StoreError::DeviceNotFound { device_id: device })?;
        append(
            &tx,
            tenant,
            audit::accounts::device_revoked(&found, before, at, by),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(found)
    }

    async fn token(&self, hash: TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let device = self
            .one(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, {DEVICE_COLUMNS},
                        t.issued_at AS t_issued_at, t.expires_at AS t_expires_at,
                        t.revoked_at AS t_revoked_at
                 FROM device_token t
                 JOIN device d ON d.tenant_id = t.tenant_id AND d.id = t.device_id
                 JOIN account a ON a.tenant_id = d.tenant_id AND a.id = d.account_id
                 WHERE t.hash = $1"
                ),
                &[&&hash.0[..]],
                |row| {
                    Ok(TokenRecord {
                        token_hash: hash,
                        account: account_of(row)?,
                        device: Some(device_of(row)?),
                        issued_at: ts(get(row, "t_issued_at")?),
                        expires_at: ts(get(row, "t_expires_at")?),
                        revoked_at: get::<Option<i64>>(row, "t_revoked_at")?.map(ts),
                    })
                },
            )
            .await?;
        if device.is_some() {
            return Ok(device);
        }
        self.one(
            &format!(
                "SELECT {ACCOUNT_COLUMNS},
                        b.issued_at AS t_issued_at, b.expires_at AS t_expires_at,
                        b.revoked_at AS t_revoked_at
                 FROM browser_session b
                 JOIN account a ON a.tenant_id = b.tenant_id AND a.id = b.account_id
                 WHERE b.hash = $1"
            ),
            &[&&hash.0[..]],
            |row| {
                Ok(TokenRecord {
                    token_hash: hash,
                    account: account_of(row)?,
                    device: None,
                    issued_at: ts(get(row, "t_issued_at")?),
                    expires_at: ts(get(row, "t_expires_at")?),
                    revoked_at: get::<Option<i64>>(row, "t_revoked_at")?.map(ts),
                })
            },
        )
        .await
    }

    async fn start_browser_session(&self, s: NewBrowserSession) -> Result<(), StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let profile = tx
            .query_opt(
                "INSERT INTO browser_session (hash, tenant_id, account_id, issued_at, expires_at)
                 SELECT $1, tenant_id, id, $4, $5 FROM account
                 WHERE tenant_id = $2 AND id = $3
                 RETURNING (SELECT profile_id FROM account WHERE tenant_id = $2 AND id = $3)",
                &[
                    &&s.token_hash.0[..],
                    &uuid(s.tenant_id.as_bytes()),
                    &uuid(s.account_id.as_bytes()),
                    &s.issued_at.millis(),
                    &s.expires_at.millis(),
                ],
            )
            .await
            .map_err(backend)?;
        let Some(profile) = profile else {
            return Err(StoreError::AccountNotFound {
                account_id: s.account_id,
            });
        };
        let profile = RecordId::from_uuid(profile.try_get(0).map_err(backend)?);
        append(
            &tx,
            s.tenant_id,
            audit::accounts::browser_signed_in(s.account_id, profile, s.issued_at),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn revoke_browser_sessions(
        &self,
        tenant: TenantId,
        account: AccountId,
        at: Timestamp,
        by: Actor,
    ) -> Result<u64, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let revoked = tx
            .execute(
                "UPDATE browser_session SET revoked_at = $3
                 WHERE tenant_id = $1 AND account_id = $2 AND revoked_at IS NULL",
                &[
                    &uuid(tenant.as_bytes()),
                    &uuid(account.as_bytes()),
                    &at.millis(),
                ],
            )
            .await
            .map_err(backend)?;
        if revoked > 0 {
            append(
                &tx,
                tenant,
                audit::accounts::browser_sessions_revoked(account, revoked, at, &by),
            )
            .await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(revoked)
    }

    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<bool, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let whose = tx
            .query_opt(
                "UPDATE device_token t SET revoked_at = $2
                 FROM device d JOIN account a ON a.tenant_id = d.tenant_id AND a.id = d.account_id
                 WHERE t.hash = $1 AND t.revoked_at IS NULL
                   AND d.tenant_id = t.tenant_id AND d.id = t.device_id
                 RETURNING a.tenant_id, a.id, a.profile_id, d.id",
                &[&&hash.0[..], &at.millis()],
            )
            .await
            .map_err(backend)?;
        let Some(whose) = whose else {
            // Not a device's token: a browser's, or none.
            let whose = tx
                .query_opt(
                    "UPDATE browser_session b SET revoked_at = $2
                     FROM account a
                     WHERE b.hash = $1 AND b.revoked_at IS NULL
                       AND a.tenant_id = b.tenant_id AND a.id = b.account_id
                     RETURNING a.tenant_id, a.id, a.profile_id",
                    &[&&hash.0[..], &at.millis()],
                )
                .await
                .map_err(backend)?;
            let Some(whose) = whose else {
                tx.commit().await.map_err(backend)?;
                return Ok(false);
            };
            let tenant = TenantId::from_uuid(whose.try_get(0).map_err(backend)?);
            let account = AccountId::from_uuid(whose.try_get(1).map_err(backend)?);
            let profile = RecordId::from_uuid(whose.try_get(2).map_err(backend)?);
            append(
                &tx,
                tenant,
                audit::accounts::browser_signed_out(account, profile, at),
            )
            .await?;
            tx.commit().await.map_err(backend)?;
            return Ok(true);
        };
        let tenant = TenantId::from_uuid(whose.try_get(0).map_err(backend)?);
        let account = AccountId::from_uuid(whose.try_get(1).map_err(backend)?);
        let profile = RecordId::from_uuid(whose.try_get(2).map_err(backend)?);
        let device = DeviceId::from_uuid(whose.try_get(3).map_err(backend)?);
        append(
            &tx,
            tenant,
            audit::accounts::signed_out(account, profile, device, at),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn audit_event(&self, tenant: TenantId, entry: AuditDraft) -> Result<(), StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await.map_err(backend)?;
        append(&tx, tenant, entry).await?;
        tx.commit().await.map_err(backend)
    }

    async fn actor(
        &self,
        tenant: TenantId,
        actor: ActorId,
    ) -> Result<Option<ActorRecord>, StoreError> {
        self.one(
            "SELECT x.actor, x.device_id, d.account_id, x.registered_at
             FROM device_actor x JOIN device d ON d.tenant_id = x.tenant_id AND d.id = x.device_id
             WHERE x.tenant_id = $1 AND x.actor = $2",
            &[&uuid(tenant.as_bytes()), &&actor.as_bytes()[..]],
            actor_of,
        )
        .await
    }

    async fn device_actors(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<Vec<ActorRecord>, StoreError> {
        self.all(
            "SELECT x.actor, x.device_id, d.account_id, x.registered_at
             FROM device_actor x JOIN device d ON d.tenant_id = x.tenant_id AND d.id = x.device_id
             WHERE x.tenant_id = $1 AND x.device_id = $2
             ORDER BY x.registered_at, x.actor",
            &[&uuid(tenant.as_bytes()), &uuid(device.as_bytes())],
            actor_of,
        )
        .await
    }
}

/// Appends one entry to the tenant's accounts chain, in the caller's transaction.
async fn append(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    entry: AuditDraft,
) -> Result<(), StoreError> {
    audit::postgres::append(tx, tenant, Stream::Accounts, vec![entry])
        .await
        .map_err(backend)
}

#[async_trait]
impl AuditLog for PostgresStore {
    async fn audit_entries(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = client(&self.pool).await?;
        audit::postgres::query(&conn, tenant, Stream::Accounts, query)
            .await
            .map_err(backend)
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let conn = client(&self.pool).await?;
        audit::postgres::heads(&conn, Stream::Accounts)
            .await
            .map_err(backend)
    }

    async fn audit_chain(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainRow>, StoreError> {
        let conn = client(&self.pool).await?;
        audit::postgres::chain_rows(&conn, tenant, Stream::Accounts, after, limit)
            .await
            .map_err(backend)
    }
}
