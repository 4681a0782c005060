//! `fieldsales admin config check|load`: a sales-process TOML file, checked here with every
//! problem listed by line and field, and loaded through the admin API only when it is valid.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use fieldsales_cli::ExitKind;
use fieldsales_core::process::{ConfigErrors, SalesProcess};
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::api::AdminRecord;
use serde::Serialize;

use super::{ApiAccess, StdinLines, admin_password, api_failure, with_api};
use crate::CommandResult;
use crate::output::{Failure, Output};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a sales-process TOML file; every problem is listed with its line and field.
    Check {
        /// The file.
        file: PathBuf,
    },
    /// Check a sales-process TOML file and, when it is valid, make it the tenant's process
    /// configuration; every device picks it up at its next sync. A file with problems is
    /// listed as `check` lists it and nothing is sent.
    Load {
        /// The file.
        file: PathBuf,
        /// The configuration's revision number; the load time (seconds since 1970) when
        /// absent, so a later load has a higher one.
        #[arg(long)]
        revision: Option<i64>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

pub fn run(command: ConfigCommand, out: &Output) -> CommandResult {
    match command {
        ConfigCommand::Check { file } => check(&file, out),
        ConfigCommand::Load {
            file,
            revision,
            api,
        } => load(&file, revision, &api, out),
    }
}

/// A valid file, as `check` reports it.
#[derive(Serialize)]
struct Valid<'a> {
    ok: bool,
    name: &'a str,
    stages: usize,
    roles: usize,
}

/// One problem of a refused file.
#[derive(Serialize)]
struct Problem {
    line: usize,
    column: usize,
    field: String,
    problem: String,
}

/// A refused file.
#[derive(Serialize)]
struct Refused {
    ok: bool,
    errors: Vec<Problem>,
}

/// A loaded file.
#[derive(Serialize)]
struct Loaded<'a> {
    id: RecordId,
    name: &'a str,
    revision: i64,
    stages: usize,
}

fn check(file: &Path, out: &Output) -> CommandResult {
    let text = read(file)?;
    match SalesProcess::from_toml(&text) {
        Ok(process) => {
            let view = Valid {
                ok: true,
                name: &process.name,
                stages: process.stages.len(),
                roles: process.roles.len(),
            };
            out.result(&view, |w| {
                writeln!(
                    w,
                    "{}: process `{}` is valid ({} stages, {} roles)",
                    file.display(),
                    view.name,
                    view.stages,
                    view.roles
                )
            });
            Ok(ExitKind::Ok)
        }
        Err(errors) => {
            print_errors(out, file, &errors);
            Ok(ExitKind::Refused)
        }
    }
}

fn read(file: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(file).map_err(|e| {
        Failure::new(
            ExitKind::Other,
            "io",
            anyhow::anyhow!("{}: {e}", file.display()),
        )
    })
}

fn print_errors(out: &Output, file: &Path, errors: &ConfigErrors) {
    let view = Refused {
        ok: false,
        errors: errors
            .0
            .iter()
            .map(|e| Problem {
                line: e.line,
                column: e.column,
                field: e.field.to_string(),
                problem: e.problem.to_string(),
            })
            .collect(),
    };
    out.result(&view, |w| {
        for e in &view.errors {
            writeln!(
                w,
                "{}:{}:{}: {}: {}",
                file.display(),
                e.line,
                e.column,
                e.field,
                e.problem
            )?;
        }
        writeln!(w, "{} problem(s); the file is refused", view.errors.len())
    });
}

/// Checks the file here, then loads it: a file with problems never reaches the server.
fn load(file: &Path, revision: Option<i64>, api: &ApiAccess, out: &Output) -> CommandResult {
    let text = read(file)?;
    let process = match SalesProcess::from_toml(&text) {
        Ok(p) => p,
        Err(errors) => {
            print_errors(out, file, &errors);
            return Ok(ExitKind::Refused);
        }
    };
    let revision = revision.unwrap_or_else(|| Timestamp::now().millis() / 1000);
    if revision < 0 {
        return Err(Failure::new(
            ExitKind::Usage,
            "invalid_argument",
            anyhow::anyhow!("--revision: must not be negative"),
        ));
    }
    let password = admin_password(&mut StdinLines::default())?;
    with_api(api, password, |admin| async move {
        let written = admin
            .write_record(&AdminRecord::ProcessConfig {
                toml: text,
                revision,
            })
            .await
            .map_err(api_failure)?;
        let view = Loaded {
            id: written.id,
            name: &process.name,
            revision,
            stages: process.stages.len(),
        };
        out.result(&view, |w| {
            writeln!(
                w,
                "process `{}` (revision {revision}, {} stages) loaded as {}; devices pick it \
                 up at their next sync",
                view.name, view.stages, view.id
            )
        });
        Ok(ExitKind::Ok)
    })
}
