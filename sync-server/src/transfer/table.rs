//! Reading a spreadsheet or CSV file into rows of text, numbered as the spreadsheet shows them.
//!
//! Everything downstream works on text cells, so a file exported by Excel, WPS or a script
//! reads the same whatever types its cells carry: a phone number typed as a number comes out
//! as `13800138000`, not `1.38e10`. Row numbers are the ones a person sees in the
//! spreadsheet (the header is usually row 1), so a validation report can be followed in the
//! file without counting.
//!
//! CSV files saved by Excel on a Chinese system are GB18030 (GBK), not UTF-8; they are
//! decoded as such when they are not valid UTF-8.

use std::path::Path;

use calamine::{Data, Reader};

use super::TransferError;

/// The file formats read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Comma-separated text.
    Csv,
    /// An Excel workbook (`.xlsx`; `.xlsm`, `.xls` and `.ods` are read too).
    Workbook,
}

impl FileFormat {
    /// The format a file name says, for reading.
    pub fn for_reading(path: &Path) -> Result<FileFormat, TransferError> {
        match extension(path).as_deref() {
            Some("csv") => Ok(FileFormat::Csv),
            Some("xlsx" | "xlsm" | "xls" | "ods") => Ok(FileFormat::Workbook),
            other => Err(TransferError::UnsupportedFormat {
                path: path.to_owned(),
                extension: other.unwrap_or_default().to_owned(),
                supported: ".csv, .xlsx, .xlsm, .xls, .ods",
            }),
        }
    }

    /// The format a file name says, for writing.
    pub fn for_writing(path: &Path) -> Result<FileFormat, TransferError> {
        match extension(path).as_deref() {
            Some("csv") => Ok(FileFormat::Csv),
            Some("xlsx") => Ok(FileFormat::Workbook),
            other => Err(TransferError::UnsupportedFormat {
                path: path.to_owned(),
                extension: other.unwrap_or_default().to_owned(),
                supported: ".csv, .xlsx",
            }),
        }
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// A cell as text, or the error value a spreadsheet formula left in it (`#REF!`).
pub type Cell = Result<String, String>;

/// A data row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row number as the spreadsheet shows it (1-based).
    pub number: usize,
    /// Its cells, trimmed; as many as the header has (missing ones are empty).
    pub cells: Vec<Cell>,
}

/// A file read: its header and its non-blank data rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The sheet read, for workbooks.
    pub sheet: Option<String>,
    /// The row number of the header.
    pub header_row: usize,
    /// Header cells, trimmed.
    pub headers: Vec<String>,
    /// Data rows, blank ones left out.
    pub rows: Vec<Row>,
}

/// Reads `path` (a CSV file or a workbook; `sheet` picks a sheet, the first by default).
pub fn read_table(path: &Path, sheet: Option<&str>) -> Result<Table, TransferError> {
    let format = FileFormat::for_reading(path)?;
    let bytes = std::fs::read(path).map_err(|source| TransferError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_table_bytes(path, format, &bytes, sheet)
}

/// Reads the table of a file's bytes (an upload): `path` is its name, for the messages.
pub fn read_table_bytes(
    path: &Path,
    format: FileFormat,
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<Table, TransferError> {
    let (sheet, rows) = match format {
        FileFormat::Csv => read_csv(path, bytes)?,
        FileFormat::Workbook => read_workbook(path, bytes, sheet)?,
    };
    into_table(path, sheet, rows)
}

fn into_table(
    path: &Path,
    sheet: Option<String>,
    rows: Vec<(usize, Vec<Cell>)>,
) -> Result<Table, TransferError> {
    let mut rows = rows.into_iter().filter(|(_, cells)| !is_blank(cells));
    let Some((header_row, header_cells)) = rows.next() else {
        return Err(TransferError::Empty {
            path: path.to_owned(),
            sheet,
        });
    };
    let headers: Vec<String> = header_cells
        .into_iter()
        .map(|c| c.unwrap_or_else(|e| e))
        .collect();
    let width = headers.len();
    let rows = rows
        .map(|(number, mut cells)| {
            cells.resize(width.max(cells.len()), Ok(String::new()));
            Row { number, cells }
        })
        .collect();
    Ok(Table {
        sheet,
        header_row,
        headers,
        rows,
    })
}

fn is_blank(cells: &[Cell]) -> bool {
    cells
        .iter()
        .all(|c| matches!(c, Ok(text) if text.is_empty()))
}

type Numbered = (Option<String>, Vec<(usize, Vec<Cell>)>);

fn read_csv(path: &Path, bytes: &[u8]) -> Result<Numbered, TransferError> {
    let text = decode_text(path, bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| TransferError::Csv {
            path: path.to_owned(),
            line: e.position().map(|p| p.line()),
            detail: e.to_string(),
        })?;
        let cells = record.iter().map(|c| Ok(c.trim().to_owned())).collect();
        rows.push((index + 1, cells));
    }
    Ok((None, rows))
}

/// UTF-8 (with or without a byte-order mark), else GB18030.
fn decode_text(path: &Path, bytes: &[u8]) -> Result<String, TransferError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(TransferError::Encoding {
            path: path.to_owned(),
        });
    }
    Ok(text.into_owned())
}

fn read_workbook(
    path: &Path,
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<Numbered, TransferError> {
    let not_a_workbook = |detail: String| TransferError::NotAWorkbook {
        path: path.to_owned(),
        detail,
    };
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| not_a_workbook(e.to_string()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .cloned()
            .ok_or_else(|| TransferError::NoSuchSheet {
                path: path.to_owned(),
                sheet: wanted.to_owned(),
                sheets: names.clone(),
            })?,
        None => names.first().cloned().ok_or_else(|| TransferError::Empty {
            path: path.to_owned(),
            sheet: None,
        })?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| not_a_workbook(e.to_string()))?;
    // Columns are kept relative to the used range, which the header row shares.
    let Some((first_row, _)) = range.start() else {
        return Ok((Some(name), Vec::new()));
    };
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let number = first_row as usize + i + 1;
            (number, cells.iter().map(cell_text).collect())
        })
        .collect();
    Ok((Some(name), rows))
}

fn cell_text(data: &Data) -> Cell {
    match data {
        Data::Empty => Ok(String::new()),
        Data::String(s) => Ok(s.trim().to_owned()),
        Data::Int(i) => Ok(i.to_string()),
        Data::Float(f) => Ok(number_text(*f)),
        Data::Bool(b) => Ok(b.to_string()),
        Data::DateTime(d) => Ok(d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Ok(s.clone()),
        Data::Error(e) => Err(e.to_string()),
    }
}

/// A number as a person typed it: integers without `.0`, others in their shortest form.
pub(crate) fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(number_text(13800138000.0), "13800138000");
        assert_eq!(number_text(31.2304), "31.2304");
        assert_eq!(number_text(19.99), "19.99");
        assert_eq!(number_text(-0.5), "-0.5");
    }

    #[test]
    fn gbk_csv_from_a_chinese_excel_is_decoded() {
        // "客户名称" in GBK.
        let gbk = [0xBF, 0xCD, 0xBB, 0xA7, 0xC3, 0xFB, 0xB3, 0xC6];
        let text = decode_text(Path::new("x.csv"), &gbk).expect("decodes");
        assert_eq!(text, "客户名称");
        let bom = b"\xEF\xBB\xBFlegal_name";
        assert_eq!(
            decode_text(Path::new("x.csv"), bom).expect("decodes"),
            "legal_name"
        );
    }
}
