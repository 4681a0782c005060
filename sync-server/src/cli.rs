//! The `fieldsales-server` command line: serve, check a configuration, bootstrap a tenant's
//! first admin, verify the audit log, back the data up and restore it. The binary's `main`
//! is [`main`]; the end-to-end tests build a copy of the binary on it
//! (`fieldsales-test-cli`), so they run this very command line.
//!
//! Exit codes follow the scheme both programs share ([`crate::exit`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::backup;
use crate::bootstrap::{BootstrapArgs, bootstrap_on_host};
use crate::exit::{EXIT_CODES_HELP, ExitKind};
use crate::{Config, run, shutdown_signal};

/// The Fieldsales sync server: the authority over every record the phones push, its admin
/// API and the managers' web dashboard.
///
/// Configuration: built-in defaults, then the TOML file of --config (or
/// $FIELDSALES_CONFIG), then FIELDSALES_* variables, each overriding the one before; sections
/// are joined with `__` (FIELDSALES_LISTEN=0.0.0.0:8443,
/// FIELDSALES_AUTH__TOKEN_LIFETIME=14d). Every value is checked at start; `check-config`
/// prints the result.
#[derive(Debug, Parser)]
#[command(name = "fieldsales-server", version, after_help = EXIT_CODES_HELP)]
struct Cli {
    /// Configuration file (TOML); `$FIELDSALES_CONFIG` when absent.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// What to do; `serve` when absent.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API and the web dashboard until SIGTERM or Ctrl-C (the default command).
    Serve,
    /// Check the configuration and print the one in effect as TOML, every key with the value
    /// it takes from the defaults, the file or the environment.
    CheckConfig,
    /// Create a tenant and its first admin, on the server host. The password is
    /// $FIELDSALES_BOOTSTRAP_PASSWORD, else the first line of standard input.
    Bootstrap(BootstrapArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Back the server's data up while it runs (SQLite storage): the accounts, every
    /// tenant's records and audit log, the attachments, and a manifest of sizes and SHA-256
    /// written last. A PostgreSQL deployment is backed up with pg_dump instead.
    Backup {
        /// The folder to write the backup into: new, or empty.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Restore a backup into the data folder, with the server stopped: every file checked
    /// against the manifest first; every tenant gets a new epoch, so each device syncs again
    /// from the start and offers what the backup lacks.
    Restore {
        /// The backup folder (the one `backup --to` wrote).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Restore into a data folder that holds something: it is moved aside beside itself
        /// (`<data_dir>.before-restore-<time>`), never deleted.
        #[arg(long)]
        force: bool,
    },
    /// Give every tenant's change sequence a new epoch, with every server instance stopped:
    /// after restoring a PostgreSQL database with its own tools (or a data folder by other
    /// means than `restore`), so each device syncs again from the start and offers what the
    /// restored data lacks. On PostgreSQL, the instances also rebuild their read models.
    NewEpoch,
    /// Move the sensitive fields (phones, e-mails, costs) of records written before they had
    /// documents of their own out of those records, with every server instance stopped: each
    /// such record is re-created with a fresh history, and every tenant gets a new epoch so
    /// each device replaces its copy. Needed once, before any role hides a field, on a server
    /// whose data predates hidden fields; running it again changes nothing.
    MoveHiddenFields,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every tenant's audit chains in the configured storage: each entry against its
    /// hash and the one before it, the last against the chain's head. Prints each chain's
    /// head (keep it elsewhere to detect a chain rewritten whole); names every entry edited,
    /// deleted or replaced, and exits 1 when there is one.
    Verify,
}

fn fail(kind: ExitKind, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fieldsales-server: {message}");
    kind.into()
}

/// Runs the command line of the process's arguments; the exit code to end with.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load_from_process(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(ExitKind::Refused, e),
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::CheckConfig => match config.to_toml() {
            Ok(text) => {
                print!("{text}");
                ExitKind::Ok.into()
            }
            Err(e) => fail(
                ExitKind::Other,
                format!("cannot write the configuration: {e}"),
            ),
        },
        Command::Audit(AuditCommand::Verify) => audit_verify(config).await,
        Command::Backup { to } => backup(config, to).await,
        Command::Restore { from, force } => restore(config, from, force).await,
        Command::NewEpoch => new_epoch(config).await,
        Command::MoveHiddenFields => move_hidden_fields(config).await,
        Command::Bootstrap(args) => {
            let request = match args.into_request() {
                Ok(request) => request,
                Err(e) => return fail(ExitKind::of_bootstrap(&e), e),
            };
            match bootstrap_on_host(&config, request, fieldsales_core::Timestamp::now()).await {
                Ok(made) => {
                    println!("{made}");
                    ExitKind::Ok.into()
                }
                Err(e) => fail(ExitKind::of_bootstrap(&e), e),
            }
        }
    }
}

async fn audit_verify(config: Config) -> ExitCode {
    let reports = match crate::audit::verify::configured(&config).await {
        Ok(reports) => reports,
        Err(e) => return fail(ExitKind::of_run(&e), e),
    };
    let broken = reports.iter().filter(|r| !r.holds()).count();
    for report in &reports {
        println!("{report}");
    }
    if broken == 0 {
        println!("audit log intact: {} chain(s)", reports.len());
        ExitKind::Ok.into()
    } else {
        fail(
            ExitKind::Other,
            format!("the audit log was tampered with: {broken} chain(s) do not verify"),
        )
    }
}

/// Progress on stderr: one line per file.
fn progress(p: &backup::Progress) {
    eprintln!("fieldsales-server: {p}");
}

async fn backup(config: Config, to: PathBuf) -> ExitCode {
    let taken =
        tokio::task::spawn_blocking(move || backup::take(&config, &to, &mut |p| progress(p))).await;
    match taken {
        Ok(Ok(report)) => {
            println!("{report}");
            ExitKind::Ok.into()
        }
        Ok(Err(e)) => fail(ExitKind::of_backup(&e), e),
        Err(e) => fail(ExitKind::Other, format!("the backup stopped: {e}")),
    }
}

async fn restore(config: Config, from: PathBuf, force: bool) -> ExitCode {
    let restored = tokio::task::spawn_blocking(move || {
        backup::restore(&config, &from, force, &mut |p| progress(p))
    })
    .await;
    match restored {
        Ok(Ok(report)) => {
            println!("{report}");
            ExitKind::Ok.into()
        }
        Ok(Err(e)) => fail(ExitKind::of_backup(&e), e),
        Err(e) => fail(ExitKind::Other, format!("the restore stopped: {e}")),
    }
}

async fn new_epoch(config: Config) -> ExitCode {
    match backup::new_epoch(&config).await {
        Ok(epochs) => {
            for (tenant, epoch) in &epochs {
                println!("tenant {tenant}: new epoch {epoch:016x}");
            }
            println!("{} tenant(s) renewed", epochs.len());
            ExitKind::Ok.into()
        }
        Err(e) => fail(ExitKind::of_backup(&e), e),
    }
}

async fn move_hidden_fields(config: Config) -> ExitCode {
    match backup::move_hidden_fields(&config).await {
        Ok(tenants) => {
            for (tenant, moved, epoch) in &tenants {
                println!("tenant {tenant}: {moved} record(s) re-created; new epoch {epoch:016x}");
            }
            println!("{} tenant(s) upgraded", tenants.len());
            ExitKind::Ok.into()
        }
        Err(e) => fail(ExitKind::of_backup(&e), e),
    }
}

async fn serve(config: Config) -> ExitCode {
    if let Err(e) = crate::telemetry::init_logging(&config.log) {
        return fail(ExitKind::Other, format!("cannot start logging: {e}"));
    }
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            return fail(
                ExitKind::Network,
                format!("cannot listen on {}: {e}", config.listen),
            );
        }
    };
    match run(config, listener, shutdown_signal()).await {
        Ok(()) => ExitKind::Ok.into(),
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            fail(ExitKind::of_run(&e), e)
        }
    }
}
