//! The product catalogue.
//!
//! A product may carry its own tier prices, volume breaks and promotions on top of the
//! configuration's: they use the pricing rules' types, so pricing a line merges both into one
//! [`crate::process::PriceRules`].

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::Money;
use crate::process::validate::FULL;
use crate::process::{PriceRules, Promotion, VolumeBreak};

/// A product of the catalogue. Products have no owner: every user of the tenant sees them.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Product {
    /// Common fields.
    pub header: Header,
    /// Unique product code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Specification.
    pub spec: Option<String>,
    /// Unit of sale.
    pub unit: Option<String>,
    /// List price per unit.
    pub list_price: Money,
    /// Cost per unit.
    pub cost: Option<Money>,
    /// Category.
    pub category: Option<String>,
    /// Product line.
    pub product_line: Option<String>,
    /// Prices per customer tier, by tier code.
    #[autosurgeon(missing = "BTreeMap::new")]
    pub tier_prices: BTreeMap<String, Money>,
    /// Volume breaks, by ascending quantity.
    #[autosurgeon(missing = "Vec::new")]
    pub volume_breaks: Vec<VolumeBreak>,
    /// Promotions.
    #[autosurgeon(missing = "Vec::new")]
    pub promotions: Vec<Promotion>,
    /// Whether it can be sold.
    pub active: bool,
}

impl Product {
    /// The tenant's price rules as they apply to this product, and the list price to start
    /// from: the customer tier's own price when the product has one (the tier's discount then
    /// no longer applies), the product's volume breaks (the larger discount wins at a shared
    /// quantity) and its promotions.
    pub fn price_rules(&self, config: &PriceRules, tier: Option<&str>) -> (PriceRules, Money) {
        let mut rules = config.clone();
        let mut list_price = self.list_price;
        if let Some(price) = tier.and_then(|t| self.tier_prices.get(t)) {
            list_price = *price;
            rules.tiers.retain(|d| Some(d.tier.as_str()) != tier);
        }
        for b in &self.volume_breaks {
            match rules
                .volume_breaks
                .iter_mut()
                .find(|v| v.min_quantity == b.min_quantity)
            {
                Some(v) => v.discount = v.discount.max(b.discount),
                None => rules.volume_breaks.push(b.clone()),
            }
        }
        for p in &self.promotions {
            let mut p = p.clone();
            p.products = vec![self.code.clone()];
            rules.promotions.push(p);
        }
        (rules, list_price)
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Product, "code", &self.code)?;
        check::required(Kind::Product, "name", &self.name)?;
        check::non_negative(Kind::Product, "list_price", &self.list_price)?;
        if let Some(c) = &self.cost {
            check::non_negative(Kind::Product, "cost", c)?;
        }
        for p in self.tier_prices.values() {
            check::non_negative(Kind::Product, "tier_prices", p)?;
        }
        if self
            .volume_breaks
            .iter()
            .any(|b| b.min_quantity == 0 || b.discount > FULL)
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Product,
                field: "volume_breaks",
                detail: "quantities must be positive and discounts at most 100%".into(),
            });
        }
        if self
            .promotions
            .iter()
            .any(|p| p.until < p.from || p.discount > FULL || p.code.trim().is_empty())
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Product,
                field: "promotions",
                detail: "a promotion needs a code, must end after it starts and give at most 100%"
                    .into(),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.name.clone(),
            status: Some(if self.active { "active" } else { "inactive" }.into()),
            search_text: Some(format!("{} {}", self.code, self.name)),
            ..Index::default()
        }
    }
}
impl_record!(Product, Product);
