//! Moving customers, contacts and products between spreadsheets (CSV, Excel) and a store.
//!
//! An admin rolling Fieldsales out starts from spreadsheets: the old CRM's export, finance's
//! product list. An import must therefore be safe to run on a messy file and safe to run
//! twice:
//!
//! - every row is checked before anything is written (required fields, coordinates on the
//!   earth, a known owner and customer, the duplicate check against the store *and* against
//!   the rows above it), and each bad row is reported with its row number as the spreadsheet
//!   shows it and every reason it failed;
//! - the rows that pass are written in one transaction: all of them or, on any failure,
//!   none, so a file is never half-imported;
//! - a row whose record is already in the store (same name, same owner; same product code
//!   and name; same contact at the same customer) is reported as already present, not
//!   created again, so re-importing a file after fixing its bad rows adds only those;
//! - `dry_run` does all the checking and writes nothing.
//!
//! Exports write the same columns the import reads, so a file round-trips.

mod columns;
mod contacts;
mod customers;
mod directory;
mod export;
mod import;
mod products;
mod table;

use std::fmt;
use std::path::PathBuf;

use fieldsales_core::RecordId;
use serde::{Deserialize, Serialize};

use crate::exit::ExitKind;

pub use columns::{Columns, Field, fold_header};
pub use export::{ExportReport, HeaderLanguage, export_file};
pub use fieldsales_core::store::DEFAULT_NEAR_THRESHOLD;
pub use import::{ImportOptions, check, import_file};
pub use table::{Cell, FileFormat, Row, Table, read_table, read_table_bytes};

/// The kinds of record moved through files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// Customer companies.
    Customers,
    /// People at customers.
    Contacts,
    /// The product catalogue.
    Products,
}

impl Entity {
    /// The columns of this kind, in export order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Entity::Customers => customers::FIELDS,
            Entity::Contacts => contacts::FIELDS,
            Entity::Products => products::FIELDS,
        }
    }

    /// The plural name, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Customers => "customers",
            Entity::Contacts => "contacts",
            Entity::Products => "products",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a whole file could not be imported or exported.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file name's extension is not a format this reads or writes.
    #[error("{path}: unsupported file type `.{extension}`; use {supported}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Its extension (lower case; empty when it has none).
        extension: String,
        /// The extensions that work.
        supported: &'static str,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a workbook calamine can read (a renamed text file, a damaged file).
    #[error("{path} is not a readable workbook: {detail}")]
    NotAWorkbook {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        detail: String,
    },
    /// The CSV text is malformed.
    #[error("{path}: malformed CSV{}: {detail}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line, when known.
        line: Option<u64>,
        /// What the parser said.
        detail: String,
    },
    /// The CSV text is neither UTF-8 nor GB18030.
    #[error("{path}: text is neither UTF-8 nor GB18030 (GBK); save the file as UTF-8 CSV")]
    Encoding {
        /// The file.
        path: PathBuf,
    },
    /// The workbook has no sheet of that name.
    #[error("{path} has no sheet `{sheet}`; its sheets are: {}", sheets.join(", "))]
    NoSuchSheet {
        /// The file.
        path: PathBuf,
        /// The sheet asked for.
        sheet: String,
        /// The sheets it has.
        sheets: Vec<String>,
    },
    /// No header row: the file (or sheet) has no non-blank row at all.
    #[error("{path}{} is empty: expected a header row, then one row per record", sheet.as_ref().map(|s| format!(" (sheet `{s}`)")).unwrap_or_default())]
    Empty {
        /// The file.
        path: PathBuf,
        /// The sheet read, for workbooks.
        sheet: Option<String>,
    },
    /// Required columns are not in the header row.
    #[error(
        "the header (row {header_row}) lacks required column(s) {}; it has: {}",
        missing.join(", "),
        if found.is_empty() { "nothing".to_owned() } else { found.join(", ") }
    )]
    MissingColumns {
        /// The required fields with no column.
        missing: Vec<&'static str>,
        /// The headers the file has.
        found: Vec<String>,
        /// Where the header is.
        header_row: usize,
    },
    /// Two columns name the same field.
    #[error("the header (row {header_row}) gives {field} twice: `{first}` and `{second}`")]
    DuplicateColumn {
        /// The field.
        field: &'static str,
        /// The first column's header.
        first: String,
        /// The second column's header.
        second: String,
        /// Where the header is.
        header_row: usize,
    },
    /// The owner given for rows that name none does not resolve.
    #[error("--owner `{value}`: {reason}")]
    DefaultOwner {
        /// The value given.
        value: String,
        /// Why it does not resolve.
        reason: Reason,
    },
    /// The workbook could not be written.
    #[error("cannot write {path}: {detail}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The store failed; nothing of the import was written.
    #[error("store: {0}")]
    Store(#[from] fieldsales_core::Error),
}

impl TransferError {
    /// The exit code this failure warrants.
    pub fn exit_kind(&self) -> ExitKind {
        match self {
            TransferError::UnsupportedFormat { .. } => ExitKind::Usage,
            TransferError::NotAWorkbook { .. }
            | TransferError::Csv { .. }
            | TransferError::Encoding { .. }
            | TransferError::NoSuchSheet { .. }
            | TransferError::Empty { .. }
            | TransferError::MissingColumns { .. }
            | TransferError::DuplicateColumn { .. }
            | TransferError::DefaultOwner { .. } => ExitKind::Refused,
            TransferError::Io { .. } | TransferError::Write { .. } | TransferError::Store(_) => {
                ExitKind::Other
            }
        }
    }

    /// A stable code for scripts (`--json`).
    pub fn code(&self) -> &'static str {
        match self {
            TransferError::UnsupportedFormat { .. } => "unsupported_format",
            TransferError::Io { .. } => "io",
            TransferError::NotAWorkbook { .. } => "not_a_workbook",
            TransferError::Csv { .. } => "malformed_csv",
            TransferError::Encoding { .. } => "unknown_encoding",
            TransferError::NoSuchSheet { .. } => "no_such_sheet",
            TransferError::Empty { .. } => "empty_file",
            TransferError::MissingColumns { .. } => "missing_columns",
            TransferError::DuplicateColumn { .. } => "duplicate_column",
            TransferError::DefaultOwner { .. } => "unknown_default_owner",
            TransferError::Write { .. } => "write_failed",
            TransferError::Store(_) => "store",
        }
    }
}

/// Why one row was refused.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// A required value is empty.
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A value cannot be read as what the field holds.
    BadValue {
        /// The field.
        field: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// Latitude and longitude are not a point on the earth, or only one of them is given.
    BadCoordinates {
        /// What is wrong.
        detail: String,
    },
    /// The owner names no user of the store.
    UnknownOwner {
        /// The value given.
        value: String,
    },
    /// The owner's name fits several users; give the employee number.
    AmbiguousOwner {
        /// The value given.
        value: String,
        /// How many users have that name.
        matches: usize,
    },
    /// The owner's account is deactivated.
    InactiveOwner {
        /// The value given.
        value: String,
    },
    /// The customer a contact belongs to is not in the store.
    UnknownCustomer {
        /// The value given.
        value: String,
    },
    /// The customer name fits several customers; give the customer's id.
    AmbiguousCustomer {
        /// The value given.
        value: String,
        /// How many customers go by that name.
        matches: usize,
    },
    /// A row above in the same file is the same record.
    DuplicateInFile {
        /// The field that makes them the same.
        field: &'static str,
        /// The row it repeats.
        first_row: usize,
    },
    /// The duplicate check found this customer in the store under another spelling or
    /// another owner.
    DuplicateCustomer {
        /// The existing customer.
        #[schema(value_type = String, format = Uuid)]
        existing_id: RecordId,
        /// Its legal name.
        existing_name: String,
        /// How alike the names are (1.0: the same normalised name).
        score: f64,
        /// Whether the existing customer is deleted (voided).
        deleted: bool,
    },
    /// The product code belongs to another product.
    ProductCodeTaken {
        /// The existing product.
        #[schema(value_type = String, format = Uuid)]
        existing_id: RecordId,
        /// Its name.
        existing_name: String,
    },
    /// The record breaks one of its own rules (length limits, formats).
    Invalid {
        /// What the record check said.
        detail: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MissingField { field } => write!(f, "{field} is required"),
            Reason::BadValue {
                field,
                value,
                expected,
            } => write!(f, "{field}: `{value}` is not {expected}"),
            Reason::BadCoordinates { detail } => write!(f, "bad coordinates: {detail}"),
            Reason::UnknownOwner { value } => write!(f, "unknown owner `{value}`"),
            Reason::AmbiguousOwner { value, matches } => write!(
                f,
                "owner `{value}` fits {matches} users; give the employee number"
            ),
            Reason::InactiveOwner { value } => write!(f, "owner `{value}` is deactivated"),
            Reason::UnknownCustomer { value } => write!(f, "unknown customer `{value}`"),
            Reason::AmbiguousCustomer { value, matches } => write!(
                f,
                "customer `{value}` fits {matches} customers; give the customer id"
            ),
            Reason::DuplicateInFile { field, first_row } => {
                write!(f, "duplicate of row {first_row} (same {field})")
            }
            Reason::DuplicateCustomer {
                existing_id,
                existing_name,
                score,
                deleted,
            } => write!(
                f,
                "duplicate of existing {}customer `{existing_name}` ({existing_id}, similarity {score:.2})",
                if *deleted { "deleted " } else { "" }
            ),
            Reason::ProductCodeTaken {
                existing_id,
                existing_name,
            } => write!(
                f,
                "product code belongs to `{existing_name}` ({existing_id})"
            ),
            Reason::Invalid { detail } => f.write_str(detail),
        }
    }
}

/// A refused row and every reason it was refused.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// Why, all of it.
    pub reasons: Vec<Reason>,
}

/// A row whose record the store holds already.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlreadyPresent {
    /// The row number.
    pub row: usize,
    /// The record in the store.
    #[schema(value_type = String, format = Uuid)]
    pub existing_id: RecordId,
}

/// A row imported with a warning: a customer whose name is close to an existing one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NearDuplicateWarning {
    /// The row number.
    pub row: usize,
    /// The existing customer.
    #[schema(value_type = String, format = Uuid)]
    pub existing_id: RecordId,
    /// Its legal name.
    pub existing_name: String,
    /// How alike the names are.
    pub score: f64,
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// What was imported.
    pub entity: Entity,
    /// The file.
    #[schema(value_type = String)]
    pub file: PathBuf,
    /// The sheet read, for workbooks.
    pub sheet: Option<String>,
    /// Nothing was written.
    pub dry_run: bool,
    /// Non-blank data rows read.
    pub rows: usize,
    /// Records created (on a dry run: that would be created).
    pub imported: usize,
    /// Rows whose record is in the store already: not created again.
    pub already_present: Vec<AlreadyPresent>,
    /// Rows refused, with their reasons.
    pub rejected: Vec<RowProblem>,
    /// Rows imported with a near-duplicate warning.
    pub warnings: Vec<NearDuplicateWarning>,
    /// Header cells that name no field (their columns were not read).
    pub ignored_columns: Vec<String>,
}

impl ImportReport {
    /// The exit code: refused rows make the run "refused input" even though the valid rows
    /// were imported, so a script notices.
    pub fn exit_kind(&self) -> ExitKind {
        if self.rejected.is_empty() {
            ExitKind::Ok
        } else {
            ExitKind::Refused
        }
    }
}

/// Progress of a long step, for whoever shows it (a terminal bar, a phone's spinner).
pub trait Progress {
    /// A step starts; `total` units of work when known.
    fn start(&self, step: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The step is over.
    fn finish(&self);
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _step: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
