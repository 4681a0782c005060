//! How the first admin of a tenant comes to exist.
//!
//! The admin API needs an admin, so the first one cannot be made through it. Tenants and
//! their first admin are made by an operator on the server host with
//! `fieldsales-server bootstrap` (or this function, from tests and tools): whoever can run
//! commands there already holds the database, so this grants nothing new, and no bootstrap
//! secret ever sits in a config file or crosses the network. Every later account is made by
//! an admin through the API.

use fieldsales_core::{RecordId, Timestamp};

use crate::auth::{PasswordError, Passwords};
use crate::model::{
    Account, AccountId, DisplayName, Login, Password, Tenant, TenantId, TenantSlug,
};
use crate::store::{NewAccount, NewTenant, Store, StoreError};

/// What to create.
#[derive(Debug, Clone)]
pub struct BootstrapTenant {
    /// The tenant's short name.
    pub slug: TenantSlug,
    /// Its display name.
    pub name: DisplayName,
    /// The first admin's login.
    pub admin_login: Login,
    /// The first admin's password.
    pub admin_password: Password,
    /// The first admin's profile record; a fresh id when absent.
    pub admin_profile_id: Option<RecordId>,
}

/// Why bootstrapping failed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The password is too short or too long.
    #[error("admin password refused: {0}")]
    WeakPassword(crate::model::InvalidValue),
    /// Hashing failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Storage refused (for example [`StoreError::TenantExists`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a tenant and its first admin account.
pub async fn bootstrap_tenant(
    store: &dyn Store,
    passwords: &Passwords,
    min_password_length: usize,
    request: BootstrapTenant,
    now: Timestamp,
) -> Result<(Tenant, Account), BootstrapError> {
    request
        .admin_password
        .check_new(min_password_length)
        .map_err(BootstrapError::WeakPassword)?;
    let password_hash = passwords.hash(&request.admin_password).await?;
    let tenant = store
        .create_tenant(NewTenant {
            id: TenantId::new(),
            slug: request.slug,
            name: request.name,
            created_at: now,
        })
        .await?;
    let account = store
        .create_account(NewAccount {
            id: AccountId::new(),
            tenant_id: tenant.id,
            login: request.admin_login,
            password_hash,
            profile_id: request.admin_profile_id.unwrap_or_default(),
            is_admin: true,
            created_at: now,
        })
        .await?;
    tracing::info!(tenant = %tenant.slug, account = %account.id, "tenant bootstrapped with its first admin");
    Ok((tenant, account))
}
