//! `fieldsales-server`: serve, check a configuration, bootstrap a tenant's first admin, or
//! verify the audit log.
//!
//! Exit codes follow the scheme both programs share ([`fieldsales_server::exit`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fieldsales_server::bootstrap::{BootstrapArgs, bootstrap_on_host};
use fieldsales_server::exit::{EXIT_CODES_HELP, ExitKind};
use fieldsales_server::{Config, run, shutdown_signal};

/// mimalloc rather than the system allocator: under a flood the system allocator kept freed
/// memory in one arena per thread (1.4 GB resident after the inflate flood of the `flood`
/// bench, whose inflated bytes are bounded at 256 MB); mimalloc hands it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

#[tokio::main]
async fn main() -> ExitCode {
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
    let reports = match fieldsales_server::audit::verify::configured(&config).await {
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

async fn serve(config: Config) -> ExitCode {
    if let Err(e) = fieldsales_server::telemetry::init_logging(&config.log) {
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
