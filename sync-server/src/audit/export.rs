//! The log as a spreadsheet: CSV (UTF-8 with a byte-order mark, which Excel needs to read
//! Chinese text) or an Excel workbook, one row per entry, the same columns in both.

use fieldsales_core::Timestamp;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::AuditEntry;

/// The columns, in order.
pub const HEADER: &[&str] = &[
    "time (UTC)",
    "operation",
    "kind",
    "record",
    "account",
    "user",
    "device",
    "rule",
    "changes",
    "detail",
    "chain",
    "number",
    "hash",
];

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// CSV writing failed.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// The workbook could not be written.
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    /// More rows than a worksheet holds.
    #[error("more entries than a worksheet holds: narrow the time range")]
    TooManyRows,
}

fn id(id: Option<uuid::Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

/// The changes as one cell: `field: before → after`, one per line.
pub fn changes_text(entry: &AuditEntry) -> String {
    entry
        .changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} → {}",
                c.field,
                c.before.as_deref().unwrap_or("∅"),
                c.after.as_deref().unwrap_or("∅")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One entry's cells, in the order of [`HEADER`].
pub fn row(entry: &AuditEntry) -> Vec<String> {
    vec![
        Timestamp::from_millis(entry.at).to_string(),
        entry.operation.clone(),
        entry.kind.clone().unwrap_or_default(),
        id(entry.record_id),
        id(entry.account_id),
        id(entry.user_id),
        id(entry.device_id),
        entry.rule.clone().unwrap_or_default(),
        changes_text(entry),
        entry.detail.clone().unwrap_or_default(),
        entry.stream.to_string(),
        entry.seq.to_string(),
        entry.hash.clone(),
    ]
}

/// The entries as CSV.
pub fn csv(entries: &[AuditEntry]) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(HEADER)?;
    for entry in entries {
        writer.write_record(row(entry))?;
    }
    writer
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))
}

/// The entries as an Excel workbook with one sheet, `audit`.
pub fn xlsx(entries: &[AuditEntry]) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("audit")?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    for (col, name) in HEADER.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *name, &bold)?;
        sheet.set_column_width(col, if *name == "changes" { 48 } else { 20 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (i, entry) in entries.iter().enumerate() {
        let r = u32::try_from(i + 1)
            .ok()
            .filter(|r| *r < 1_048_576)
            .ok_or(ExportError::TooManyRows)?;
        for (col, cell) in row(entry).iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string_with_format(r, col as u16, cell, &wrap)?;
            }
        }
    }
    Ok(workbook.save_to_buffer()?)
}
