//! The one error the apps see.
//!
//! Core keeps rich, precise errors; an app can only act on a handful of situations (show a
//! field as invalid, offer the existing duplicate, ask the user to sign in again...). Every
//! core error is therefore converted here, at one point, into a [`FieldsalesError`] variant
//! that names the situation. The text never repeats the value that was refused: an address, a
//! phone number or a position is personal data, and error text ends up in crash reports.

use fieldsales_core::codec::UnknownCode;
use fieldsales_core::id::MalformedId;
use fieldsales_core::money::InvalidMoney;
use fieldsales_core::place::InvalidCoordinates;
use fieldsales_core::time::InvalidTime;

/// Why a call into Fieldsales failed, as something the app can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum FieldsalesError {
    /// The record does not exist on this device (or is no longer visible to this user).
    #[error("no {kind} record with id {id}")]
    NotFound {
        /// The kind of record looked for, such as `customer`.
        kind: String,
        /// The record ID that was looked for.
        id: String,
    },
    /// The new record looks like one that already exists; the app offers the existing one.
    #[error("possible duplicate of record {existing_id} (similarity {score:.2})")]
    Duplicate {
        /// The record that already exists.
        existing_id: String,
        /// How similar the two are, from 0.0 (not at all) to 1.0 (the same).
        score: f64,
    },
    /// A rule of the sales process refused the change.
    #[error("rule {rule} refused the change: {detail}")]
    RuleViolated {
        /// A stable code of the rule, such as `stage.required_fields`, for the app to branch on.
        rule: String,
        /// What the user has to do, in words.
        detail: String,
    },
    /// The signed-in user may not do this.
    #[error("not allowed: {action}")]
    NotAllowed {
        /// A stable code of the refused action, such as `customer.edit`.
        action: String,
    },
    /// This needs the server and the device has no connection; nothing was changed.
    #[error("the server cannot be reached")]
    Offline,
    /// The server no longer accepts this device's session; the user must sign in again.
    #[error("the session has expired")]
    AuthExpired,
    /// The local database failed (disk full, file damaged...).
    #[error("local storage failed: {detail}")]
    Storage {
        /// What failed, without record contents.
        detail: String,
    },
    /// A value given by the app cannot be used.
    #[error("invalid {field}: {detail}")]
    InvalidInput {
        /// The argument or record field at fault, such as `zone`.
        field: String,
        /// What a valid value looks like.
        detail: String,
    },
    /// A fault inside the library or the operating system refused a resource (a thread, a
    /// file handle). The app can only report it; the detail is for the bug report.
    #[error("internal failure: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl FieldsalesError {
    /// The value given for `field` cannot be used, for the reason `problem` gives.
    pub(crate) fn invalid(field: &str, problem: &impl InputProblem) -> Self {
        let detail = problem.detail();
        tracing::debug!(field, %detail, "input refused at the FFI boundary");
        FieldsalesError::InvalidInput {
            field: field.to_string(),
            detail,
        }
    }
}

/// A core error about a value from outside, described without repeating the value.
pub(crate) trait InputProblem {
    /// What a valid value looks like.
    fn detail(&self) -> String;
}

impl InputProblem for InvalidTime {
    fn detail(&self) -> String {
        match self {
            InvalidTime::Instant(_) => {
                "expected an RFC 3339 instant such as 2026-03-08T17:59:59+08:00"
            }
            InvalidTime::Date(_) => "expected a calendar date as YYYY-MM-DD",
            InvalidTime::Zone(_) => "expected an IANA time zone name such as Asia/Shanghai",
            InvalidTime::TimeOfDay(_) => "expected a time of day as HH:MM",
        }
        .to_string()
    }
}

impl InputProblem for InvalidMoney {
    fn detail(&self) -> String {
        match self {
            InvalidMoney::Currency(_) => {
                "expected a three-letter ISO 4217 currency code such as CNY".to_string()
            }
            InvalidMoney::CurrencyMismatch(a, b) => {
                format!("amounts in {a} and {b} cannot be combined")
            }
            InvalidMoney::Overflow => "the amount is out of range".to_string(),
            InvalidMoney::Negative { .. } => "must not be negative".to_string(),
        }
    }
}

impl InputProblem for InvalidCoordinates {
    fn detail(&self) -> String {
        "expected a finite latitude within ±90 and longitude within ±180 degrees".to_string()
    }
}

impl InputProblem for MalformedId {
    fn detail(&self) -> String {
        "expected a record ID (a UUID such as 0190f5b8-7c1e-7a3b-9d2e-4f6a8b0c1d2e)".to_string()
    }
}

impl InputProblem for UnknownCode {
    fn detail(&self) -> String {
        format!("expected one of: {}", self.expected.join(", "))
    }
}

/// Turns a core result about one input into the app's error, naming the input.
pub(crate) trait OrInvalid<T> {
    /// Maps the error to [`FieldsalesError::InvalidInput`] for `field`.
    fn or_invalid(self, field: &str) -> Result<T, FieldsalesError>;
}

impl<T, E: InputProblem> OrInvalid<T> for Result<T, E> {
    fn or_invalid(self, field: &str) -> Result<T, FieldsalesError> {
        self.map_err(|e| FieldsalesError::invalid(field, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldsales_core::{GeoPoint, Zone};

    #[test]
    fn a_refused_position_does_not_leak_into_the_error_text() {
        // A rep's position is personal data; crash reports must not carry it.
        let err = GeoPoint::new(131.234_567, 121.47)
            .or_invalid("position")
            .unwrap_err();
        let FieldsalesError::InvalidInput { field, detail } = &err else {
            panic!("expected InvalidInput, got {err:?}");
        };
        assert_eq!(field, "position");
        assert!(!detail.contains("131"), "{detail}");
        assert!(!err.to_string().contains("131.23"), "{err}");
    }

    #[test]
    fn an_unknown_zone_names_the_argument_and_the_expected_form() {
        let err = "Asia/Shanghia"
            .parse::<Zone>()
            .or_invalid("zone")
            .unwrap_err();
        assert_eq!(
            err,
            FieldsalesError::InvalidInput {
                field: "zone".into(),
                detail: "expected an IANA time zone name such as Asia/Shanghai".into(),
            }
        );
        assert!(!err.to_string().contains("Shanghia"));
    }

    #[test]
    fn an_unknown_code_lists_the_accepted_ones() {
        let err = UnknownCode {
            type_name: "Channel",
            code: "fax".into(),
            expected: &["call", "meeting"],
        };
        assert_eq!(err.detail(), "expected one of: call, meeting");
    }
}
