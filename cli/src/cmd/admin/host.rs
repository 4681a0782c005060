//! `fieldsales admin tenant create`: a tenant and its first admin, on the server host.
//!
//! The one command that works on the server's database instead of its API; it runs the
//! server's own bootstrap (`fieldsales_server::bootstrap`), the code behind
//! `fieldsales-server bootstrap`, with the same arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fieldsales_cli::ExitKind;
use fieldsales_server::bootstrap::{BootstrapArgs, BootstrapError, bootstrap_on_host};

use crate::CommandResult;
use crate::output::{Failure, Output};

/// Where the server's database is.
#[derive(Debug, Args)]
pub struct ServerData {
    /// The server's data directory (overrides the configuration's `data_dir`).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The server's configuration file; `$FIELDSALES_CONFIG` when absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its first admin in the server's database, on the server host (as
    /// `fieldsales-server bootstrap` does). The password is $FIELDSALES_BOOTSTRAP_PASSWORD,
    /// else the first line of standard input.
    Create {
        #[command(flatten)]
        tenant: BootstrapArgs,
        #[command(flatten)]
        server: ServerData,
    },
}

pub fn run(command: TenantCommand, out: &Output) -> CommandResult {
    let TenantCommand::Create { tenant, server } = command;
    let config = crate::cmd::server_config(server.config.as_deref(), server.data.as_deref(), None)?;
    let request = tenant.into_request().map_err(failure)?;
    let runtime = crate::cmd::runtime()?;
    let made = runtime
        .block_on(bootstrap_on_host(
            &config,
            request,
            fieldsales_core::Timestamp::now(),
        ))
        .map_err(failure)?;
    out.result(&made, |w| writeln!(w, "{made}"));
    Ok(ExitKind::Ok)
}

fn failure(e: BootstrapError) -> Failure {
    let code = match &e {
        BootstrapError::NoPassword => "no_password",
        BootstrapError::WeakPassword(_) => "weak_password",
        BootstrapError::Store(fieldsales_server::StoreError::TenantExists { .. }) => {
            "tenant_exists"
        }
        BootstrapError::Store(fieldsales_server::StoreError::LoginTaken { .. }) => "login_taken",
        _ => "cannot_bootstrap",
    };
    Failure::new(ExitKind::of_bootstrap(&e), code, e)
}
