//! Which column of a file holds which field.
//!
//! Files come from CRM exports, finance systems and hand-made templates, in Chinese or in
//! English, so a field is known by several header names (`客户名称`, `legal_name`,
//! `Legal Name`). Headers are compared folded: full-width to ASCII, case, spaces, `_` and
//! `-` ignored, and the `*` templates put on required columns dropped. An unknown header is
//! not an error (the report lists it as ignored); a missing required one is, before any row
//! is read, since every row would fail the same way.

use fieldsales_core::dedup::fold_width_and_case;

use super::TransferError;

/// A field of an imported kind and the header names it goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The field's key, also its English header on export.
    pub key: &'static str,
    /// Its Chinese header on export.
    pub chinese: &'static str,
    /// Other header names accepted on import.
    pub aliases: &'static [&'static str],
    /// Whether the column must be present.
    pub required: bool,
}

impl Field {
    /// A field.
    pub const fn new(
        key: &'static str,
        chinese: &'static str,
        aliases: &'static [&'static str],
        required: bool,
    ) -> Field {
        Field {
            key,
            chinese,
            aliases,
            required,
        }
    }

    fn names(&self) -> impl Iterator<Item = &'static str> {
        [self.key, self.chinese]
            .into_iter()
            .chain(self.aliases.iter().copied())
    }
}

/// A header folded for comparison.
pub fn fold_header(header: &str) -> String {
    fold_width_and_case(header)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*' | '.'))
        .collect()
}

/// Where each field sits in a file's header.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    fields: &'static [Field],
    /// Column index per field, in `fields` order.
    positions: Vec<Option<usize>>,
    /// Headers that name no field.
    pub ignored: Vec<String>,
}

impl Columns {
    /// Maps `headers` onto `fields`; refuses missing required columns and a field given twice.
    pub fn map(
        fields: &'static [Field],
        headers: &[String],
        header_row: usize,
    ) -> Result<Columns, TransferError> {
        let mut positions: Vec<Option<usize>> = vec![None; fields.len()];
        let mut ignored = Vec::new();
        for (column, header) in headers.iter().enumerate() {
            let folded = fold_header(header);
            if folded.is_empty() {
                continue;
            }
            let found = fields
                .iter()
                .position(|f| f.names().any(|n| fold_header(n) == folded));
            match found {
                Some(i) => {
                    if let Some(first) = positions[i] {
                        return Err(TransferError::DuplicateColumn {
                            field: fields[i].key,
                            first: headers[first].clone(),
                            second: header.clone(),
                            header_row,
                        });
                    }
                    positions[i] = Some(column);
                }
                None => ignored.push(header.clone()),
            }
        }
        let missing: Vec<&'static str> = fields
            .iter()
            .zip(&positions)
            .filter(|(f, p)| f.required && p.is_none())
            .map(|(f, _)| f.key)
            .collect();
        if !missing.is_empty() {
            return Err(TransferError::MissingColumns {
                missing,
                found: headers.to_vec(),
                header_row,
            });
        }
        Ok(Columns {
            fields,
            positions,
            ignored,
        })
    }

    /// The column of `key`, if the file has it.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.key == key)
            .and_then(|i| self.positions[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[Field] = &[
        Field::new("legal_name", "客户名称", &["公司全称"], true),
        Field::new("tier", "客户级别", &["level"], false),
    ];

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_english_and_template_headers_are_recognised() {
        for h in [
            "legal_name",
            "Legal Name",
            "客户名称*",
            "ＬＥＧＡＬ＿ＮＡＭＥ",
            "公司全称",
        ] {
            let c = Columns::map(FIELDS, &headers(&[h, "备注"]), 1).expect(h);
            assert_eq!(c.position("legal_name"), Some(0), "{h}");
            assert_eq!(c.ignored, vec!["备注".to_string()]);
        }
    }

    #[test]
    fn a_missing_required_column_is_refused_with_what_was_found() {
        let e = Columns::map(FIELDS, &headers(&["name", "tier"]), 3).expect_err("missing");
        match e {
            TransferError::MissingColumns {
                missing,
                found,
                header_row,
            } => {
                assert_eq!(missing, vec!["legal_name"]);
                assert_eq!(found, headers(&["name", "tier"]));
                assert_eq!(header_row, 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let e = Columns::map(FIELDS, &headers(&["客户名称", "legal_name"]), 1).expect_err("twice");
        assert!(matches!(
            e,
            TransferError::DuplicateColumn {
                field: "legal_name",
                ..
            }
        ));
    }
}
