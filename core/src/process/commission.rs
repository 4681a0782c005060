//! Targets, attainment and commissions.
//!
//! A rep must be able to check their commission line by line, so a statement is not one number
//! but one line per component (base rate, new-customer bonus, attainment bonus), each with the
//! amount it applies to, the rate and the result; each line is rounded once, and the total is
//! the sum of the lines the rep sees.

use autosurgeon::{Hydrate, Reconcile};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::money::{BasisPoints, Currency, InvalidMoney, Money};
use crate::string_enum;
use crate::time::LocalDate;

use super::text::{format_money, format_percent, money_text, percent};
use super::validate::{ConfigProblem, ConfigSection, FULL, FieldPath, Known, Problems};

string_enum! {
    /// The length of a target or commission period.
    pub enum PeriodKind {
        /// A calendar month.
        Month = "month",
        /// A calendar quarter.
        Quarter = "quarter",
        /// A calendar year.
        Year = "year",
    }
}

/// A calendar period, from its first day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Period {
    /// Month, quarter or year.
    pub kind: PeriodKind,
    /// Its first day.
    pub start: LocalDate,
}

impl Period {
    /// The period of `kind` that contains `day`.
    pub fn containing(kind: PeriodKind, day: LocalDate) -> Period {
        let d = day.naive();
        let month = match kind {
            PeriodKind::Month | PeriodKind::Other(_) => d.month(),
            PeriodKind::Quarter => (d.month() - 1) / 3 * 3 + 1,
            PeriodKind::Year => 1,
        };
        let start = NaiveDate::from_ymd_opt(d.year(), month, 1).map_or(day, LocalDate::from_naive);
        Period { kind, start }
    }

    /// The first day after the period.
    pub fn end_exclusive(&self) -> LocalDate {
        let months = match self.kind {
            PeriodKind::Month | PeriodKind::Other(_) => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::Year => 12,
        };
        self.start
            .naive()
            .checked_add_months(Months::new(months))
            .map_or(self.start, LocalDate::from_naive)
    }

    /// Whether `day` falls in the period.
    pub fn contains(&self, day: LocalDate) -> bool {
        self.start <= day && day < self.end_exclusive()
    }

    /// A label such as `2026-03`, `2026-Q1` or `2026`.
    pub fn label(&self) -> String {
        let d = self.start.naive();
        match self.kind {
            PeriodKind::Quarter => format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
            PeriodKind::Year => format!("{}", d.year()),
            PeriodKind::Month | PeriodKind::Other(_) => format!("{}-{:02}", d.year(), d.month()),
        }
    }
}

string_enum! {
    /// Which amount of a deal counts for attainment and commission.
    pub enum SalesBasis {
        /// The amount won, counted on the day the deal closed.
        Won = "won",
        /// The amount collected (回款), counted on the day it came in.
        Collected = "collected",
    }
}

/// An attainment bonus: from this attainment, this many points on the rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct AttainmentBonus {
    /// The attainment from which it applies (120%).
    #[serde(with = "percent")]
    pub at_least: BasisPoints,
    /// Points added to the rate (2%).
    #[serde(with = "percent")]
    pub bonus: BasisPoints,
}

/// How commissions are computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields, default)]
pub struct CommissionRules {
    /// The period a statement covers, and over which attainment is measured.
    pub period: PeriodKind,
    /// Which amount counts.
    pub basis: SalesBasis,
    /// The rate on every deal.
    #[serde(with = "percent")]
    pub base_rate: BasisPoints,
    /// Extra points on deals with a new customer.
    #[serde(with = "percent")]
    pub new_customer_bonus: BasisPoints,
    /// Attainment bonuses; the highest one reached applies to every deal of the period.
    pub attainment_bonuses: Vec<AttainmentBonus>,
}

impl Default for CommissionRules {
    fn default() -> Self {
        CommissionRules {
            period: PeriodKind::Quarter,
            basis: SalesBasis::Won,
            base_rate: BasisPoints::percent(3),
            new_customer_bonus: BasisPoints::percent(5),
            attainment_bonuses: vec![AttainmentBonus {
                at_least: BasisPoints::percent(120),
                bonus: BasisPoints::percent(2),
            }],
        }
    }
}

impl ConfigSection for CommissionRules {
    fn validate(&self, at: &FieldPath, _known: &Known, out: &mut Problems) {
        out.at_most(self.base_rate, FULL, at.key("base_rate"));
        out.at_most(self.new_customer_bonus, FULL, at.key("new_customer_bonus"));
        for (i, b) in self.attainment_bonuses.iter().enumerate() {
            let bp = at.key("attainment_bonuses").index(i);
            out.at_most(b.bonus, FULL, bp.key("bonus"));
            if b.at_least.0 == 0 {
                out.push(bp.key("at_least"), ConfigProblem::MustBePositive);
            }
        }
        let thresholds: Vec<String> = self
            .attainment_bonuses
            .iter()
            .map(|b| b.at_least.0.to_string())
            .collect();
        out.unique_keys(thresholds.iter().enumerate().map(|(i, t)| {
            (
                at.key("attainment_bonuses").index(i).key("at_least"),
                t.as_str(),
            )
        }));
    }
}

/// One deal as the commission rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealFacts {
    /// The deal (opportunity or order).
    pub id: RecordId,
    /// The amount won.
    pub won_amount: Money,
    /// The day it was won.
    pub won_on: LocalDate,
    /// Collections: day and amount.
    pub collections: Vec<(LocalDate, Money)>,
    /// Whether the customer was new with this deal.
    pub new_customer: bool,
}

impl DealFacts {
    /// What the deal counts for in `period` on `basis`.
    pub fn counted_in(&self, period: &Period, basis: &SalesBasis) -> Result<Money, InvalidMoney> {
        match basis {
            SalesBasis::Collected => self
                .collections
                .iter()
                .filter(|(day, _)| period.contains(*day))
                .try_fold(Money::zero(self.won_amount.currency), |sum, (_, m)| {
                    sum.checked_add(*m)
                }),
            // Won, and a basis from a newer version: the won amount.
            _ => Ok(if period.contains(self.won_on) {
                self.won_amount
            } else {
                Money::zero(self.won_amount.currency)
            }),
        }
    }
}

/// The total of `deals` in `period` on `basis`.
pub fn achieved(
    deals: &[DealFacts],
    period: &Period,
    basis: &SalesBasis,
    currency: Currency,
) -> Result<Money, InvalidMoney> {
    deals.iter().try_fold(Money::zero(currency), |sum, d| {
        sum.checked_add(d.counted_in(period, basis)?)
    })
}

/// Achieved over target, in basis points (125% is 12,500); `None` without a positive target.
pub fn attainment(achieved: Money, target: Money) -> Option<BasisPoints> {
    if target.minor <= 0 {
        return None;
    }
    achieved.ratio_of(target)
}

string_enum! {
    /// A part of a commission.
    pub enum CommissionComponent {
        /// The base rate.
        Base = "base",
        /// The new-customer bonus.
        NewCustomerBonus = "new_customer_bonus",
        /// The attainment bonus.
        AttainmentBonus = "attainment_bonus",
    }
}

/// One line of a commission statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CommissionLine {
    /// Which component.
    pub component: CommissionComponent,
    /// The amount the rate applies to.
    #[serde(with = "money_text")]
    pub basis: Money,
    /// The rate.
    #[serde(with = "percent")]
    pub rate: BasisPoints,
    /// The commission of this component.
    #[serde(with = "money_text")]
    pub amount: Money,
    /// The line in words, for the rep.
    pub explanation: String,
}

/// A rep's commission for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CommissionStatement {
    /// The rep.
    pub rep: RecordId,
    /// The period.
    pub period: Period,
    /// What counted in the period.
    #[serde(with = "money_text")]
    pub sales: Money,
    /// Attainment against the target, when there is one.
    pub attainment: Option<BasisPoints>,
    /// One line per component that applies.
    pub lines: Vec<CommissionLine>,
    /// The sum of the lines.
    #[serde(with = "money_text")]
    pub total: Money,
}

/// Computes a rep's commission for the period that contains `day`.
///
/// Each component is the rate times the amount it applies to: the base rate on all sales, the
/// new-customer bonus on sales to new customers, and the attainment bonus (the highest tier
/// reached) on all sales. 100,000 from an existing customer at 3% is 3,000; from a new customer
/// 3,000 + 5,000; at 125% attainment another 2,000.
pub fn commission(
    rules: &CommissionRules,
    rep: RecordId,
    deals: &[DealFacts],
    target: Option<Money>,
    day: LocalDate,
    currency: Currency,
) -> Result<CommissionStatement, InvalidMoney> {
    let period = Period::containing(rules.period.clone(), day);
    let sales = achieved(deals, &period, &rules.basis, currency)?;
    let new_sales = deals
        .iter()
        .filter(|d| d.new_customer)
        .try_fold(Money::zero(currency), |sum, d| {
            sum.checked_add(d.counted_in(&period, &rules.basis)?)
        })?;
    let attained = target.and_then(|t| attainment(sales, t));
    let bonus = attained.and_then(|a| {
        rules
            .attainment_bonuses
            .iter()
            .filter(|b| a >= b.at_least)
            .max_by_key(|b| b.at_least)
    });

    let label = period.label();
    let mut lines = vec![line(
        CommissionComponent::Base,
        sales,
        rules.base_rate,
        format!(
            "base rate {} on {} of sales in {label}",
            format_percent(rules.base_rate),
            format_money(sales)
        ),
    )];
    if new_sales.minor != 0 && rules.new_customer_bonus.0 > 0 {
        lines.push(line(
            CommissionComponent::NewCustomerBonus,
            new_sales,
            rules.new_customer_bonus,
            format!(
                "new-customer bonus {} on {} sold to new customers",
                format_percent(rules.new_customer_bonus),
                format_money(new_sales)
            ),
        ));
    }
    if let (Some(b), Some(a)) = (bonus, attained) {
        lines.push(line(
            CommissionComponent::AttainmentBonus,
            sales,
            b.bonus,
            format!(
                "attainment bonus {} on {}: {label} target reached at {} (from {})",
                format_percent(b.bonus),
                format_money(sales),
                format_percent(a),
                format_percent(b.at_least)
            ),
        ));
    }
    let total = lines
        .iter()
        .try_fold(Money::zero(currency), |sum, l| sum.checked_add(l.amount))?;
    Ok(CommissionStatement {
        rep,
        period,
        sales,
        attainment: attained,
        lines,
        total,
    })
}

fn line(
    component: CommissionComponent,
    basis: Money,
    rate: BasisPoints,
    explanation: String,
) -> CommissionLine {
    CommissionLine {
        component,
        basis,
        rate,
        amount: basis.apply_rate(rate),
        explanation,
    }
}
