//! Prices and discounts.
//!
//! A line's price is built in two layers. The *rule price* is what the customer is entitled to
//! without asking anyone: the list price less the customer tier's discount, the volume break and
//! the best running promotion. On top of it a rep may give a manual discount up to the limit of
//! their role (a rep 10%, a manager 20%); beyond that the line needs an approval, whose steps
//! come from the approval rules. Keeping the layers apart means a promotion never eats into the
//! rep's discount allowance, and an approver sees exactly what was given by hand.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::money::{BasisPoints, Currency, InvalidMoney, Money};
use crate::time::LocalDate;

use super::text::{money_text, percent};
use super::validate::{ConfigProblem, ConfigSection, FULL, FieldPath, Known, Problems};

/// The largest manual discount one role may give without approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct RoleDiscountLimit {
    /// The role.
    pub role: String,
    /// Its limit.
    #[serde(with = "percent")]
    pub max_discount: BasisPoints,
}

/// Discount limits per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct DiscountRules {
    /// One limit per role; a role not listed may give no manual discount.
    #[serde(default)]
    pub limits: Vec<RoleDiscountLimit>,
}

impl Default for DiscountRules {
    fn default() -> Self {
        let limit = |role: &str, p| RoleDiscountLimit {
            role: role.to_string(),
            max_discount: BasisPoints::percent(p),
        };
        DiscountRules {
            limits: vec![limit("sales_rep", 10), limit("sales_manager", 20)],
        }
    }
}

impl DiscountRules {
    /// The limit of someone holding `roles`: the most generous of their roles.
    pub fn limit_for(&self, roles: &[String]) -> BasisPoints {
        self.limits
            .iter()
            .filter(|l| roles.contains(&l.role))
            .map(|l| l.max_discount)
            .max()
            .unwrap_or_default()
    }

    /// Whether `discount` is within what `roles` may give, and if not, which roles could.
    pub fn check(&self, discount: BasisPoints, roles: &[String]) -> DiscountVerdict {
        let limit = self.limit_for(roles);
        if discount <= limit {
            DiscountVerdict::Allowed { limit }
        } else {
            DiscountVerdict::NeedsApproval {
                limit,
                roles_that_may: self
                    .limits
                    .iter()
                    .filter(|l| l.max_discount >= discount)
                    .map(|l| l.role.clone())
                    .collect(),
            }
        }
    }
}

impl ConfigSection for DiscountRules {
    fn validate(&self, at: &FieldPath, known: &Known, out: &mut Problems) {
        for (i, l) in self.limits.iter().enumerate() {
            let lp = at.key("limits").index(i);
            known.check_role(&l.role, lp.key("role"), out);
            out.at_most(l.max_discount, FULL, lp.key("max_discount"));
        }
        out.unique_keys(
            self.limits
                .iter()
                .enumerate()
                .map(|(i, l)| (at.key("limits").index(i).key("role"), l.role.as_str())),
        );
    }
}

/// Whether a manual discount may be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountVerdict {
    /// Within the giver's limit.
    Allowed {
        /// The limit.
        limit: BasisPoints,
    },
    /// Beyond it: an approval is needed.
    NeedsApproval {
        /// The giver's limit.
        limit: BasisPoints,
        /// Roles whose own limit covers the discount.
        roles_that_may: Vec<String>,
    },
}

/// A customer tier's standing discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct TierDiscount {
    /// The tier code on the customer (`A`, `strategic`).
    pub tier: String,
    /// Its discount off list.
    #[serde(with = "percent")]
    pub discount: BasisPoints,
}

/// A discount for buying at least a quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct VolumeBreak {
    /// The smallest quantity it applies to.
    pub min_quantity: u32,
    /// Its discount.
    #[serde(with = "percent")]
    pub discount: BasisPoints,
}

/// A promotion over a run of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// Its code, unique.
    pub code: String,
    /// What it is called.
    pub name: String,
    /// Its discount.
    #[serde(with = "percent")]
    pub discount: BasisPoints,
    /// First day (inclusive).
    pub from: LocalDate,
    /// Last day (inclusive).
    pub until: LocalDate,
    /// Product codes it covers; empty for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
}

/// Price rules: tiers, volume breaks and promotions, applied one after the other.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields, default)]
pub struct PriceRules {
    /// Standing discounts per customer tier.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<TierDiscount>,
    /// Volume breaks; the largest one reached applies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_breaks: Vec<VolumeBreak>,
    /// Promotions; the best one running applies (promotions do not stack).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<Promotion>,
}

impl ConfigSection for PriceRules {
    fn validate(&self, at: &FieldPath, _known: &Known, out: &mut Problems) {
        for (i, t) in self.tiers.iter().enumerate() {
            out.non_blank(&t.tier, at.key("tiers").index(i).key("tier"));
            out.at_most(t.discount, FULL, at.key("tiers").index(i).key("discount"));
        }
        out.unique_keys(
            self.tiers
                .iter()
                .enumerate()
                .map(|(i, t)| (at.key("tiers").index(i).key("tier"), t.tier.as_str())),
        );
        for (i, v) in self.volume_breaks.iter().enumerate() {
            let vp = at.key("volume_breaks").index(i);
            out.positive(v.min_quantity, vp.key("min_quantity"));
            out.at_most(v.discount, FULL, vp.key("discount"));
        }
        let quantities: Vec<String> = self
            .volume_breaks
            .iter()
            .map(|v| v.min_quantity.to_string())
            .collect();
        out.unique_keys(quantities.iter().enumerate().map(|(i, q)| {
            (
                at.key("volume_breaks").index(i).key("min_quantity"),
                q.as_str(),
            )
        }));
        for (i, p) in self.promotions.iter().enumerate() {
            let pp = at.key("promotions").index(i);
            out.non_blank(&p.code, pp.key("code"));
            out.non_blank(&p.name, pp.key("name"));
            out.at_most(p.discount, FULL, pp.key("discount"));
            if p.until < p.from {
                out.push(
                    pp.key("until"),
                    ConfigProblem::EndsBeforeStart {
                        from: p.from.to_string(),
                        until: p.until.to_string(),
                    },
                );
            }
        }
        out.unique_keys(
            self.promotions
                .iter()
                .enumerate()
                .map(|(i, p)| (at.key("promotions").index(i).key("code"), p.code.as_str())),
        );
    }
}

/// What pricing needs to know about a product.
#[derive(Debug, Clone, Copy)]
pub struct ProductFacts<'a> {
    /// Its unique code.
    pub code: &'a str,
    /// Its list price per unit.
    pub list_price: Money,
}

/// One line being priced.
#[derive(Debug, Clone, Copy)]
pub struct LineRequest<'a> {
    /// The product.
    pub product: ProductFacts<'a>,
    /// How many.
    pub quantity: u32,
    /// The customer's tier, if it has one.
    pub customer_tier: Option<&'a str>,
    /// The order's day, for promotions.
    pub on: LocalDate,
    /// The manual discount asked for, off the rule price.
    pub manual_discount: BasisPoints,
}

/// A priced order line, as stored on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct OrderLine {
    /// The product code.
    pub product_code: String,
    /// How many.
    pub quantity: u32,
    /// List price per unit.
    #[serde(with = "money_text")]
    pub list_price: Money,
    /// Tier, volume and promotion discounts together, off list.
    #[serde(with = "percent")]
    pub rule_discount: BasisPoints,
    /// The promotion applied, if any.
    pub promotion: Option<String>,
    /// Price per unit after the rule discounts.
    #[serde(with = "money_text")]
    pub rule_price: Money,
    /// The manual discount, off the rule price.
    #[serde(with = "percent")]
    pub manual_discount: BasisPoints,
    /// Final price per unit.
    #[serde(with = "money_text")]
    pub unit_price: Money,
    /// Final price × quantity.
    #[serde(with = "money_text")]
    pub amount: Money,
}

/// Why a line cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingRefused {
    /// Zero units.
    #[error("the quantity must be at least 1")]
    ZeroQuantity,
    /// A negative list price.
    #[error("the list price of {code} is negative")]
    NegativeListPrice {
        /// The product.
        code: String,
    },
    /// A manual discount over 100%.
    #[error("a discount of {0} is more than the whole price")]
    DiscountOverFull(BasisPoints),
    /// The amount does not fit.
    #[error(transparent)]
    Money(#[from] InvalidMoney),
}

/// Prices one line. Discounts compound (10% then 5% is 14.5% off); the rule price is exact
/// before it is rounded to the minor unit once, and the manual discount is applied to it.
pub fn price_line(rules: &PriceRules, line: &LineRequest<'_>) -> Result<OrderLine, PricingRefused> {
    if line.quantity == 0 {
        return Err(PricingRefused::ZeroQuantity);
    }
    if line.product.list_price.is_negative() {
        return Err(PricingRefused::NegativeListPrice {
            code: line.product.code.to_string(),
        });
    }
    if line.manual_discount > FULL {
        return Err(PricingRefused::DiscountOverFull(line.manual_discount));
    }
    let tier = line
        .customer_tier
        .and_then(|t| rules.tiers.iter().find(|d| d.tier == t))
        .map(|d| d.discount);
    let volume = rules
        .volume_breaks
        .iter()
        .filter(|v| v.min_quantity <= line.quantity)
        .max_by_key(|v| v.min_quantity)
        .map(|v| v.discount);
    let promotion = rules
        .promotions
        .iter()
        .filter(|p| p.from <= line.on && line.on <= p.until)
        .filter(|p| p.products.is_empty() || p.products.iter().any(|c| c == line.product.code))
        .max_by_key(|p| (p.discount, std::cmp::Reverse(p.code.clone())));
    let discounts: Vec<BasisPoints> = [tier, volume, promotion.map(|p| p.discount)]
        .into_iter()
        .flatten()
        .collect();
    let rule_price = discounted(line.product.list_price, &discounts);
    let rule_discount = combined(&discounts);
    let unit_price = rule_price.apply_rate(keep(line.manual_discount));
    let amount = unit_price.times(i64::from(line.quantity))?;
    Ok(OrderLine {
        product_code: line.product.code.to_string(),
        quantity: line.quantity,
        list_price: line.product.list_price,
        rule_discount,
        promotion: promotion.map(|p| p.code.clone()),
        rule_price,
        manual_discount: line.manual_discount,
        unit_price,
        amount,
    })
}

/// The share of the price kept after `discount`.
fn keep(discount: BasisPoints) -> BasisPoints {
    BasisPoints(FULL.0.saturating_sub(discount.0))
}

/// `price` after each discount in turn, computed exactly and rounded half away from zero once.
fn discounted(price: Money, discounts: &[BasisPoints]) -> Money {
    let mut numerator = i128::from(price.minor);
    let mut denominator: i128 = 1;
    for d in discounts {
        numerator *= i128::from(keep(*d).0);
        denominator *= i128::from(FULL.0);
    }
    let half = denominator / 2;
    let rounded = if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        (numerator - half) / denominator
    };
    Money::new(i64::try_from(rounded).unwrap_or(i64::MAX), price.currency)
}

/// The discounts one after the other as one discount, rounded to the basis point, for display
/// (10% then 5% is 14.5%).
fn combined(discounts: &[BasisPoints]) -> BasisPoints {
    let kept = discounted(Money::new(i64::from(FULL.0), Currency::CNY), discounts);
    BasisPoints(
        FULL.0
            .saturating_sub(u32::try_from(kept.minor).unwrap_or(FULL.0)),
    )
}

/// The sum of the lines' amounts.
pub fn order_total(lines: &[OrderLine]) -> Result<Option<Money>, InvalidMoney> {
    let mut total: Option<Money> = None;
    for l in lines {
        total = Some(match total {
            None => l.amount,
            Some(t) => t.checked_add(l.amount)?,
        });
    }
    Ok(total)
}

/// The largest manual discount among the lines, which the approval rules look at.
pub fn largest_manual_discount(lines: &[OrderLine]) -> BasisPoints {
    lines
        .iter()
        .map(|l| l.manual_discount)
        .max()
        .unwrap_or_default()
}
