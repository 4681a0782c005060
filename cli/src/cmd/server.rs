//! `fieldsales server`: the sync server, stopped by Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use fieldsales_cli::ExitKind;
use fieldsales_server::{RunError, shutdown_signal};
use serde::Serialize;

use crate::CommandResult;
use crate::output::{Failure, Output};

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Directory of the database (SQLite, created on first start).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Address and port to listen on; port 0 picks a free one (printed at start).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Configuration file (TOML); `$FIELDSALES_CONFIG` when absent. `FIELDSALES_*`
    /// variables override it, and --data and --listen override both.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Serialize)]
struct Listening {
    listening: String,
    data_dir: PathBuf,
}

pub fn run(args: ServerArgs, out: &Output) -> CommandResult {
    let config = super::server_config(args.config.as_deref(), args.data.as_deref(), args.listen)?;
    fieldsales_server::telemetry::init_logging(&config.log)
        .map_err(|e| Failure::new(ExitKind::Other, "logging", e))?;
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        // Storage is opened (and the data directory created) before announcing the address,
        // so a refused database stops the start with its reason, not the first request.
        fieldsales_server::open_store(&config)
            .await
            .map_err(run_failure)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| {
                Failure::new(
                    ExitKind::Network,
                    "cannot_listen",
                    anyhow::anyhow!("cannot listen on {}: {e}", config.listen),
                )
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure::new(ExitKind::Network, "cannot_listen", e))?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let listening = Listening {
            listening: format!("{scheme}://{address}"),
            data_dir: config.data_dir.clone(),
        };
        // Ctrl-C is taken over before the address is announced.
        let shutdown = shutdown_signal();
        out.result(&listening, |w| {
            writeln!(
                w,
                "fieldsales server listening on {} (data in {}); Ctrl-C stops it",
                listening.listening,
                listening.data_dir.display()
            )
        });
        fieldsales_server::run(config, listener, shutdown)
            .await
            .map_err(run_failure)?;
        Ok(ExitKind::Ok)
    })
}

fn run_failure(e: RunError) -> Failure {
    let code = match &e {
        RunError::Serve(_) => "serve_failed",
        RunError::Store(fieldsales_server::StoreError::SchemaTooNew { .. }) => "database_too_new",
        RunError::DataDir { .. } | RunError::Store(_) | RunError::Passwords(_) => "cannot_start",
    };
    Failure::new(ExitKind::of_run(&e), code, e)
}
