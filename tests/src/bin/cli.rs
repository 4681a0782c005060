//! The `fieldsales-server` command line itself (`fieldsales_server::cli`), as a binary the
//! end-to-end tests can name: they back up and restore a running test server with it, as an
//! operator would with `fieldsales-server`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    fieldsales_server::cli::main().await
}
