//! The library half of the `fieldsales` command line.
//!
//! What the command line does that another front end could want too (moving customers,
//! contacts and products between spreadsheets and a local store) lives here rather than in
//! the binary, so the phone bindings can reuse it without a process in between. The binary
//! keeps only argument parsing, terminal output and the choice of exit code.

pub mod admin_api;
pub mod demo;
/// Moving customers, contacts and products between spreadsheets and a store: shared with the
/// server, whose admin console imports through the same checks.
pub use fieldsales_server::transfer;

/// Exit codes: one scheme for this command line and the server program.
pub use fieldsales_server::exit::{self, ExitKind};
