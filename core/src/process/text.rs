//! How rates and amounts are written in a process file.
//!
//! An admin edits the process as TOML, so a rate reads `"3%"` and an amount `"50000 CNY"`
//! rather than `300` basis points or `5000000` minor units. The same text form is what serde
//! produces for these fields, so an exported file imports back unchanged.

use std::fmt;

use crate::money::{BasisPoints, Currency, Money};

/// Why a percentage or an amount written as text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextValueError {
    /// Below zero, which no rate or threshold may be.
    Negative,
    /// Not of the expected form.
    Malformed,
    /// Too large to hold.
    OutOfRange,
}

/// Reads `"3%"`, `"2.5%"` or `"12.75%"` into basis points.
pub fn parse_percent(text: &str) -> Result<BasisPoints, TextValueError> {
    let t = text.trim();
    let number = t.strip_suffix('%').ok_or(TextValueError::Malformed)?.trim();
    let hundredths = parse_hundredths(number)?;
    u32::try_from(hundredths)
        .map(BasisPoints)
        .map_err(|_| TextValueError::OutOfRange)
}

/// Writes basis points as a percentage (`"3%"`, `"2.5%"`).
pub fn format_percent(rate: BasisPoints) -> String {
    let whole = rate.0 / 100;
    match rate.0 % 100 {
        0 => format!("{whole}%"),
        f if f.is_multiple_of(10) => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

/// Reads `"50000 CNY"`, `"1,234.56 CNY"` or `"50_000 USD"`.
pub fn parse_money(text: &str) -> Result<Money, TextValueError> {
    let mut parts = text.split_whitespace();
    let (Some(number), Some(code), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TextValueError::Malformed);
    };
    let currency: Currency = code.parse().map_err(|_| TextValueError::Malformed)?;
    let cleaned: String = number.chars().filter(|c| *c != ',' && *c != '_').collect();
    let minor = parse_hundredths(&cleaned)?;
    let minor = i64::try_from(minor).map_err(|_| TextValueError::OutOfRange)?;
    Ok(Money::new(minor, currency))
}

/// Writes an amount as `"50000 CNY"` or `"1234.56 CNY"`.
pub fn format_money(amount: Money) -> String {
    let sign = if amount.minor < 0 { "-" } else { "" };
    let abs = amount.minor.unsigned_abs();
    if abs.is_multiple_of(100) {
        format!("{sign}{} {}", abs / 100, amount.currency)
    } else {
        format!("{sign}{}.{:02} {}", abs / 100, abs % 100, amount.currency)
    }
}

/// Reads a non-negative decimal with at most two fraction digits, in hundredths.
fn parse_hundredths(number: &str) -> Result<u64, TextValueError> {
    if let Some(rest) = number.strip_prefix('-') {
        // Only a well-formed negative number is reported as negative.
        return match parse_hundredths(rest) {
            Ok(0) => Ok(0),
            Ok(_) => Err(TextValueError::Negative),
            Err(e) => Err(e),
        };
    }
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) || fraction.len() > 2 {
        return Err(TextValueError::Malformed);
    }
    let whole: u64 = whole.parse().map_err(|_| TextValueError::OutOfRange)?;
    let fraction: u64 = match fraction.len() {
        0 => 0,
        1 => u64::from(fraction.as_bytes()[0] - b'0') * 10,
        _ => fraction.parse().map_err(|_| TextValueError::Malformed)?,
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or(TextValueError::OutOfRange)
}

impl fmt::Display for TextValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextValueError::Negative => "must not be negative",
            TextValueError::Malformed => "is not of the expected form",
            TextValueError::OutOfRange => "is too large",
        })
    }
}

/// Serde form of a rate: `"3%"`.
pub(crate) mod percent {
    use std::fmt;

    use serde::{Deserializer, Serializer, de};

    use crate::money::BasisPoints;

    pub fn serialize<S: Serializer>(rate: &BasisPoints, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_percent(*rate))
    }

    struct Rate;

    impl de::Visitor<'_> for Rate {
        type Value = BasisPoints;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a percentage in quotes such as \"3%\" or \"2.5%\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<BasisPoints, E> {
            super::parse_percent(text).map_err(|e| {
                E::custom(format!(
                    "the rate `{text}` {e}: expected a percentage such as \"3%\" or \"2.5%\""
                ))
            })
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BasisPoints, D::Error> {
        d.deserialize_str(Rate)
    }
}

/// Serde form of an optional rate.
pub(crate) mod percent_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::BasisPoints;

    pub fn serialize<S: Serializer>(rate: &Option<BasisPoints>, s: S) -> Result<S::Ok, S::Error> {
        match rate {
            Some(r) => super::percent::serialize(r, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BasisPoints>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::percent")] BasisPoints);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// Serde form of an amount: `"50000 CNY"`.
pub(crate) mod money_text {
    use std::fmt;

    use serde::{Deserializer, Serializer, de};

    use crate::money::Money;

    pub fn serialize<S: Serializer>(amount: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_money(*amount))
    }

    struct Amount;

    impl de::Visitor<'_> for Amount {
        type Value = Money;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an amount and a currency in quotes such as \"50000 CNY\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Money, E> {
            super::parse_money(text).map_err(|e| {
                E::custom(format!(
                    "the amount `{text}` {e}: expected an amount and a currency such as \"50000 CNY\""
                ))
            })
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        d.deserialize_str(Amount)
    }
}

/// Serde form of an optional amount.
pub(crate) mod money_text_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::Money;

    pub fn serialize<S: Serializer>(amount: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
        match amount {
            Some(a) => super::money_text::serialize(a, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::money_text")] Money);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_and_write_back() {
        for (text, bp) in [
            ("3%", 300),
            ("2.5%", 250),
            ("12.75%", 1275),
            ("0%", 0),
            ("100%", 10_000),
        ] {
            assert_eq!(parse_percent(text), Ok(BasisPoints(bp)), "{text}");
            assert_eq!(format_percent(BasisPoints(bp)), text);
        }
        assert_eq!(parse_percent(" 10 % "), Ok(BasisPoints(1000)));
        assert_eq!(parse_percent("-3%"), Err(TextValueError::Negative));
        assert_eq!(parse_percent("3"), Err(TextValueError::Malformed));
        assert_eq!(parse_percent("3.125%"), Err(TextValueError::Malformed));
        assert_eq!(parse_percent("abc%"), Err(TextValueError::Malformed));
    }

    #[test]
    fn amounts_read_and_write_back() {
        assert_eq!(
            parse_money("50000 CNY"),
            Ok(Money::major(50_000, Currency::CNY))
        );
        assert_eq!(
            parse_money("1,234.56 usd"),
            Ok(Money::new(123_456, Currency::USD))
        );
        assert_eq!(
            parse_money("50_000.5 CNY"),
            Ok(Money::new(5_000_050, Currency::CNY))
        );
        assert_eq!(
            format_money(Money::major(50_000, Currency::CNY)),
            "50000 CNY"
        );
        assert_eq!(
            format_money(Money::new(123_456, Currency::CNY)),
            "1234.56 CNY"
        );
        assert_eq!(parse_money("-5 CNY"), Err(TextValueError::Negative));
        assert_eq!(parse_money("50000"), Err(TextValueError::Malformed));
        assert_eq!(parse_money("fifty CNY"), Err(TextValueError::Malformed));
        assert_eq!(
            parse_money("99999999999999999999 CNY"),
            Err(TextValueError::OutOfRange)
        );
    }
}
