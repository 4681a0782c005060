//! How the first admin of a tenant comes to exist.
//!
//! The admin API needs an admin, so the first one cannot be made through it. Tenants and
//! their first admin are made by an operator on the server host: whoever can run commands
//! there already holds the database, so this grants nothing new, and no bootstrap secret ever
//! sits in a config file or crosses the network. Every later account is made by an admin
//! through the API.
//!
//! This module is the one place that does it: the command's arguments ([`BootstrapArgs`],
//! shared by `fieldsales-server bootstrap` and `fieldsales admin tenant create`), where the
//! password comes from, opening the configured storage ([`bootstrap_on_host`]) and the
//! writes themselves ([`bootstrap_tenant`], which tests and the demo call on a store they
//! hold).

use std::io::BufRead;

use fieldsales_core::{RecordId, Timestamp};
use serde::Serialize;

use crate::api::AccountView;
use crate::auth::{PasswordError, Passwords};
use crate::config::{Config, ENV_PREFIX};
use crate::model::{
    Account, AccountId, DisplayName, Login, Password, Tenant, TenantId, TenantSlug,
};
use crate::store::{NewAccount, NewTenant, Store, StoreError};

/// The variable an operator may put the first admin's password in, instead of standard
/// input (never an argument: it would show in the process list and the shell history).
pub const PASSWORD_VARIABLE: &str = "BOOTSTRAP_PASSWORD";

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

/// The arguments of the bootstrap command, as both programs take them. The first admin's
/// password is `$FIELDSALES_BOOTSTRAP_PASSWORD`, else the first line of standard input.
#[derive(Debug, Clone, clap::Args)]
pub struct BootstrapArgs {
    /// The tenant's short name, which its people sign in with: lowercase letters, digits and
    /// dashes (`acme`).
    #[arg(long, value_name = "SLUG", value_parser = TenantSlug::parse)]
    pub tenant: TenantSlug,
    /// The tenant's display name (`Acme 华东`).
    #[arg(long, value_parser = DisplayName::parse)]
    pub name: DisplayName,
    /// The first admin's login.
    #[arg(long, value_parser = Login::parse)]
    pub login: Login,
    /// The first admin's profile record id, when their profile record exists already; a
    /// new one when absent.
    #[arg(long, value_name = "UUID")]
    pub profile_id: Option<RecordId>,
}

impl BootstrapArgs {
    /// The request, with the password from the environment or standard input.
    pub fn into_request(self) -> Result<BootstrapTenant, BootstrapError> {
        let password = match std::env::var(format!("{ENV_PREFIX}{PASSWORD_VARIABLE}")) {
            Ok(p) if !p.is_empty() => p,
            _ => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(BootstrapError::Stdin)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        if password.is_empty() {
            return Err(BootstrapError::NoPassword);
        }
        Ok(BootstrapTenant {
            slug: self.tenant,
            name: self.name,
            admin_login: self.login,
            admin_password: Password::new(password),
            admin_profile_id: self.profile_id,
        })
    }
}

/// Why bootstrapping failed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// No password in the environment or on standard input.
    #[error(
        "no password for the first admin: set $FIELDSALES_BOOTSTRAP_PASSWORD or give it as the \
         first line of standard input"
    )]
    NoPassword,
    /// Standard input could not be read.
    #[error("cannot read the password from standard input: {0}")]
    Stdin(#[source] std::io::Error),
    /// The password is too short or too long.
    #[error("admin password refused: {0}")]
    WeakPassword(crate::model::InvalidValue),
    /// The configured storage could not be opened.
    #[error("cannot open the server's storage: {0}")]
    Open(#[source] Box<crate::RunError>),
    /// Hashing failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Storage refused (for example [`StoreError::TenantExists`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A tenant as the bootstrap command reports it.
#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    /// Its id.
    pub id: TenantId,
    /// The short name its people sign in with.
    pub slug: String,
    /// Its display name.
    pub name: String,
}

/// What bootstrapping made.
#[derive(Debug, Serialize)]
pub struct Bootstrapped {
    /// The tenant.
    pub tenant: TenantView,
    /// Its first admin's account.
    pub admin: AccountView,
}

impl std::fmt::Display for Bootstrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tenant `{}` ({}) created; admin `{}` account {} profile {}",
            self.tenant.slug,
            self.tenant.id,
            self.admin.login,
            self.admin.id,
            self.admin.profile_id
        )
    }
}

/// Creates a tenant and its first admin in the storage `config` names (creating the data
/// directory and database on first use): what an operator runs on the server host.
pub async fn bootstrap_on_host(
    config: &Config,
    request: BootstrapTenant,
    now: Timestamp,
) -> Result<Bootstrapped, BootstrapError> {
    let store = crate::open_store(config)
        .await
        .map_err(|e| BootstrapError::Open(Box::new(e)))?;
    let passwords = Passwords::new(1).await?;
    let (tenant, account) = bootstrap_tenant(
        &*store,
        &passwords,
        config.auth.min_password_length,
        request,
        now,
    )
    .await?;
    Ok(Bootstrapped {
        tenant: TenantView {
            id: tenant.id,
            slug: tenant.slug.as_str().to_owned(),
            name: tenant.name.as_str().to_owned(),
        },
        admin: account.into(),
    })
}

/// Creates a tenant and its first admin account in `store`.
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
        .create_account(
            NewAccount {
                id: AccountId::new(),
                tenant_id: tenant.id,
                login: request.admin_login,
                password_hash,
                profile_id: request.admin_profile_id.unwrap_or_default(),
                is_admin: true,
                created_at: now,
            },
            // Made on the server host, by whoever runs it: no account of the tenant.
            &crate::audit::Actor::SERVER,
        )
        .await?;
    tracing::info!(tenant = %tenant.slug, account = %account.id, "tenant bootstrapped with its first admin");
    Ok((tenant, account))
}
