//! Server storage behind one trait, so SQLite (one file, zero setup) and PostgreSQL (several
//! stateless server instances over one database) are interchangeable and pass one test suite.
//!
//! # Why the trait is async
//!
//! PostgreSQL drivers are asynchronous; a blocking trait would force them onto blocking
//! threads. SQLite is blocking, so [`SqliteStore`] runs every call on tokio's blocking pool
//! (`spawn_blocking`): no tokio worker ever waits on disk or on SQLite's write lock, and a
//! slow query delays only the request that made it. The trait is object-safe (through
//! `async_trait`) so the server holds one `Arc<dyn Store>` and handlers stay non-generic.
//!
//! # What the store decides and what it does not
//!
//! The store keeps facts and enforces what must hold atomically: uniqueness of logins and
//! profiles within a tenant, tenant isolation (every lookup is scoped by tenant, so an id
//! from another tenant is simply not found), and a sign-in written whole or not at all. It
//! never reads the clock (callers pass instants) and never judges a token: whether a token
//! is expired or revoked is decided in `auth`, the same way for every backend.

mod postgres;
mod sqlite;

use std::fmt;

use async_trait::async_trait;
use fieldsales_core::{RecordId, Timestamp};

pub use postgres::{MIGRATIONS as POSTGRES_MIGRATIONS, PostgresStore};
pub use sqlite::{SCHEMA_VERSION, SqliteOptions, SqliteStore};

use crate::audit::{Actor, AuditDraft, AuditLog};
use crate::model::{
    Account, AccountId, ActorId, Device, DeviceId, DisplayName, Login, Tenant, TenantId, TenantSlug,
};

/// A storage failure, typed so the API can answer it precisely.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A tenant with this slug exists already.
    #[error("tenant `{slug}` exists already")]
    TenantExists {
        /// The slug asked for.
        slug: TenantSlug,
    },
    /// No tenant with this id.
    #[error("no tenant {tenant_id}")]
    TenantNotFound {
        /// The id asked for.
        tenant_id: TenantId,
    },
    /// The login is taken in this tenant.
    #[error("login `{login}` is taken")]
    LoginTaken {
        /// The login asked for.
        login: Login,
    },
    /// Another account of this tenant is linked to this profile already.
    #[error("profile {profile_id} has an account already")]
    ProfileTaken {
        /// The profile record asked for.
        profile_id: RecordId,
    },
    /// No such account in this tenant.
    #[error("no account {account_id} in this tenant")]
    AccountNotFound {
        /// The id asked for.
        account_id: AccountId,
    },
    /// No such device in this tenant.
    #[error("no device {device_id} in this tenant")]
    DeviceNotFound {
        /// The id asked for.
        device_id: DeviceId,
    },
    /// A sign-in named a device that is revoked or belongs to another account.
    #[error("device {device_id} cannot take a new session")]
    DeviceUnavailable {
        /// The device named.
        device_id: DeviceId,
    },
    /// The database was written by a newer server; this one refuses to touch it.
    #[error(
        "the database has schema version {found} but this server knows only up to {supported}: \
         run a newer server"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this code knows.
        supported: i64,
    },
    /// A stored row could not be read back (damaged or hand-edited database).
    #[error("stored data is damaged: {detail}")]
    Corrupt {
        /// What could not be decoded (ids and column names, never secrets).
        detail: String,
    },
    /// The backend failed (I/O, lock, connection).
    #[error("storage backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A new tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Its identifier.
    pub id: TenantId,
    /// The name it signs in with.
    pub slug: TenantSlug,
    /// Its display name.
    pub name: DisplayName,
    /// Now.
    pub created_at: Timestamp,
}

/// A stored argon2 password hash (PHC string). Never the password itself.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Its identifier.
    pub id: AccountId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// What the person signs in with.
    pub login: Login,
    /// The argon2 hash of the password.
    pub password_hash: PasswordHash,
    /// The person's profile record.
    pub profile_id: RecordId,
    /// May use the admin API.
    pub is_admin: bool,
    /// Now.
    pub created_at: Timestamp,
}

/// An account with its password hash, for checking a sign-in.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub account: Account,
    /// Its password hash.
    pub password_hash: PasswordHash,
}

/// The SHA-256 of a bearer token: what the store keeps instead of the token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only a prefix: enough to correlate, useless to an attacker.
        write!(f, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// Which device a sign-in goes to.
#[derive(Debug, Clone)]
pub enum SessionDevice {
    /// A device the account signed in on before (it must be the account's and not revoked).
    Existing(DeviceId),
    /// A new device.
    New(DeviceId),
}

/// A sign-in to write: device, token and actor together, or nothing.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The account signing in.
    pub account_id: AccountId,
    /// The device it signs in on.
    pub device: SessionDevice,
    /// The device's name as the app reports it now.
    pub device_name: DisplayName,
    /// The hash of the token handed out.
    pub token_hash: TokenHash,
    /// The fresh actor registered to the device.
    pub actor: ActorId,
    /// Now.
    pub issued_at: Timestamp,
    /// When the token stops being accepted.
    pub expires_at: Timestamp,
}

/// A browser's sign-in to write: a token of the account, on no device. A browser session
/// has no actor (it cannot sync) and is never listed or counted among the account's devices.
#[derive(Debug, Clone)]
pub struct NewBrowserSession {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The account signing in.
    pub account_id: AccountId,
    /// The hash of the token handed out.
    pub token_hash: TokenHash,
    /// Now.
    pub issued_at: Timestamp,
    /// When the token stops being accepted.
    pub expires_at: Timestamp,
}

/// Everything needed to judge a bearer token, in one lookup.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// The hash looked up.
    pub token_hash: TokenHash,
    /// The account the token was issued to.
    pub account: Account,
    /// The device the token was issued to; `None` for a browser session.
    pub device: Option<Device>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
    /// When it was revoked (sign-out, or a newer sign-in on the same device).
    pub revoked_at: Option<Timestamp>,
}

/// An actor and the device it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorRecord {
    /// The actor.
    pub actor: ActorId,
    /// The device it was registered to.
    pub device_id: DeviceId,
    /// The account signed in on that device.
    pub account_id: AccountId,
    /// When it was registered.
    pub registered_at: Timestamp,
}

/// A password replaced: by its owner, or reset by an admin (which signs every device of the
/// account out: their tokens are revoked, the devices stay theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// The account's owner changed it.
    Own {
        /// Who (the owner, on their device).
        by: Actor,
        /// Now.
        at: Timestamp,
    },
    /// An admin reset it.
    Reset {
        /// Who (the admin).
        by: Actor,
        /// Now.
        at: Timestamp,
    },
}

/// Server storage. See the module documentation for why it is async and what it decides.
///
/// Every write of an account, a device or a session appends its audit entry to the tenant's
/// accounts chain in the same transaction ([`crate::audit`]); [`AuditLog`] reads them.
#[async_trait]
pub trait Store: AuditLog + Send + Sync + fmt::Debug + 'static {
    /// Checks that storage answers (for the health endpoint).
    async fn health(&self) -> Result<(), StoreError>;

    /// Creates a tenant; [`StoreError::TenantExists`] if the slug is taken.
    async fn create_tenant(&self, tenant: NewTenant) -> Result<Tenant, StoreError>;

    /// A tenant by the slug it signs in with.
    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError>;

    /// Creates an account, made by `by`; [`StoreError::LoginTaken`] or
    /// [`StoreError::ProfileTaken`] if another account of the tenant has that login or
    /// profile.
    async fn create_account(&self, account: NewAccount, by: &Actor) -> Result<Account, StoreError>;

    /// An account of the tenant.
    async fn account(
        &self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Option<Account>, StoreError>;

    /// An account and its password hash, by login.
    async fn credentials(
        &self,
        tenant: TenantId,
        login: &Login,
    ) -> Result<Option<Credentials>, StoreError>;

    /// All accounts of the tenant, by login.
    async fn accounts(&self, tenant: TenantId) -> Result<Vec<Account>, StoreError>;

    /// Replaces an account's password hash; a reset also revokes every live token of the
    /// account. Returns how many tokens were revoked.
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        account: AccountId,
        hash: PasswordHash,
        change: PasswordChange,
    ) -> Result<u64, StoreError>;

    /// Revokes an account and every device on it, by `by`. Revoking twice keeps the first
    /// instant.
    async fn revoke_account(
        &self,
        tenant: TenantId,
        account: AccountId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<Account, StoreError>;

    /// Writes a sign-in atomically: creates or refreshes the device (name, last sign-in),
    /// revokes the device's earlier tokens, stores the token hash, registers the actor and
    /// appends the sign-in to the audit log.
    /// [`StoreError::DeviceUnavailable`] if an existing device is revoked or not the
    /// account's; nothing is written then.
    async fn start_session(&self, session: NewSession) -> Result<Device, StoreError>;

    /// A device of the tenant.
    async fn device(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<Option<Device>, StoreError>;

    /// All devices of an account, oldest first.
    async fn devices(
        &self,
        tenant: TenantId,
        account: AccountId,
    ) -> Result<Vec<Device>, StoreError>;

    /// Revokes one device, by `by`. Revoking twice keeps the first instant.
    async fn revoke_device(
        &self,
        tenant: TenantId,
        device: DeviceId,
        at: Timestamp,
        by: &Actor,
    ) -> Result<Device, StoreError>;

    /// Writes a browser's sign-in: one token of the account, on no device.
    async fn start_browser_session(&self, session: NewBrowserSession) -> Result<(), StoreError>;

    /// Revokes every live browser session of an account (an admin's "sign out everywhere in
    /// the browser"), audited as `by`'s when any was live. Returns how many were live. Its
    /// devices are untouched.
    async fn revoke_browser_sessions(
        &self,
        tenant: TenantId,
        account: AccountId,
        at: Timestamp,
        by: Actor,
    ) -> Result<u64, StoreError>;

    /// Everything needed to judge a bearer token, a device's or a browser's.
    async fn token(&self, hash: TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes one token, a device's or a browser's (sign-out), audited as its account's
    /// sign-out. Returns whether a live token was revoked.
    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<bool, StoreError>;

    /// Appends an entry that records no write of its own (a lockout) to the tenant's
    /// accounts chain.
    async fn audit_event(&self, tenant: TenantId, entry: AuditDraft) -> Result<(), StoreError>;

    /// Which device an actor belongs to, within the tenant.
    async fn actor(
        &self,
        tenant: TenantId,
        actor: ActorId,
    ) -> Result<Option<ActorRecord>, StoreError>;

    /// Every actor ever registered to a device, oldest first.
    async fn device_actors(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> Result<Vec<ActorRecord>, StoreError>;

    /// Records a wrong password for a login (`key`: tenant and login as signed in with,
    /// without case) in a count every instance over this store shares, and returns the wait
    /// it now starts ([`crate::auth::throttle::backoff`]). `Ok(None)` as well where the store
    /// serves one instance only (SQLite): that instance's own throttle counts.
    async fn sign_in_failed(
        &self,
        _key: &(String, String),
        _now: Timestamp,
        _after: u32,
        _max: std::time::Duration,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        Ok(None)
    }

    /// How long a login must still wait, by the shared count (`None` without one).
    async fn sign_in_wait(
        &self,
        _key: &(String, String),
        _now: Timestamp,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        Ok(None)
    }

    /// A successful sign-in: the shared count of the login starts again.
    async fn sign_in_succeeded(&self, _key: &(String, String)) -> Result<(), StoreError> {
        Ok(())
    }
}
