//! `fieldsales admin`: tenants, accounts and devices, run on the server host against the
//! server's own database, and checking process configuration files.
//!
//! Like the server's bootstrap, these commands work on the database directly: whoever can
//! run commands on the server host already holds the database, so this grants nothing new,
//! and it works before any admin account exists. SQLite in WAL mode lets them run while the
//! server is serving. Passwords are read from standard input (first line), never from an
//! argument, where they would show in the process list and the shell history.
//!
//! Org units, user profiles, roles and the process configuration are records every device
//! pulls, so their commands go through a running server's admin API instead, as an admin
//! console would: the server writes them with its own actor and the devices get them at
//! their next sync. A process file is checked here first, so a file with problems is listed
//! and never sent.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use fieldsales_cli::ExitKind;
use fieldsales_cli::admin_api::{AdminApiError, AdminClient};
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
    /// Sales-process configuration files: check one, or load it into a tenant.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Org units (HQ, regions, districts, teams), through the server's admin API.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Roles and their data scope, through the server's admin API.
    #[command(subcommand)]
    Role(RoleCommand),
    /// People: a user profile (name, unit, roles) and their sign-in account, through the
    /// server's admin API.
    #[command(subcommand)]
    User(UserCommand),
}

/// How to reach a running server's admin API. The admin's password is
/// $FIELDSALES_ADMIN_PASSWORD, else the first line of standard input.
#[derive(Debug, Args)]
pub struct ApiAccess {
    /// The server's base URL (`http://127.0.0.1:8080`).
    #[arg(long, value_name = "URL")]
    server: String,
    /// The tenant's slug.
    #[arg(long)]
    tenant: String,
    /// The admin's login.
    #[arg(long, value_name = "LOGIN")]
    admin_login: String,
}

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Create an org unit, or replace the one named by `--id` (to name its manager, say).
    Create {
        /// Its name (`上海一组`).
        #[arg(long)]
        name: String,
        /// `hq`, `region`, `district` or `team`.
        #[arg(long)]
        level: String,
        /// The unit above it.
        #[arg(long, value_name = "UUID")]
        parent: Option<RecordId>,
        /// Its manager's user profile (approvals route to them).
        #[arg(long, value_name = "UUID")]
        manager: Option<RecordId>,
        /// Its IANA time zone.
        #[arg(long, default_value = "Asia/Shanghai")]
        zone: String,
        /// The unit to replace; a new one when absent.
        #[arg(long, value_name = "UUID")]
        id: Option<RecordId>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role, or replace the one named by `--id`.
    Create {
        /// Its code, as user profiles and the process configuration name it (`sales_rep`).
        #[arg(long)]
        code: String,
        /// What people see (`销售代表`).
        #[arg(long)]
        name: String,
        /// Whose records it sees: `own`, `subtree`, `region` or `all`.
        #[arg(long)]
        scope: String,
        /// A permission code (repeatable).
        #[arg(long = "permission", value_name = "CODE")]
        permissions: Vec<String>,
        /// A field hidden from the role (repeatable).
        #[arg(long = "hidden-field", value_name = "FIELD")]
        hidden_fields: Vec<String>,
        /// The role to replace; a new one when absent.
        #[arg(long, value_name = "UUID")]
        id: Option<RecordId>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a person: their profile record, then their account. The new user's password
    /// is the next line of standard input (after the admin's, when that comes from there).
    Create {
        /// What they sign in with.
        #[arg(long, value_name = "LOGIN")]
        login: String,
        /// Their full name.
        #[arg(long)]
        name: String,
        /// Their employee number; the login when absent.
        #[arg(long)]
        employee_no: Option<String>,
        /// Their org unit.
        #[arg(long, value_name = "UUID")]
        unit: RecordId,
        /// A role code (repeatable, at least one).
        #[arg(long = "role", value_name = "CODE", required = true)]
        roles: Vec<String>,
        /// Their IANA time zone.
        #[arg(long, default_value = "Asia/Shanghai")]
        zone: String,
        /// Job title.
        #[arg(long)]
        title: Option<String>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// E-mail.
        #[arg(long)]
        email: Option<String>,
        /// The account may use the admin API.
        #[arg(long)]
        admin: bool,
        /// Reuse this profile record (after an earlier run wrote it and the account failed).
        #[arg(long, value_name = "UUID")]
        profile_id: Option<RecordId>,
        #[command(flatten)]
        api: ApiAccess,
    },
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
    /// Check a sales-process TOML file and, when it is valid, make it the tenant's process
    /// configuration; every device picks it up at its next sync. A file with problems is
    /// listed as `check` lists it and nothing is sent.
    Load {
        /// The file.
        file: PathBuf,
        /// The configuration's revision number; the load time (seconds since 1970) when
        /// absent, so a later load has a higher one.
        #[arg(long)]
        revision: Option<i64>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

pub fn run(command: AdminCommand, out: &Output) -> CommandResult {
    match command {
        AdminCommand::Config(ConfigCommand::Check { file }) => check_config(&file, out),
        AdminCommand::Config(ConfigCommand::Load {
            file,
            revision,
            api,
        }) => load_config(&file, revision, &api, out),
        AdminCommand::Unit(command) => unit(command, out),
        AdminCommand::Role(command) => role(command, out),
        AdminCommand::User(command) => user(command, out),
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
                    _ => other(e),
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
    let text = read_config(file)?;
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
            print_config_errors(out, file, &errors);
            Ok(ExitKind::Refused)
        }
    }
}

fn read_config(file: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(file).map_err(|e| {
        Failure::new(
            ExitKind::Other,
            "io",
            anyhow::anyhow!("{}: {e}", file.display()),
        )
    })
}

fn print_config_errors(
    out: &Output,
    file: &std::path::Path,
    errors: &fieldsales_core::process::ConfigErrors,
) {
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
}

/// Checks the file here, then loads it: a file with problems never reaches the server.
fn load_config(
    file: &std::path::Path,
    revision: Option<i64>,
    api: &ApiAccess,
    out: &Output,
) -> CommandResult {
    let text = read_config(file)?;
    let process = match SalesProcess::from_toml(&text) {
        Ok(p) => p,
        Err(errors) => {
            print_config_errors(out, file, &errors);
            return Ok(ExitKind::Refused);
        }
    };
    let revision = revision.unwrap_or_else(|| Timestamp::now().millis() / 1000);
    if revision < 0 {
        return Err(Failure::new(
            ExitKind::Usage,
            "invalid_argument",
            anyhow::anyhow!("--revision: must not be negative"),
        ));
    }
    let password = admin_password(&mut StdinLines::default())?;
    with_api(api, password, |admin| async move {
        let id = admin
            .record(serde_json::json!({"kind": "process_config", "toml": text,
                                       "revision": revision}))
            .await
            .map_err(api_failure)?;
        let view = serde_json::json!({
            "id": id,
            "name": process.name,
            "revision": revision,
            "stages": process.stages.len(),
        });
        out.result(&view, |w| {
            writeln!(
                w,
                "process `{}` (revision {revision}, {} stages) loaded as {id}; devices pick it up at their next sync",
                process.name,
                process.stages.len()
            )
        });
        Ok(ExitKind::Ok)
    })
}

/// Lines of standard input, read as asked for: the admin's password, then a new user's.
#[derive(Default)]
struct StdinLines {
    read: usize,
}

impl StdinLines {
    fn next(&mut self, what: &str) -> Result<String, Failure> {
        self.read += 1;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::new(
                ExitKind::Other,
                "io",
                anyhow::anyhow!("cannot read {what} from standard input: {e}"),
            )
        })?;
        let text = line.trim_end_matches(['\r', '\n']).to_owned();
        if text.is_empty() {
            return Err(Failure::new(
                ExitKind::Usage,
                "no_password",
                anyhow::anyhow!("no {what}: give it as line {} of standard input", self.read),
            ));
        }
        Ok(text)
    }
}

/// The admin's password: $FIELDSALES_ADMIN_PASSWORD, else the next line of standard input.
fn admin_password(stdin: &mut StdinLines) -> Result<String, Failure> {
    match std::env::var(format!("{ENV_PREFIX}ADMIN_PASSWORD")) {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => stdin.next("the admin's password"),
    }
}

/// Signs in to the admin API and runs `f` with the client.
fn with_api<F, Fut>(api: &ApiAccess, password: String, f: F) -> CommandResult
where
    F: FnOnce(AdminClient) -> Fut,
    Fut: std::future::Future<Output = CommandResult>,
{
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let admin = AdminClient::sign_in(&api.server, &api.tenant, &api.admin_login, &password)
            .await
            .map_err(api_failure)?;
        f(admin).await
    })
}

fn api_failure(e: AdminApiError) -> Failure {
    let (kind, code) = match &e {
        AdminApiError::Unreachable { .. } => (ExitKind::Network, "offline"),
        AdminApiError::Auth { code, .. } => (ExitKind::Auth, known_code(code, "auth_refused")),
        AdminApiError::Refused { code, .. } => (ExitKind::Refused, known_code(code, "refused")),
        AdminApiError::BadAnswer { .. } => (ExitKind::Other, "protocol"),
    };
    Failure::new(kind, code, e)
}

/// The server's error code as a stable code of this command line, when it is one a script
/// may branch on.
fn known_code(code: &str, otherwise: &'static str) -> &'static str {
    [
        "invalid_field",
        "invalid_record",
        "login_taken",
        "profile_taken",
        "admin_required",
        "bad_credentials",
        "tenant_not_found",
    ]
    .into_iter()
    .find(|k| *k == code)
    .unwrap_or(otherwise)
}

fn one_of(flag: &str, value: &str, allowed: &[&str]) -> Result<(), Failure> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(Failure::new(
            ExitKind::Usage,
            "invalid_argument",
            anyhow::anyhow!("{flag}: `{value}` is not one of {}", allowed.join(", ")),
        ))
    }
}

fn written(out: &Output, what: &str, id: RecordId, name: &str) {
    out.result(
        &serde_json::json!({"id": id, "kind": what, "name": name}),
        |w| writeln!(w, "{what} `{name}` written as {id}"),
    );
}

fn unit(command: UnitCommand, out: &Output) -> CommandResult {
    let UnitCommand::Create {
        name,
        level,
        parent,
        manager,
        zone,
        id,
        api,
    } = command;
    one_of("--level", &level, &["hq", "region", "district", "team"])?;
    let password = admin_password(&mut StdinLines::default())?;
    with_api(&api, password, |admin| async move {
        let id = admin
            .record(serde_json::json!({
                "kind": "org_unit", "id": id, "name": name, "level": level,
                "parent_id": parent, "manager_id": manager, "zone": zone,
            }))
            .await
            .map_err(api_failure)?;
        written(out, "org_unit", id, &name);
        Ok(ExitKind::Ok)
    })
}

fn role(command: RoleCommand, out: &Output) -> CommandResult {
    let RoleCommand::Create {
        code,
        name,
        scope,
        permissions,
        hidden_fields,
        id,
        api,
    } = command;
    one_of("--scope", &scope, &["own", "subtree", "region", "all"])?;
    let password = admin_password(&mut StdinLines::default())?;
    with_api(&api, password, |admin| async move {
        let id = admin
            .record(serde_json::json!({
                "kind": "role", "id": id, "code": code, "name": name, "data_scope": scope,
                "permissions": permissions, "hidden_fields": hidden_fields,
            }))
            .await
            .map_err(api_failure)?;
        written(out, "role", id, &code);
        Ok(ExitKind::Ok)
    })
}

fn user(command: UserCommand, out: &Output) -> CommandResult {
    let UserCommand::Create {
        login,
        name,
        employee_no,
        unit,
        roles,
        zone,
        title,
        phone,
        email,
        admin: is_admin,
        profile_id,
        api,
    } = command;
    parse("--login", Login::parse(&login))?;
    let mut stdin = StdinLines::default();
    let admin_password = admin_password(&mut stdin)?;
    let password = stdin.next("the new user's password")?;
    with_api(&api, admin_password, |admin| async move {
        let profile = admin
            .record(serde_json::json!({
                "kind": "user_profile", "id": profile_id, "name": name,
                "employee_no": employee_no.unwrap_or_else(|| login.clone()),
                "unit_id": unit, "roles": roles, "zone": zone,
                "title": title, "phone": phone, "email": email,
            }))
            .await
            .map_err(api_failure)?;
        let account = admin
            .account(&login, &password, profile, is_admin)
            .await
            .map_err(|e| {
                let mut failure = api_failure(e);
                failure.error = failure.error.context(format!(
                    "the profile of `{login}` was written as {profile} but the account was \
                     not created; run again with --profile-id {profile} once fixed"
                ));
                failure
            })?;
        let view = serde_json::json!({"profile_id": profile, "account": account});
        out.result(&view, |w| {
            writeln!(
                w,
                "user `{login}` ({name}) created: profile {profile}, account {}",
                account["id"].as_str().unwrap_or("?")
            )
        });
        Ok(ExitKind::Ok)
    })
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
