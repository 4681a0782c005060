//! Exit codes: what a script calling `fieldsales` may branch on.
//!
//! A script cannot parse an error message reliably, so the kind of failure is in the exit
//! code, and the detail in the message (or the `--json` object on standard output).
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | done |
//! | 1 | any other failure (I/O, a damaged database, a bug) |
//! | 2 | usage: unknown command or option, missing argument, unsupported file type |
//! | 3 | refused input: a validation or business rule said no (bad rows in an import, a duplicate, a weak password, a tenant that exists, an unknown account or device, a process file with errors, a stage move the rules refuse: the JSON error names the `rule`) |
//! | 4 | authentication: the server refused the credentials or the caller is not an admin, or the account or device is revoked |
//! | 5 | network: an address could not be listened on or a server could not be reached |

use std::process::ExitCode;

/// The kind of outcome, one exit code each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    /// Done.
    Ok,
    /// Any failure not listed below.
    Other,
    /// The command line itself is wrong.
    Usage,
    /// The input was understood and refused by a validation or business rule.
    Refused,
    /// Credentials refused, or the account or device revoked.
    Auth,
    /// Listening or reaching a server failed.
    Network,
}

impl ExitKind {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            ExitKind::Ok => 0,
            ExitKind::Other => 1,
            ExitKind::Usage => 2,
            ExitKind::Refused => 3,
            ExitKind::Auth => 4,
            ExitKind::Network => 5,
        }
    }
}

impl From<ExitKind> for ExitCode {
    fn from(kind: ExitKind) -> Self {
        ExitCode::from(kind.code())
    }
}
