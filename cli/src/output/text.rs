//! Text for people: aligned tables, local times, money as `¥1,234.00`.
//!
//! `--json` prints the values themselves (UTC milliseconds, minor units); these helpers are
//! only for the text a person reads, so they may round and abbreviate.

use std::io::Write;

use fieldsales_core::{Currency, Money, Timestamp, Zone};

/// An amount with its currency's sign, thousands separated and two decimals: `¥1,234.00`,
/// `-$12.50`; a currency without a sign here is written after the number (`12.00 EUR`).
pub fn money(amount: Money) -> String {
    let sign = if amount.minor < 0 { "-" } else { "" };
    let abs = amount.minor.unsigned_abs();
    let number = format!("{}.{:02}", grouped(abs / 100), abs % 100);
    match symbol(amount.currency) {
        Some(symbol) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{number} {}", amount.currency),
    }
}

fn symbol(currency: Currency) -> Option<&'static str> {
    match currency.code() {
        "CNY" | "JPY" => Some("¥"),
        "USD" | "HKD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    }
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An instant as a wall-clock time in `zone` (the user's own, for what they did): `2026-03-09
/// 09:05`.
pub fn local_time(at: Timestamp, zone: &Zone) -> String {
    at.to_utc()
        .with_timezone(&zone.tz())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An instant as a wall-clock time on this machine, with its offset: `2026-03-09 09:05 +08:00`
/// (for records of the server, which has no zone of its own).
pub fn machine_time(at: Timestamp) -> String {
    at.to_utc()
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// An optional value, or `-`.
pub fn or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// Columns on a terminal: a CJK character takes two.
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers and amounts.
    Right,
}

/// A table: a header, rows, the alignment of each column; printed indented by `indent`.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
    indent: usize,
}

impl Table {
    /// A table with these columns: the first left-aligned, the others right-aligned until
    /// [`Table::left`] says otherwise.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            align: header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { Align::Left } else { Align::Right })
                .collect(),
            rows: Vec::new(),
            indent: 0,
        }
    }

    /// Left-aligns the columns named.
    pub fn left(mut self, columns: &[usize]) -> Table {
        for &c in columns {
            if let Some(a) = self.align.get_mut(c) {
                *a = Align::Left;
            }
        }
        self
    }

    /// Indents every line by `spaces`.
    pub fn indent(mut self, spaces: usize) -> Table {
        self.indent = spaces;
        self
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the header and the rows, columns two spaces apart, trailing blanks trimmed.
    pub fn write(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .chain(std::iter::once(&self.header[i]))
                    .map(|c| width(c))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let indent = " ".repeat(self.indent);
        for cells in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(
                    widths
                        .get(i)
                        .copied()
                        .unwrap_or(0)
                        .saturating_sub(width(cell)),
                );
                match self.align.get(i).copied().unwrap_or(Align::Left) {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            writeln!(w, "{indent}{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_a_person_writes_it() {
        assert_eq!(money(Money::new(123_400, Currency::CNY)), "¥1,234.00");
        assert_eq!(money(Money::new(-1_250, Currency::USD)), "-$12.50");
        assert_eq!(money(Money::new(5, Currency::CNY)), "¥0.05");
        assert_eq!(
            money(Money::new(12_345_678_900, Currency::CNY)),
            "¥123,456,789.00"
        );
        let chf: Currency = "CHF".parse().expect("a currency");
        assert_eq!(money(Money::new(1_200, chf)), "12.00 CHF");
    }

    #[test]
    fn times_are_the_wall_clock_of_the_zone() {
        // 2026-03-09 01:00 UTC is 09:00 in Shanghai.
        let at = Timestamp::from_millis(1_773_018_000_000);
        assert_eq!(local_time(at, &Zone::SHANGHAI), "2026-03-09 09:00");
        assert_eq!(local_time(at, &Zone::UTC), "2026-03-09 01:00");
    }

    #[test]
    fn a_table_aligns_chinese_names_and_numbers() {
        let mut table = Table::new(&["rep", "check-ins", "amount"]);
        table.row(vec!["王芳".into(), "3".into(), "¥1,200.00".into()]);
        table.row(vec!["Li".into(), "12".into(), "¥80.00".into()]);
        let mut out = Vec::new();
        table.write(&mut out).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "rep   check-ins     amount\n\
             王芳          3  ¥1,200.00\n\
             Li           12     ¥80.00\n"
        );
    }
}
