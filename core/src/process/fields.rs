//! The fields a stage asks for, and whether a deal has filled them.
//!
//! "A stage can only be entered when its required fields are filled" is what keeps a pipeline
//! honest: a deal cannot be in bidding without its tender documents archived. The fields are
//! configuration (an admin adds "decision-chain visits" without a new app release), so their
//! values travel as a typed map rather than as struct fields.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::string_enum;
use crate::time::LocalDate;

use super::validate::{FieldPath, Problems};

string_enum! {
    /// What kind of value a stage field holds.
    pub enum FieldType {
        /// Free text, filled when not blank.
        Text = "text",
        /// A whole number.
        Number = "number",
        /// An amount of money.
        Money = "money",
        /// A calendar day.
        Date = "date",
        /// Archived documents (file references), filled when at least one is attached.
        Attachment = "attachment",
        /// A list of names (units, people, visits), filled when it has an entry.
        List = "list",
        /// A check box, filled when ticked.
        Flag = "flag",
    }
}

/// One field of a stage's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct StageField {
    /// Stable key under which the deal stores the value (`budget`).
    pub key: String,
    /// What the form shows (`预算`).
    pub label: String,
    /// What kind of value it holds.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Whether the stage may only be entered with this field filled; optional fields
    /// ("competitor documents, if any") are shown but do not block.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl StageField {
    /// A required field.
    pub fn required(key: &str, label: &str, kind: FieldType) -> Self {
        StageField {
            key: key.to_string(),
            label: label.to_string(),
            kind,
            required: true,
        }
    }

    /// A field shown on the form that does not block entering the stage.
    pub fn optional(key: &str, label: &str, kind: FieldType) -> Self {
        StageField {
            required: false,
            ..StageField::required(key, label, kind)
        }
    }

    /// Whether `value` fills this field.
    pub fn check(&self, value: Option<&FieldValue>) -> Result<(), FieldGap> {
        let Some(value) = value else {
            return Err(FieldGap::Empty);
        };
        let filled = match (&self.kind, value) {
            (FieldType::Text, FieldValue::Text(s)) => !s.trim().is_empty(),
            (FieldType::Number, FieldValue::Number(_)) => true,
            (FieldType::Money, FieldValue::Money(m)) => !m.is_negative(),
            (FieldType::Date, FieldValue::Date(_)) => true,
            (FieldType::Attachment, FieldValue::Attachments(v))
            | (FieldType::List, FieldValue::List(v)) => v.iter().any(|s| !s.trim().is_empty()),
            (FieldType::Flag, FieldValue::Flag(b)) => *b,
            // A field type added by a newer version: any non-empty value counts.
            (FieldType::Other(_), v) => !v.is_empty(),
            (expected, _) => {
                return Err(FieldGap::WrongType {
                    expected: expected.clone(),
                });
            }
        };
        if filled { Ok(()) } else { Err(FieldGap::Empty) }
    }
}

/// The value of one stage field on a deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum FieldValue {
    /// Text.
    Text(String),
    /// A whole number.
    Number(i64),
    /// An amount.
    Money(Money),
    /// A day.
    Date(LocalDate),
    /// References of archived documents.
    Attachments(Vec<String>),
    /// Names.
    List(Vec<String>),
    /// A tick.
    Flag(bool),
}

impl FieldValue {
    fn is_empty(&self) -> bool {
        match self {
            FieldValue::Text(s) => s.trim().is_empty(),
            FieldValue::Attachments(v) | FieldValue::List(v) => v.is_empty(),
            FieldValue::Flag(b) => !b,
            FieldValue::Number(_) | FieldValue::Money(_) | FieldValue::Date(_) => false,
        }
    }
}

/// The stage-field values of one deal, by field key.
pub type FieldValues = BTreeMap<String, FieldValue>;

/// Why a field does not count as filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldGap {
    /// Nothing, blank text, an empty list or an unticked box.
    Empty,
    /// A value of another type than the stage asks for.
    WrongType {
        /// The type the stage asks for.
        expected: FieldType,
    },
}

/// A required field that is not filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField {
    /// The field's key.
    pub key: String,
    /// The field's label, for the message on the phone.
    pub label: String,
    /// Why it does not count.
    pub gap: FieldGap,
}

/// The required fields among `fields` that `values` does not fill, in form order.
pub fn missing_fields(fields: &[StageField], values: &FieldValues) -> Vec<MissingField> {
    fields
        .iter()
        .filter(|f| f.required)
        .filter_map(|f| {
            f.check(values.get(&f.key)).err().map(|gap| MissingField {
                key: f.key.clone(),
                label: f.label.clone(),
                gap,
            })
        })
        .collect()
}

/// Checks a list of fields: keys and labels present, keys unique.
pub(crate) fn validate_fields(fields: &[StageField], at: &FieldPath, out: &mut Problems) {
    for (i, f) in fields.iter().enumerate() {
        out.non_blank(&f.key, at.index(i).key("key"));
        out.non_blank(&f.label, at.index(i).key("label"));
    }
    out.unique_keys(
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| (at.index(i).key("key"), f.key.as_str())),
    );
}
