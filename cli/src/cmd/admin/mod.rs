//! `fieldsales admin`: a tenant's first admin on the server host; everything else through a
//! running server's admin API, as an admin console would.
//!
//! Only the bootstrap works on the server's database directly (`tenant create`, the same
//! code as `fieldsales-server bootstrap`): the admin API needs an admin, and whoever can run
//! commands on the server host already holds the database. Accounts and devices, org units,
//! roles, people and the process configuration go through the admin API, so the server's own
//! rules (password policy, record validation, revocation) apply and devices pick the changes
//! up at their next sync. A process file is checked here first, so a file with problems is
//! listed and never sent.
//!
//! Passwords are read from standard input (one per line) or the environment, never from an
//! argument, where they would show in the process list and the shell history.

mod accounts;
mod host;
mod org;
mod process;

use std::io::BufRead;

use clap::{Args, Subcommand};
use fieldsales_cli::ExitKind;
use fieldsales_cli::admin_api::{AdminApiError, AdminClient, code_name};
use fieldsales_server::config::ENV_PREFIX;

use crate::CommandResult;
use crate::output::{Failure, Output};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Tenants, created on the server host.
    #[command(subcommand)]
    Tenant(host::TenantCommand),
    /// Sign-in accounts.
    #[command(subcommand)]
    Account(accounts::AccountCommand),
    /// Devices signed in with an account.
    #[command(subcommand)]
    Device(accounts::DeviceCommand),
    /// Sales-process configuration files: check one, or load it into a tenant.
    #[command(subcommand)]
    Config(process::ConfigCommand),
    /// Org units (HQ, regions, districts, teams).
    #[command(subcommand)]
    Unit(org::UnitCommand),
    /// Roles and their data scope.
    #[command(subcommand)]
    Role(org::RoleCommand),
    /// People: a user profile (name, unit, roles) and their sign-in account.
    #[command(subcommand)]
    User(org::UserCommand),
}

pub fn run(command: AdminCommand, out: &Output) -> CommandResult {
    match command {
        AdminCommand::Tenant(command) => host::run(command, out),
        AdminCommand::Account(command) => accounts::account(command, out),
        AdminCommand::Device(command) => accounts::device(command, out),
        AdminCommand::Config(command) => process::run(command, out),
        AdminCommand::Unit(command) => org::unit(command, out),
        AdminCommand::Role(command) => org::role(command, out),
        AdminCommand::User(command) => org::user(command, out),
    }
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

/// Signs in to the admin API with `password` and runs `f` with the client.
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

/// The exit kind of an admin API failure, with the server's own error code for scripts.
fn api_failure(e: AdminApiError) -> Failure {
    let (kind, code) = match &e {
        AdminApiError::BadUrl { .. } => (ExitKind::Usage, "invalid_argument".to_owned()),
        AdminApiError::Unreachable { .. } => (ExitKind::Network, "offline".to_owned()),
        AdminApiError::Refused { body, .. } if e.is_auth() => {
            (ExitKind::Auth, code_name(body.code))
        }
        AdminApiError::Refused { status, body, .. } if *status >= 500 => {
            (ExitKind::Other, code_name(body.code))
        }
        AdminApiError::Refused { body, .. } => (ExitKind::Refused, code_name(body.code)),
        AdminApiError::BadAnswer { .. } => (ExitKind::Other, "protocol".to_owned()),
    };
    Failure::new(kind, code, e)
}
