//! The `fieldsales` command line: run the sync server, administer it, move data through
//! spreadsheets.
//!
//! Every command prints a human summary, or with `--json` one JSON object on standard output
//! for scripts (errors included: `{"error": {"code", "message", "exit_code"}}`); the exit
//! code tells the kind of failure (see [`fieldsales_cli::exit`]).

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fieldsales_cli::ExitKind;

use crate::output::{Failure, Output};

/// Fieldsales: offline-first field sales.
#[derive(Debug, Parser)]
#[command(name = "fieldsales", version, after_help = fieldsales_server::exit::EXIT_CODES_HELP)]
struct Cli {
    /// Print one JSON object on standard output instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the sync server.
    Server(cmd::server::ServerArgs),
    /// Administer the server through its admin API: accounts, devices, org units, roles,
    /// users and the process configuration; a tenant's first admin on the server host.
    #[command(subcommand)]
    Admin(cmd::admin::AdminCommand),
    /// Import customers, contacts or products from a .csv or .xlsx file into a local store.
    Import(cmd::transfer::ImportArgs),
    /// Export customers, contacts or products from a local store to a .csv or .xlsx file.
    Export(cmd::transfer::ExportArgs),
    /// Run a sales org's working day on this machine: a sync server on loopback, every
    /// rep's phone offline, then sync, and print the managers' dashboards.
    Demo(cmd::demo::DemoArgs),
    /// A device simulator on the real engine: sign in, work offline, sync.
    Device(cmd::device::DeviceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    let result = match cli.command {
        Command::Server(args) => cmd::server::run(args, &out),
        Command::Admin(command) => cmd::admin::run(command, &out),
        Command::Import(args) => cmd::transfer::import(args, &out),
        Command::Export(args) => cmd::transfer::export(args, &out),
        Command::Demo(args) => cmd::demo::run(args, &out),
        Command::Device(args) => cmd::device::run(args, &out),
    };
    match result {
        Ok(kind) => kind.into(),
        Err(failure) => {
            out.failure(&failure);
            failure.kind.into()
        }
    }
}

/// What every command returns: the exit kind of a finished run (an import with refused rows
/// finishes, yet exits with [`ExitKind::Refused`]), or a failure.
type CommandResult = Result<ExitKind, Failure>;
