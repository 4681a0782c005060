//! One module per command.

pub mod admin;
pub mod demo;
pub mod device;
pub mod server;
pub mod transfer;

use std::path::Path;

use fieldsales_cli::ExitKind;
use fieldsales_server::Config;

use crate::output::Failure;

/// The server configuration: defaults, the file, `FIELDSALES_*` variables, then the command
/// line's `--data` and `--listen`.
pub fn server_config(
    file: Option<&Path>,
    data: Option<&Path>,
    listen: Option<std::net::SocketAddr>,
) -> Result<Config, Failure> {
    let mut config = Config::load_from_process(file)
        .map_err(|e| Failure::new(ExitKind::Refused, "invalid_config", e))?;
    if let Some(dir) = data {
        config.data_dir = dir.to_owned();
    }
    if let Some(address) = listen {
        config.listen = address;
    }
    Ok(config)
}

/// A runtime for the commands that talk to the server's storage or network.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(ExitKind::Other, "runtime", e))
}
