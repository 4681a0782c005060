//! Amounts as the apps show and enter them: integer minor units and a currency code.
//!
//! Amounts never cross the boundary as floating point, so ¥0.10 + ¥0.20 is ¥0.30 on both
//! platforms and on the server.

use fieldsales_core::money::{BasisPoints, Currency, Money as CoreMoney};

use crate::error::{FieldsalesError, OrInvalid};

/// An amount of money.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Money {
    /// Minor units (fen, cents): 12345 is 123.45.
    pub minor: i64,
    /// ISO 4217 code such as `CNY`.
    pub currency: String,
}

impl From<CoreMoney> for Money {
    fn from(m: CoreMoney) -> Self {
        Money {
            minor: m.minor,
            currency: m.currency.code().to_string(),
        }
    }
}

impl Money {
    /// The core amount, with the currency code checked.
    pub(crate) fn checked(&self, field: &str) -> Result<CoreMoney, FieldsalesError> {
        let currency: Currency = self.currency.parse().or_invalid(field)?;
        Ok(CoreMoney::new(self.minor, currency))
    }
}

/// The amount as plain text with two decimals and its code, such as `-1234.50 CNY`: the form
/// used in exports, logs and messages, the same on every platform. Screens format with the
/// user's locale from `minor` instead.
#[uniffi::export]
pub fn format_money(amount: Money) -> Result<String, FieldsalesError> {
    Ok(amount.checked("amount")?.to_string())
}

/// The amount times a rate in basis points (10% is 1000), rounded half away from zero to the
/// minor unit, once: the discount on a price, the commission on a deal.
#[uniffi::export]
pub fn apply_rate(amount: Money, rate_bp: i32) -> Result<Money, FieldsalesError> {
    let rate = u32::try_from(rate_bp).map_err(|_| FieldsalesError::InvalidInput {
        field: "rate_bp".into(),
        detail: format!("{rate_bp} is not a rate: 0 or more basis points"),
    })?;
    Ok(amount
        .checked("amount")?
        .apply_rate(BasisPoints(rate))
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(minor: i64) -> Money {
        Money {
            minor,
            currency: "CNY".into(),
        }
    }

    #[test]
    fn a_deal_amount_prints_with_two_decimals_and_its_code() {
        assert_eq!(format_money(yuan(5_000_000)).unwrap(), "50000.00 CNY");
        assert_eq!(format_money(yuan(-1_050)).unwrap(), "-10.50 CNY");
    }

    #[test]
    fn a_lower_case_code_from_a_form_is_accepted_and_normalised() {
        let m = Money {
            minor: 1,
            currency: "usd".into(),
        };
        assert_eq!(format_money(m).unwrap(), "0.01 USD");
    }

    #[test]
    fn a_ten_percent_discount_on_999_99_rounds_to_the_fen() {
        // 99999 × 10% = 9999.9 fen, rounded half away from zero to 10000.
        assert_eq!(apply_rate(yuan(99_999), 1_000).unwrap(), yuan(10_000));
    }

    #[test]
    fn a_made_up_currency_is_invalid_input_on_the_amount() {
        let err = format_money(Money {
            minor: 100,
            currency: "RMB¥".into(),
        })
        .unwrap_err();
        assert!(
            matches!(err, FieldsalesError::InvalidInput { ref field, .. } if field == "amount")
        );
    }
}
