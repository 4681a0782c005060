//! The `fieldsales-server` binary: its command line is [`fieldsales_server::cli`].
//!
//! Exit codes follow the scheme both programs share ([`fieldsales_server::exit`]).

use std::process::ExitCode;

/// mimalloc rather than the system allocator: under a flood the system allocator kept freed
/// memory in one arena per thread (1.4 GB resident after the inflate flood of the `flood`
/// bench, whose inflated bytes are bounded at 256 MB); mimalloc hands it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    fieldsales_server::cli::main().await
}
