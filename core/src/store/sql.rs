//! How core values are stored in SQLite columns: IDs as 16-byte blobs, instants as integer
//! milliseconds, local dates as `YYYY-MM-DD` text (which sorts by date).

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::{LocalDate, RecordId, Timestamp};

impl ToSql for RecordId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self.as_bytes())))
    }
}

impl FromSql for RecordId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let bytes = value.as_blob()?;
        RecordId::from_slice(bytes).map_err(|_| FromSqlError::InvalidBlobSize {
            expected_size: 16,
            blob_size: bytes.len(),
        })
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.millis()))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_i64().map(Timestamp::from_millis)
    }
}

impl ToSql for LocalDate {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for LocalDate {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        // Dashboards read tens of thousands of dates per answer: the exact form the store
        // writes is read digit by digit, anything else by the general parser.
        if let Some(date) = plain_date(text.as_bytes()) {
            return Ok(date);
        }
        text.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// `YYYY-MM-DD` exactly, as [`ToSql`] writes it; `None` for anything else.
fn plain_date(b: &[u8]) -> Option<LocalDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(&b[0..4])?).ok()?;
    LocalDate::from_ymd(year, num(&b[5..7])?, num(&b[8..10])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_date_reads_back_as_the_same_day_by_either_path() {
        for day in ["2026-03-11", "2024-02-29", "0001-01-01", "9999-12-31"] {
            let fast = plain_date(day.as_bytes());
            assert_eq!(fast, day.parse().ok(), "{day}");
            assert_eq!(fast.map(|d| d.to_string()).as_deref(), Some(day));
        }
        for not_plain in [
            "2026-02-30",
            "2026-3-11",
            "2026/03/11",
            "+2026-03-1",
            "20260311xx",
        ] {
            assert_eq!(plain_date(not_plain.as_bytes()), None, "{not_plain}");
        }
    }
}
