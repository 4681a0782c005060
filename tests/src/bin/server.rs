//! The sync server as a separate process for the crash tests: configuration from
//! `FIELDSALES_*` variables (data directory and listen address), SIGTERM stops it.

use fieldsales_server::{Config, run, shutdown_signal};

#[tokio::main]
async fn main() {
    let config = match Config::load_from_process(None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration refused: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", config.listen);
            std::process::exit(2);
        }
    };
    if let Err(e) = run(config, listener, shutdown_signal()).await {
        eprintln!("server failed: {e}");
        std::process::exit(1);
    }
}
