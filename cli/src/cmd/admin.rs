//! `fieldsales admin`: tenants, accounts and devices, run on the server host against the
//! server's own database, and checking process configuration files.
//!
//! Like the server's bootstrap, these commands work on the database directly: whoever can
//! run commands on the server host already holds the database, so this grants nothing new,
//! and it works before any admin account exists. SQLite in WAL mode lets them run while the
//! server is serving. Passwords are read from standard input (first line), never from an
//! argument, where they would show in the process list and the shell history.
//!
//! Org units, user profiles, roles and the process configuration are records, written
//! through the sync path; their commands arrive with it.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use fieldsales_cli::ExitKind;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::auth::Passwords;
use fieldsales_server::bootstrap::{BootstrapError, BootstrapTenant, bootstrap_tenant};
use fieldsales_server::config::ENV_PREFIX;
use fieldsales_server::model::{
    Account, AccountId, Device, DeviceId, DisplayName, Login, Password, Tenant, TenantSlug,
};
use fieldsales_server::store::{NewAccount, Store, StoreError};
use fieldsales_server::{Config, SqliteStore};
use serde::Serialize;

use crate::CommandResult;
use crate::output::{Failure, Output};

/// Where the server's database is.
#[derive(Debug, Args)]
pub struct ServerData {
    /// The server's data directory (overrides the configuration's `data_dir`).
    #[arg(long, value_name = "DIR", global = true)]
    data: Option<PathBuf>,
    /// The server's configuration file; `$FIELDSALES_CONFIG` when absent.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Sign-in accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Devices signed in with an account.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Sales-process configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its first admin. The password comes from
    /// $FIELDSALES_BOOTSTRAP_PASSWORD, else the first line of standard input.
    Create {
        /// The short name the tenant signs in with (`acme`).
        #[arg(long)]
        slug: String,
        /// Its display name.
        #[arg(long)]
        name: String,
        /// The first admin's login.
        #[arg(long)]
        admin_login: String,
        /// The first admin's profile record id; a new one when absent.
        #[arg(long, value_name = "UUID")]
        admin_profile_id: Option<RecordId>,
        #[command(flatten)]
        server: ServerData,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account. The password is the first line of standard input.
    Create {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The login.
        #[arg(long)]
        login: String,
        /// The person's profile record id; a new one when absent.
        #[arg(long, value_name = "UUID")]
        profile_id: Option<RecordId>,
        /// The account may use the admin API.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        server: ServerData,
    },
    /// List the tenant's accounts.
    List {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        server: ServerData,
    },
    /// Revoke an account and all its devices: they wipe their data at their next contact.
    Revoke {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The account's login.
        #[arg(long)]
        login: String,
        #[command(flatten)]
        server: ServerData,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List an account's devices.
    List {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The account's login.
        #[arg(long)]
        login: String,
        #[command(flatten)]
        server: ServerData,
    },
    /// Revoke one device (a lost phone): it wipes its data at its next contact.
    Revoke {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The device id.
        #[arg(value_name = "DEVICE_ID")]
        device: String,
        #[command(flatten)]
        server: ServerData,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a sales-process TOML file; every problem is listed with its line and field.
    Check {
        /// The file.
        file: PathBuf,
    },
}

pub fn run(command: AdminCommand, out: &Output) -> CommandResult {
    match command {
        AdminCommand::Config(ConfigCommand::Check { file }) => check_config(&file, out),
        AdminCommand::Tenant(TenantCommand::Create {
            slug,
            name,
            admin_login,
            admin_profile_id,
            server,
        }) => {
            let slug = parse("--slug", TenantSlug::parse(&slug))?;
            let name = parse("--name", DisplayName::parse(&name))?;
            let login = parse("--admin-login", Login::parse(&admin_login))?;
            let password = match std::env::var(format!("{ENV_PREFIX}BOOTSTRAP_PASSWORD")) {
                Ok(p) => p,
                Err(_) => read_password()?,
            };
            with_store(&server, |store, config| async move {
                let passwords = Passwords::new(1).await.map_err(other)?;
                let (tenant, account) = bootstrap_tenant(
                    &store,
                    &passwords,
                    config.auth.min_password_length,
                    BootstrapTenant {
                        slug,
                        name,
                        admin_login: login,
                        admin_password: Password::new(password),
                        admin_profile_id,
                    },
                    Timestamp::now(),
                )
                .await
                .map_err(|e| match e {
                    BootstrapError::WeakPassword(_) => {
                        Failure::new(ExitKind::Refused, "weak_password", e)
                    }
                    BootstrapError::Store(e) => store_failure(e),
                    BootstrapError::Password(_) => other(e),
                })?;
                let view = serde_json::json!({
                    "tenant": TenantView::from(&tenant),
                    "admin": AccountView::from(&account),
                });
                out.result(&view, |w| {
                    writeln!(
                        w,
                        "tenant `{}` ({}) created; admin `{}` account {} profile {}",
                        tenant.slug, tenant.id, account.login, account.id, account.profile_id
                    )
                });
                Ok(ExitKind::Ok)
            })
        }
        AdminCommand::Account(AccountCommand::Create {
            tenant,
            login,
            profile_id,
            admin,
            server,
        }) => {
            let login = parse("--login", Login::parse(&login))?;
            let password = Password::new(read_password()?);
            with_store(&server, |store, config| async move {
                let tenant = tenant_by_slug(&store, &tenant).await?;
                password
                    .check_new(config.auth.min_password_length)
                    .map_err(|e| {
                        Failure::new(
                            ExitKind::Refused,
                            "weak_password",
                            anyhow::anyhow!("password refused: {e}"),
                        )
                    })?;
                let passwords = Passwords::new(1).await.map_err(other)?;
                let password_hash = passwords.hash(&password).await.map_err(other)?;
                let account = store
                    .create_account(NewAccount {
                        id: AccountId::new(),
                        tenant_id: tenant.id,
                        login,
                        password_hash,
                        profile_id: profile_id.unwrap_or_default(),
                        is_admin: admin,
                        created_at: Timestamp::now(),
                    })
                    .await
                    .map_err(store_failure)?;
                let view = AccountView::from(&account);
                out.result(&view, |w| {
                    writeln!(
                        w,
                        "account `{}` ({}) created in `{}`; profile {}{}",
                        account.login,
                        account.id,
                        tenant.slug,
                        account.profile_id,
                        if account.is_admin { "; admin" } else { "" }
                    )
                });
                Ok(ExitKind::Ok)
            })
        }
        AdminCommand::Account(AccountCommand::List { tenant, server }) => {
            with_store(&server, |store, _| async move {
                let tenant = tenant_by_slug(&store, &tenant).await?;
                let accounts = store.accounts(tenant.id).await.map_err(store_failure)?;
                let views: Vec<AccountView> = accounts.iter().map(AccountView::from).collect();
                out.result(&views, |w| {
                    for a in &views {
                        writeln!(
                            w,
                            "{}  {:<24} profile {}{}{}",
                            a.id,
                            a.login,
                            a.profile_id,
                            if a.is_admin { "  admin" } else { "" },
                            a.revoked_at
                                .map(|t| format!("  revoked at {t}"))
                                .unwrap_or_default()
                        )?;
                    }
                    Ok(())
                });
                Ok(ExitKind::Ok)
            })
        }
        AdminCommand::Account(AccountCommand::Revoke {
            tenant,
            login,
            server,
        }) => with_store(&server, |store, _| async move {
            let tenant = tenant_by_slug(&store, &tenant).await?;
            let account = account_by_login(&store, &tenant, &login).await?;
            let account = store
                .revoke_account(tenant.id, account.id, Timestamp::now())
                .await
                .map_err(store_failure)?;
            let view = AccountView::from(&account);
            out.result(&view, |w| {
                writeln!(
                    w,
                    "account `{}` ({}) and its devices are revoked; they wipe their data at their next contact",
                    account.login, account.id
                )
            });
            Ok(ExitKind::Ok)
        }),
        AdminCommand::Device(DeviceCommand::List {
            tenant,
            login,
            server,
        }) => with_store(&server, |store, _| async move {
            let tenant = tenant_by_slug(&store, &tenant).await?;
            let account = account_by_login(&store, &tenant, &login).await?;
            let devices = store
                .devices(tenant.id, account.id)
                .await
                .map_err(store_failure)?;
            let views: Vec<DeviceView> = devices.iter().map(DeviceView::from).collect();
            out.result(&views, |w| {
                if views.is_empty() {
                    writeln!(w, "`{}` has not signed in on any device", account.login)?;
                }
                for d in &views {
                    writeln!(
                        w,
                        "{}  {:<24} last sign-in {}{}",
                        d.id,
                        d.name,
                        d.last_login_at,
                        d.revoked_at
                            .map(|t| format!("  revoked at {t}"))
                            .unwrap_or_default()
                    )?;
                }
                Ok(())
            });
            Ok(ExitKind::Ok)
        }),
        AdminCommand::Device(DeviceCommand::Revoke {
            tenant,
            device,
            server,
        }) => {
            let device_id: DeviceId = device.parse().map_err(|_| {
                Failure::new(
                    ExitKind::Usage,
                    "invalid_argument",
                    anyhow::anyhow!("DEVICE_ID: `{device}` is not a device id (a UUID)"),
                )
            })?;
            with_store(&server, |store, _| async move {
                let tenant = tenant_by_slug(&store, &tenant).await?;
                let device = store
                    .revoke_device(tenant.id, device_id, Timestamp::now())
                    .await
                    .map_err(store_failure)?;
                let view = DeviceView::from(&device);
                out.result(&view, |w| {
                    writeln!(
                        w,
                        "device `{}` ({}) is revoked; it wipes its data at its next contact",
                        device.name, device.id
                    )
                });
                Ok(ExitKind::Ok)
            })
        }
    }
}

fn check_config(file: &std::path::Path, out: &Output) -> CommandResult {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Failure::new(
            ExitKind::Other,
            "io",
            anyhow::anyhow!("{}: {e}", file.display()),
        )
    })?;
    match SalesProcess::from_toml(&text) {
        Ok(process) => {
            let view = serde_json::json!({
                "ok": true,
                "name": process.name,
                "stages": process.stages.len(),
                "roles": process.roles.len(),
            });
            out.result(&view, |w| {
                writeln!(
                    w,
                    "{}: process `{}` is valid ({} stages, {} roles)",
                    file.display(),
                    process.name,
                    process.stages.len(),
                    process.roles.len()
                )
            });
            Ok(ExitKind::Ok)
        }
        Err(errors) => {
            let listed: Vec<serde_json::Value> = errors
                .0
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "line": e.line,
                        "column": e.column,
                        "field": e.field.to_string(),
                        "problem": e.problem.to_string(),
                    })
                })
                .collect();
            let view = serde_json::json!({ "ok": false, "errors": listed });
            out.result(&view, |w| {
                for e in &errors.0 {
                    writeln!(
                        w,
                        "{}:{}:{}: {}: {}",
                        file.display(),
                        e.line,
                        e.column,
                        e.field,
                        e.problem
                    )?;
                }
                writeln!(w, "{} problem(s); the file is refused", errors.0.len())
            });
            Ok(ExitKind::Refused)
        }
    }
}

/// Opens the server's store and runs `f` on it.
fn with_store<F, Fut>(server: &ServerData, f: F) -> CommandResult
where
    F: FnOnce(SqliteStore, Config) -> Fut,
    Fut: std::future::Future<Output = CommandResult>,
{
    let config = super::server_config(server.config.as_deref(), server.data.as_deref(), None)?;
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let store = fieldsales_server::open_store(&config)
            .await
            .map_err(|e| Failure::new(ExitKind::Other, "cannot_open_store", e))?;
        f(store, config).await
    })
}

fn parse<T>(
    flag: &str,
    value: Result<T, fieldsales_server::model::InvalidValue>,
) -> Result<T, Failure> {
    value.map_err(|e| {
        Failure::new(
            ExitKind::Usage,
            "invalid_argument",
            anyhow::anyhow!("{flag}: {e}"),
        )
    })
}

fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::new(
            ExitKind::Other,
            "io",
            anyhow::anyhow!("cannot read the password from standard input: {e}"),
        )
    })?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(Failure::new(
            ExitKind::Usage,
            "no_password",
            anyhow::anyhow!("no password: give it as the first line of standard input"),
        ));
    }
    Ok(password)
}

async fn tenant_by_slug(store: &SqliteStore, slug: &str) -> Result<Tenant, Failure> {
    let parsed = parse("--tenant", TenantSlug::parse(slug))?;
    store
        .tenant_by_slug(&parsed)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| {
            Failure::new(
                ExitKind::Refused,
                "tenant_not_found",
                anyhow::anyhow!("no tenant `{slug}`"),
            )
        })
}

async fn account_by_login(
    store: &SqliteStore,
    tenant: &Tenant,
    login: &str,
) -> Result<Account, Failure> {
    let parsed = parse("--login", Login::parse(login))?;
    store
        .credentials(tenant.id, &parsed)
        .await
        .map_err(store_failure)?
        .map(|c| c.account)
        .ok_or_else(|| {
            Failure::new(
                ExitKind::Refused,
                "account_not_found",
                anyhow::anyhow!("no account `{login}` in tenant `{}`", tenant.slug),
            )
        })
}

fn store_failure(e: StoreError) -> Failure {
    let code = match &e {
        StoreError::TenantExists { .. } => "tenant_exists",
        StoreError::TenantNotFound { .. } => "tenant_not_found",
        StoreError::LoginTaken { .. } => "login_taken",
        StoreError::ProfileTaken { .. } => "profile_taken",
        StoreError::AccountNotFound { .. } => "account_not_found",
        StoreError::DeviceNotFound { .. } => "device_not_found",
        StoreError::DeviceUnavailable { .. } => "device_unavailable",
        StoreError::SchemaTooNew { .. } => "database_too_new",
        StoreError::Corrupt { .. } | StoreError::Backend(_) => {
            return Failure::new(ExitKind::Other, "storage", e);
        }
    };
    Failure::new(ExitKind::Refused, code, e)
}

fn other(e: impl Into<anyhow::Error>) -> Failure {
    Failure::new(ExitKind::Other, "internal", e)
}

#[derive(Serialize)]
struct TenantView {
    id: String,
    slug: String,
    name: String,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        TenantView {
            id: t.id.to_string(),
            slug: t.slug.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
        }
    }
}

#[derive(Serialize)]
struct AccountView {
    id: String,
    login: String,
    profile_id: RecordId,
    is_admin: bool,
    created_at: Timestamp,
    revoked_at: Option<Timestamp>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id.to_string(),
            login: a.login.as_str().to_owned(),
            profile_id: a.profile_id,
            is_admin: a.is_admin,
            created_at: a.created_at,
            revoked_at: a.revoked_at,
        }
    }
}

#[derive(Serialize)]
struct DeviceView {
    id: String,
    name: String,
    registered_at: Timestamp,
    last_login_at: Timestamp,
    revoked_at: Option<Timestamp>,
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> Self {
        DeviceView {
            id: d.id.to_string(),
            name: d.name.as_str().to_owned(),
            registered_at: d.registered_at,
            last_login_at: d.last_login_at,
            revoked_at: d.revoked_at,
        }
    }
}
