//! `fieldsales import` and `fieldsales export`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use fieldsales_cli::ExitKind;
use fieldsales_cli::transfer::{
    Entity, HeaderLanguage, ImportOptions, ImportReport, TransferError, export_file, import_file,
};
use fieldsales_core::store::{DEFAULT_NEAR_THRESHOLD, Store};

use crate::CommandResult;
use crate::output::{Failure, Output};

/// What to move.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Customer companies.
    Customers,
    /// People at customers (their customers must be in the store).
    Contacts,
    /// The product catalogue.
    Products,
}

impl From<Kind> for Entity {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Customers => Entity::Customers,
            Kind::Contacts => Entity::Contacts,
            Kind::Products => Entity::Products,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    kind: Kind,
    /// A .csv or .xlsx file (.xlsm, .xls and .ods are read too); headers in English or
    /// Chinese (legal_name / 客户名称 ...).
    file: PathBuf,
    /// The local store to import into (created when missing).
    #[arg(long, value_name = "DB")]
    store: PathBuf,
    /// Owner of rows without an owner column value: a user's employee number, name or id.
    #[arg(long, value_name = "USER")]
    owner: Option<String>,
    /// The sheet to read; the first when absent.
    #[arg(long)]
    sheet: Option<String>,
    /// Check every row and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Warn about customers whose name is at least this similar (0-1) to an existing one.
    #[arg(long, value_name = "SCORE", default_value_t = DEFAULT_NEAR_THRESHOLD)]
    near_threshold: f64,
    /// How many refused rows to list in the text report.
    #[arg(long, value_name = "N", default_value_t = 50)]
    show: usize,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Headers {
    /// Field keys (legal_name ...), stable for scripts.
    #[default]
    En,
    /// Chinese names (客户名称 ...).
    Zh,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    kind: Kind,
    /// The .csv or .xlsx file to write (replaced whole).
    file: PathBuf,
    /// The local store to read.
    #[arg(long, value_name = "DB")]
    store: PathBuf,
    /// Header language.
    #[arg(long, value_enum, default_value_t = Headers::En)]
    headers: Headers,
}

pub fn import(args: ImportArgs, out: &Output) -> CommandResult {
    if !(0.0..=1.0).contains(&args.near_threshold) {
        return Err(Failure::new(
            ExitKind::Usage,
            "invalid_argument",
            anyhow::anyhow!("--near-threshold must be between 0 and 1"),
        ));
    }
    let mut store = open_store(&args.store)?;
    let options = ImportOptions {
        dry_run: args.dry_run,
        sheet: args.sheet,
        default_owner: args.owner,
        near_threshold: args.near_threshold,
    };
    let progress = out.progress();
    let report = import_file(
        &mut store,
        args.kind.into(),
        &args.file,
        &options,
        &progress,
    )
    .map_err(transfer_failure)?;
    out.result(&report, |w| print_report(w, &report, args.show));
    Ok(report.exit_kind())
}

fn print_report(w: &mut dyn Write, r: &ImportReport, show: usize) -> std::io::Result<()> {
    let verb = if r.dry_run {
        "would import"
    } else {
        "imported"
    };
    writeln!(
        w,
        "{}{}: {} rows read; {verb} {} {}; {} already present; {} refused",
        r.file.display(),
        r.sheet
            .as_ref()
            .map(|s| format!(" (sheet `{s}`)"))
            .unwrap_or_default(),
        r.rows,
        r.imported,
        r.entity,
        r.already_present.len(),
        r.rejected.len()
    )?;
    if r.dry_run {
        writeln!(w, "dry run: nothing was written")?;
    }
    if !r.ignored_columns.is_empty() {
        writeln!(w, "ignored columns: {}", r.ignored_columns.join(", "))?;
    }
    for problem in r.rejected.iter().take(show) {
        let reasons: Vec<String> = problem.reasons.iter().map(ToString::to_string).collect();
        writeln!(w, "  row {}: {}", problem.row, reasons.join("; "))?;
    }
    if r.rejected.len() > show {
        writeln!(
            w,
            "  ... and {} more refused rows (--show N, or --json for all)",
            r.rejected.len() - show
        )?;
    }
    if !r.warnings.is_empty() {
        writeln!(
            w,
            "{} row(s) imported with a close existing name, check them:",
            r.warnings.len()
        )?;
        for warning in r.warnings.iter().take(show) {
            writeln!(
                w,
                "  row {}: close to `{}` ({}, similarity {:.2})",
                warning.row, warning.existing_name, warning.existing_id, warning.score
            )?;
        }
    }
    Ok(())
}

pub fn export(args: ExportArgs, out: &Output) -> CommandResult {
    if !args.store.exists() {
        return Err(Failure::new(
            ExitKind::Usage,
            "store_not_found",
            anyhow::anyhow!("no store at {}", args.store.display()),
        ));
    }
    let store = open_store(&args.store)?;
    let headers = match args.headers {
        Headers::En => HeaderLanguage::English,
        Headers::Zh => HeaderLanguage::Chinese,
    };
    let progress = out.progress();
    let report = export_file(&store, args.kind.into(), &args.file, headers, &progress)
        .map_err(transfer_failure)?;
    out.result(&report, |w| {
        writeln!(
            w,
            "exported {} {} to {}",
            report.rows,
            report.entity,
            report.file.display()
        )
    });
    Ok(ExitKind::Ok)
}

fn open_store(path: &std::path::Path) -> Result<Store, Failure> {
    Store::open(path).map_err(|e| {
        let kind = match e {
            fieldsales_core::Error::NewerDatabase { .. } => ExitKind::Refused,
            _ => ExitKind::Other,
        };
        Failure::new(
            kind,
            "cannot_open_store",
            anyhow::anyhow!("cannot open the store {}: {e}", path.display()),
        )
    })
}

fn transfer_failure(e: TransferError) -> Failure {
    Failure::new(e.exit_kind(), e.code(), e)
}
