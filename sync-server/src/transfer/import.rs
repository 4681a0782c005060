//! The import: check every row, then write the valid ones in one transaction.

use std::collections::HashMap;
use std::path::Path;

use fieldsales_core::record::AnyRecord;
use fieldsales_core::store::{DEFAULT_NEAR_THRESHOLD, Store, StoreRead};
use fieldsales_core::{RecordId, Timestamp};

use super::directory::{Customers, Directory};
use super::{
    AlreadyPresent, Columns, Entity, ImportReport, NearDuplicateWarning, Progress, Reason, Row,
    RowProblem, Table, TransferError, contacts, customers, products, read_table,
};

/// How to import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// The sheet of a workbook to read; the first when absent.
    pub sheet: Option<String>,
    /// The owner of rows that name none (a user id, employee number or name).
    pub default_owner: Option<String>,
    /// From which similarity a customer name close to an existing one is warned about.
    pub near_threshold: f64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            dry_run: false,
            sheet: None,
            default_owner: None,
            near_threshold: DEFAULT_NEAR_THRESHOLD,
        }
    }
}

/// Imports `entity` records from `path` into `store`.
///
/// Returns the report even when rows were refused (the valid ones are imported); returns an
/// error, with nothing written, when the file cannot be read as a whole or the store fails.
pub fn import_file(
    store: &mut Store,
    entity: Entity,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, TransferError> {
    progress.start("reading", None);
    let table = read_table(path, options.sheet.as_deref());
    progress.finish();
    let table = table?;
    let now = store.clock().now();
    let (mut report, new_records) = check(&*store, entity, &table, path, options, progress, now)?;
    if !options.dry_run && !new_records.is_empty() {
        progress.start("writing", None);
        let written = store.create_batch(new_records);
        progress.finish();
        report.imported = written?;
    }
    Ok(report)
}

/// Checks every row of `table` (read from `file`) against `read` and against the rows above
/// it: the report, and the records to create (none of them written). The caller writes them
/// all in one transaction, or none on a dry run: a device's store ([`import_file`]) or the
/// server's (the admin console's import).
pub fn check(
    read: &impl StoreRead,
    entity: Entity,
    table: &Table,
    file: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
    now: Timestamp,
) -> Result<(ImportReport, Vec<AnyRecord>), TransferError> {
    let columns = Columns::map(entity.fields(), &table.headers, table.header_row)?;
    let directory = Directory::load(read)?;
    let default_owner = match &options.default_owner {
        None => None,
        Some(value) => {
            Some(
                directory
                    .owner(value)
                    .map_err(|reason| TransferError::DefaultOwner {
                        value: value.clone(),
                        reason,
                    })?,
            )
        }
    };
    let mut context = Context {
        directory,
        customers: Customers::default(),
        default_owner,
        now,
    };

    let mut report = ImportReport {
        entity,
        file: file.to_owned(),
        sheet: table.sheet.clone(),
        dry_run: options.dry_run,
        rows: table.rows.len(),
        imported: 0,
        already_present: Vec::new(),
        rejected: Vec::new(),
        warnings: Vec::new(),
        ignored_columns: columns.ignored.clone(),
    };
    let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
    let mut new_records: Vec<AnyRecord> = Vec::new();

    progress.start("checking rows", Some(table.rows.len() as u64));
    for row in &table.rows {
        let mut view = RowView::new(row, &columns);
        let candidate = match entity {
            Entity::Customers => customers::parse(&mut view, &context),
            Entity::Contacts => contacts::parse(&mut view, read, &mut context)?,
            Entity::Products => products::parse(&mut view, &context),
        };
        progress.advance(1);
        let candidate = match candidate {
            Some(c) if view.problems.is_empty() => c,
            _ => {
                report.rejected.push(RowProblem {
                    row: row.number,
                    reasons: view.problems,
                });
                continue;
            }
        };
        if let Some((field, first_row)) = candidate
            .keys
            .iter()
            .find_map(|k| seen.get(k).map(|first| (k.0, *first)))
        {
            report.rejected.push(RowProblem {
                row: row.number,
                reasons: vec![Reason::DuplicateInFile { field, first_row }],
            });
            continue;
        }
        let verdict = match &candidate.record {
            AnyRecord::Customer(c) => customers::check_store(read, c, options.near_threshold)?,
            AnyRecord::Contact(c) => contacts::check_store(read, c)?,
            AnyRecord::Product(p) => products::check_store(read, p)?,
            _ => Verdict::New { near: Vec::new() },
        };
        match verdict {
            Verdict::Refused(reason) => {
                report.rejected.push(RowProblem {
                    row: row.number,
                    reasons: vec![reason],
                });
                continue;
            }
            Verdict::Present(existing_id) => report.already_present.push(AlreadyPresent {
                row: row.number,
                existing_id,
            }),
            Verdict::New { near } => {
                report
                    .warnings
                    .extend(near.into_iter().map(|n| NearDuplicateWarning {
                        row: row.number,
                        ..n
                    }));
                new_records.push(candidate.record);
            }
        }
        for key in candidate.keys {
            seen.entry(key).or_insert(row.number);
        }
    }
    progress.finish();
    report.imported = new_records.len();
    Ok((report, new_records))
}

/// What a row refers to, resolved once per import.
pub(super) struct Context {
    pub(super) directory: Directory,
    pub(super) customers: Customers,
    pub(super) default_owner: Option<RecordId>,
    pub(super) now: Timestamp,
}

/// The owner of a row.
pub(super) enum Owner {
    /// The row's owner column, else the default owner.
    Resolved(RecordId),
    /// Neither the row nor the command names one.
    NotGiven,
    /// The row names one that does not resolve (the problem is recorded).
    Refused,
}

impl Context {
    /// The owner a row names, else the default.
    pub(super) fn owner(&self, view: &mut RowView<'_>) -> Owner {
        let before = view.problems.len();
        match view.text("owner") {
            Some(value) => match self.directory.owner(&value) {
                Ok(id) => Owner::Resolved(id),
                Err(reason) => {
                    view.problems.push(reason);
                    Owner::Refused
                }
            },
            None if view.problems.len() > before => Owner::Refused,
            None => match self.default_owner {
                Some(id) => Owner::Resolved(id),
                None => Owner::NotGiven,
            },
        }
    }
}

/// A row turned into a record, with the keys that make two rows the same record.
pub(super) struct Candidate {
    pub(super) record: AnyRecord,
    pub(super) keys: Vec<(&'static str, String)>,
}

/// What the store says about a candidate.
pub(super) enum Verdict {
    /// Not in the store: create it (with near-duplicate warnings, rows filled in later).
    New { near: Vec<NearDuplicateWarning> },
    /// The store holds this record already.
    Present(RecordId),
    /// The store holds a conflicting record.
    Refused(Reason),
}

/// One row's cells by field, collecting every problem found while reading them.
pub(super) struct RowView<'a> {
    row: &'a Row,
    columns: &'a Columns,
    pub(super) problems: Vec<Reason>,
}

impl<'a> RowView<'a> {
    fn new(row: &'a Row, columns: &'a Columns) -> Self {
        RowView {
            row,
            columns,
            problems: Vec::new(),
        }
    }

    /// The field's text; `None` when the file has no such column or the cell is empty.
    pub(super) fn text(&mut self, key: &'static str) -> Option<String> {
        let cell = self.row.cells.get(self.columns.position(key)?)?;
        match cell {
            Ok(text) if text.is_empty() => None,
            Ok(text) => Some(text.clone()),
            Err(error) => {
                self.problems.push(Reason::BadValue {
                    field: key,
                    value: error.clone(),
                    expected: "a value (the cell holds a formula error)".to_owned(),
                });
                None
            }
        }
    }

    /// The field's text; records [`Reason::MissingField`] when it is empty.
    pub(super) fn required(&mut self, key: &'static str) -> Option<String> {
        let problems_before = self.problems.len();
        let value = self.text(key);
        if value.is_none() && self.problems.len() == problems_before {
            self.problems.push(Reason::MissingField { field: key });
        }
        value
    }

    /// Records a problem.
    pub(super) fn refuse(&mut self, reason: Reason) {
        self.problems.push(reason);
    }
}

/// Splits a list cell (`a, b；c、d`).
pub(super) fn split_list(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split([',', '，', ';', '；', '、', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
