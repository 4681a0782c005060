//! Money in integer minor units, and rates in basis points.
//!
//! No floating point touches an amount: ¥1,234.56 is `Money { minor: 123456, currency: CNY }`,
//! a 10% discount is `BasisPoints(1000)`, and every product of the two rounds half away from
//! zero exactly once, at the end.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code such as `CNY`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Chinese yuan, the default of the source documents.
    pub const CNY: Currency = Currency(*b"CNY");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // Only ASCII upper-case letters are ever stored (checked in `from_str`).
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::CNY
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = InvalidMoney;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.trim().as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(Currency([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
                b[2].to_ascii_uppercase(),
            ]))
        } else {
            Err(InvalidMoney::Currency(s.chars().take(16).collect()))
        }
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Reconcile for Currency {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.code())
    }
}

impl Hydrate for Currency {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("an ISO 4217 code", s.to_string()))
    }
}

/// An amount of money in minor units (fen, cents).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    Reconcile,
    Hydrate,
)]
pub struct Money {
    /// Minor units: 100 = ¥1.00.
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units.
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Whole major units: `Money::major(50_000, CNY)` is ¥50,000.00.
    pub const fn major(units: i64, currency: Currency) -> Self {
        Money {
            minor: units.saturating_mul(100),
            currency,
        }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// The sum, or an error when the currencies differ or the sum overflows.
    pub fn checked_add(self, other: Money) -> Result<Money, InvalidMoney> {
        if self.currency != other.currency {
            return Err(InvalidMoney::CurrencyMismatch(
                self.currency,
                other.currency,
            ));
        }
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or(InvalidMoney::Overflow)
    }

    /// This amount times a whole quantity.
    pub fn times(self, qty: i64) -> Result<Money, InvalidMoney> {
        self.minor
            .checked_mul(qty)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or(InvalidMoney::Overflow)
    }

    /// This amount times a rate, rounded half away from zero to the minor unit.
    pub fn apply_rate(self, rate: BasisPoints) -> Money {
        let product = i128::from(self.minor) * i128::from(rate.0);
        let rounded = if product >= 0 {
            (product + 5_000) / 10_000
        } else {
            (product - 5_000) / 10_000
        };
        Money::new(
            i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN }),
            self.currency,
        )
    }

    /// The share `self / whole` in basis points, rounded down; `None` when `whole` is zero.
    pub fn ratio_of(self, whole: Money) -> Option<BasisPoints> {
        if whole.minor == 0 || self.currency != whole.currency {
            return None;
        }
        let bp = i128::from(self.minor) * 10_000 / i128::from(whole.minor);
        u32::try_from(bp.max(0)).ok().map(BasisPoints)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A rate in hundredths of a percent: 10% is `BasisPoints(1000)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(pub u32);

impl BasisPoints {
    /// Whole percent: `BasisPoints::percent(10)` is 10%.
    pub const fn percent(p: u32) -> Self {
        BasisPoints(p.saturating_mul(100))
    }

    /// The rate as a fraction, for display only.
    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }
}

impl fmt::Display for BasisPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(100) {
            write!(f, "{}%", self.0 / 100)
        } else {
            write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
        }
    }
}

impl fmt::Debug for BasisPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Reconcile for BasisPoints {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.i64(i64::from(self.0))
    }
}

impl Hydrate for BasisPoints {
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        u32::try_from(i)
            .map(BasisPoints)
            .map_err(|_| HydrateError::unexpected("basis points ≥ 0", i.to_string()))
    }
    fn hydrate_uint(u: u64) -> Result<Self, HydrateError> {
        u32::try_from(u)
            .map(BasisPoints)
            .map_err(|_| HydrateError::unexpected("basis points", u.to_string()))
    }
}

/// An amount or rate from outside that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    /// Not a three-letter code.
    #[error("invalid currency `{0}`: expected a three-letter ISO 4217 code such as CNY")]
    Currency(String),
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    /// The result does not fit.
    #[error("amount out of range")]
    Overflow,
    /// An amount that must not be negative was.
    #[error("{field} must not be negative (got {value})")]
    Negative {
        /// Which field.
        field: &'static str,
        /// The amount given.
        value: Money,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_away_from_zero() {
        let m = Money::new(1_005, Currency::CNY); // ¥10.05
        assert_eq!(m.apply_rate(BasisPoints(5_000)).minor, 503); // 502.5 → 503
        assert_eq!(
            Money::major(100_000, Currency::CNY)
                .apply_rate(BasisPoints::percent(3))
                .minor,
            300_000
        );
        assert_eq!(
            Money::new(-1_005, Currency::CNY)
                .apply_rate(BasisPoints(5_000))
                .minor,
            -503
        );
    }

    #[test]
    fn different_currencies_do_not_add() {
        let err = Money::major(1, Currency::CNY)
            .checked_add(Money::major(1, Currency::USD))
            .unwrap_err();
        assert_eq!(
            err,
            InvalidMoney::CurrencyMismatch(Currency::CNY, Currency::USD)
        );
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(
            Money::new(123_456, Currency::CNY).to_string(),
            "1234.56 CNY"
        );
        assert_eq!(BasisPoints(1_250).to_string(), "12.50%");
        assert_eq!("usd".parse::<Currency>().unwrap(), Currency::USD);
        assert!("US".parse::<Currency>().is_err());
    }

    #[test]
    fn ratio_is_in_basis_points() {
        let won = Money::major(125_000, Currency::CNY);
        let target = Money::major(100_000, Currency::CNY);
        assert_eq!(won.ratio_of(target), Some(BasisPoints(12_500)));
        assert_eq!(won.ratio_of(Money::zero(Currency::CNY)), None);
    }
}
