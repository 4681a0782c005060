//! The export: the same columns the import reads, so a file round-trips.
//!
//! Owners are written as employee numbers and a contact's customer as its legal name: what
//! a person reads and what the import resolves. The file appears whole or not at all: it is
//! written beside its destination and renamed over it.

use std::io::Write;
use std::path::{Path, PathBuf};

use fieldsales_core::RecordId;
use fieldsales_core::record::{Contact, Customer, Kind, Product};
use fieldsales_core::store::StoreRead;
use fieldsales_core::store::{ListFilter, Store};
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;

use super::directory::{Directory, customer_names};
use super::table::number_text;
use super::{Entity, FileFormat, Progress, TransferError, contacts, customers, products};

/// Which header names an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderLanguage {
    /// Field keys (`legal_name`): stable for scripts.
    #[default]
    English,
    /// Chinese names (`客户名称`) for people.
    Chinese,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportReport {
    /// What was exported.
    pub entity: Entity,
    /// The file written.
    pub file: PathBuf,
    /// Records written (one row each, after the header).
    pub rows: usize,
}

/// A cell to write.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Out {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number (coordinates, amounts), so spreadsheets can sum and sort it.
    Number(f64),
}

impl Out {
    pub(super) fn text(s: String) -> Out {
        if s.is_empty() {
            Out::Empty
        } else {
            Out::Text(s)
        }
    }
}

/// Writes every live `entity` record of `store` to `path` (`.csv` or `.xlsx`).
pub fn export_file(
    store: &Store,
    entity: Entity,
    path: &Path,
    headers: HeaderLanguage,
    progress: &dyn Progress,
) -> Result<ExportReport, TransferError> {
    let format = FileFormat::for_writing(path)?;
    let kind = match entity {
        Entity::Customers => Kind::Customer,
        Entity::Contacts => Kind::Contact,
        Entity::Products => Kind::Product,
    };
    let ids = all_ids(store, kind)?;
    let directory = Directory::load(store)?;
    let names = match entity {
        Entity::Contacts => customer_names(store)?,
        _ => Default::default(),
    };
    progress.start("exporting", Some(ids.len() as u64));
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        let row = match entity {
            Entity::Customers => customers::row(&store.get::<Customer>(*id)?, &directory),
            Entity::Contacts => contacts::row(&store.get::<Contact>(*id)?, &names, &directory),
            Entity::Products => products::row(&store.get::<Product>(*id)?),
        };
        rows.push(row);
        progress.advance(1);
    }
    progress.finish();
    let header: Vec<&str> = entity
        .fields()
        .iter()
        .map(|f| match headers {
            HeaderLanguage::English => f.key,
            HeaderLanguage::Chinese => f.chinese,
        })
        .collect();
    let bytes = match format {
        FileFormat::Csv => csv_bytes(&header, &rows),
        FileFormat::Workbook => workbook_bytes(entity, &header, &rows),
    }
    .map_err(|detail| TransferError::Write {
        path: path.to_owned(),
        detail,
    })?;
    write_whole(path, &bytes)?;
    Ok(ExportReport {
        entity,
        file: path.to_owned(),
        rows: rows.len(),
    })
}

fn all_ids(store: &Store, kind: Kind) -> Result<Vec<RecordId>, TransferError> {
    const PAGE: usize = 500;
    let mut ids = Vec::new();
    loop {
        let page = store.list(&ListFilter {
            kind: Some(kind),
            limit: Some(PAGE),
            offset: ids.len(),
            ..ListFilter::default()
        })?;
        let done = page.len() < PAGE;
        ids.extend(page.into_iter().map(|r| r.id));
        if done {
            return Ok(ids);
        }
    }
}

fn csv_bytes(header: &[&str], rows: &[Vec<Out>]) -> Result<Vec<u8>, String> {
    // A byte-order mark: without it Excel reads UTF-8 CSV as the system's code page.
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(header).map_err(|e| e.to_string())?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| match cell {
                Out::Empty => String::new(),
                Out::Text(s) => s.clone(),
                Out::Number(n) => number_text(*n),
            }))
            .map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}

fn workbook_bytes(entity: Entity, header: &[&str], rows: &[Vec<Out>]) -> Result<Vec<u8>, String> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    sheet.set_name(entity.as_str()).map_err(e)?;
    let bold = Format::new().set_bold();
    for (col, name) in header.iter().enumerate() {
        let col = column(col)?;
        sheet
            .write_string_with_format(0, col, *name, &bold)
            .map_err(e)?;
        sheet.set_column_width(col, 16).map_err(e)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| "too many rows for a worksheet".to_owned())?;
        for (col, cell) in row.iter().enumerate() {
            let col = column(col)?;
            match cell {
                Out::Empty => {}
                Out::Text(s) => {
                    sheet.write_string(r, col, s).map_err(e)?;
                }
                Out::Number(n) => {
                    sheet.write_number(r, col, *n).map_err(e)?;
                }
            }
        }
    }
    workbook.save_to_buffer().map_err(e)
}

fn column(index: usize) -> Result<u16, String> {
    u16::try_from(index).map_err(|_| "too many columns".to_owned())
}

/// Writes `bytes` to a file beside `path`, then renames it over `path`.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), TransferError> {
    let io = |source| TransferError::Io {
        path: path.to_owned(),
        source,
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = std::fs::File::create(&partial).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(source) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(io(source));
    }
    std::fs::rename(&partial, path).map_err(|source| {
        let _ = std::fs::remove_file(&partial);
        io(source)
    })
}
