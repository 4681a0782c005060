//! Exit codes, one scheme for both programs (`fieldsales-server` and `fieldsales`): what a
//! script or a service manager may branch on.
//!
//! A script cannot parse an error message reliably, so the kind of failure is in the exit
//! code, and the detail in the message (or, for `fieldsales --json`, the JSON object on
//! standard output).
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | done |
//! | 1 | any other failure (I/O, a damaged database, a bug) |
//! | 2 | usage: unknown command or option, missing argument, unsupported file type, no password given, no such backup folder |
//! | 3 | refused: a validation or business rule said no (a bad configuration, a weak password, a tenant or login that exists, an unknown account or device, bad rows in an import, a duplicate, a process file with errors, a database newer than the program, a stage move the rules refuse: the JSON error names the `rule`; a backup of PostgreSQL storage, a backup that never finished or is damaged, a non-empty target or data folder, a server still running) |
//! | 4 | authentication: the server refused the credentials or the caller is not an admin, or the account or device is revoked |
//! | 5 | network: an address could not be listened on or a server could not be reached |

use std::process::ExitCode;

use crate::RunError;
use crate::backup::BackupError;
use crate::bootstrap::BootstrapError;
use crate::store::StoreError;

/// The exit codes, for the programs' `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes (the same for fieldsales and fieldsales-server):
  0  done
  1  any other failure (I/O, a damaged database)
  2  usage: unknown command or option, missing argument, unsupported file type, no password,
     no such backup folder
  3  refused: a bad configuration, a weak password, a tenant or login that exists, an
     unknown account or device, bad rows in an import, a duplicate, a process file with
     errors, a database newer than the program, a business rule (a stage move, a discount;
     the rule's code is in the message and in the JSON error's `rule`); a backup of
     PostgreSQL storage, an unfinished or damaged backup, a target or data folder that is
     not empty, a server still running on the data
  4  authentication refused, not an admin, or the account or device revoked
  5  network: an address could not be listened on, a server could not be reached";

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

    /// The kind of a server that could not start or stopped serving.
    pub fn of_run(e: &RunError) -> ExitKind {
        match e {
            RunError::Serve(_) => ExitKind::Network,
            RunError::Store(StoreError::SchemaTooNew { .. }) => ExitKind::Refused,
            RunError::DataDir { .. } | RunError::Store(_) | RunError::Passwords(_) => {
                ExitKind::Other
            }
        }
    }

    /// The kind of a backup, restore or new epoch that failed.
    pub fn of_backup(e: &BackupError) -> ExitKind {
        match e {
            BackupError::NoBackup { .. } => ExitKind::Usage,
            BackupError::Postgres
            | BackupError::NoData { .. }
            | BackupError::TargetNotEmpty { .. }
            | BackupError::Unfinished { .. }
            | BackupError::BadManifest { .. }
            | BackupError::Damaged { .. }
            | BackupError::DataNotEmpty { .. }
            | BackupError::ServerRunning { .. }
            | BackupError::Store(StoreError::SchemaTooNew { .. }) => ExitKind::Refused,
            BackupError::Sqlite { .. } | BackupError::Io { .. } | BackupError::Store(_) => {
                ExitKind::Other
            }
        }
    }

    /// The kind of a bootstrap that failed.
    pub fn of_bootstrap(e: &BootstrapError) -> ExitKind {
        match e {
            BootstrapError::NoPassword => ExitKind::Usage,
            BootstrapError::WeakPassword(_)
            | BootstrapError::Store(
                StoreError::TenantExists { .. }
                | StoreError::LoginTaken { .. }
                | StoreError::ProfileTaken { .. },
            ) => ExitKind::Refused,
            BootstrapError::Open(run) => ExitKind::of_run(run),
            BootstrapError::Stdin(_) | BootstrapError::Password(_) | BootstrapError::Store(_) => {
                ExitKind::Other
            }
        }
    }
}

impl From<ExitKind> for ExitCode {
    fn from(kind: ExitKind) -> Self {
        ExitCode::from(kind.code())
    }
}
