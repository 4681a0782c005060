//! Record IDs made on the phone, so a rep can create records with no signal.

use fieldsales_core::RecordId;

use crate::error::{FieldsalesError, OrInvalid};

/// A new record ID (UUID v7: IDs made later sort later), in its canonical text form.
#[uniffi::export]
pub fn new_record_id() -> String {
    RecordId::new().to_string()
}

/// Checks an ID that came from outside (a scanned code, a deep link) and returns its
/// canonical form (lower-case, hyphenated), which is the form records are stored under.
#[uniffi::export]
pub fn parse_record_id(id: String) -> Result<String, FieldsalesError> {
    id.parse::<RecordId>()
        .or_invalid("id")
        .map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_made_offline_reads_back_unchanged() {
        let id = new_record_id();
        assert_eq!(parse_record_id(id.clone()).unwrap(), id);
    }

    #[test]
    fn an_id_typed_in_upper_case_is_stored_in_canonical_form() {
        assert_eq!(
            parse_record_id(" 0190F5B8-7C1E-7A3B-9D2E-4F6A8B0C1D2E ".into()).unwrap(),
            "0190f5b8-7c1e-7a3b-9d2e-4f6a8b0c1d2e"
        );
    }

    #[test]
    fn a_link_with_a_broken_id_is_invalid_input() {
        let err = parse_record_id("customer/42".into()).unwrap_err();
        assert!(matches!(err, FieldsalesError::InvalidInput { ref field, .. } if field == "id"));
    }
}
