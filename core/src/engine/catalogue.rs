//! The product catalogue and the price a customer gets.
//!
//! Codes are unique across the catalogue (orders keep the code, so two products with one code
//! would make an order ambiguous). A line's price merges the configuration's price rules with
//! the product's own: a product's tier price replaces the list price for that tier (and the
//! configuration's tier discount then does not apply on top of it); the product's volume
//! breaks and promotions compete with the configuration's, the best one winning as usual.

use super::Engine;
use crate::authority::{Known, Lookup};
use crate::process::{LineRequest, OrderLine, ProductFacts, price_line};
use crate::record::{Customer, Kind, Product};
use crate::rule::RuleCode;
use crate::store::{Facts, StoreRead};
use crate::{BasisPoints, Error, LocalDate, RecordId, Result};

/// A priced line and the product it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceQuote {
    /// The product.
    pub product_id: RecordId,
    /// The priced line.
    pub line: OrderLine,
}

impl Engine {
    /// Adds a product to the catalogue (admins); its code must be unused.
    pub fn create_product(&mut self, product: Product) -> Result<Product> {
        self.require_admin("edit the catalogue")?;
        if let Some(other) = self.product_by_code(&product.code)? {
            return Err(Error::rule(
                RuleCode::ProductCodeTaken,
                format!("product code {} is used by {}", product.code, other.name),
            ));
        }
        self.guarded()?.create(product)
    }

    /// Changes a product (admins); a new code must be unused.
    pub fn update_product(&mut self, product: Product) -> Result<Product> {
        self.require_admin("edit the catalogue")?;
        if let Some(other) = self.product_by_code(&product.code)?
            && other.header.id != product.header.id
        {
            return Err(Error::rule(
                RuleCode::ProductCodeTaken,
                format!("product code {} is used by {}", product.code, other.name),
            ));
        }
        self.guarded()?.update::<Product>(product.header.id, |p| {
            *p = product;
            Ok(())
        })
    }

    /// The live product with `code`, if any.
    pub fn product_by_code(&self, code: &str) -> Result<Option<Product>> {
        Ok(match Facts::new(self.store()).product_by_code(code)? {
            Known::Found(product) => Some(product),
            Known::Missing | Known::Unknowable => None,
        })
    }

    /// Prices `quantity` of the product `code` for `customer` on `on`, with the manual
    /// discount asked for.
    pub fn price_quote(
        &self,
        code: &str,
        customer: RecordId,
        quantity: u32,
        manual_discount: BasisPoints,
        on: LocalDate,
    ) -> Result<PriceQuote> {
        let product = self
            .product_by_code(code)?
            .ok_or_else(|| Error::rule(RuleCode::ProductUnknown, format!("no product {code}")))?;
        if !product.active {
            return Err(Error::rule(
                RuleCode::ProductInactive,
                format!("{} is no longer sold", product.code),
            ));
        }
        let tier = match self.store().kind_of(customer)? {
            Some(k) if k == Kind::Customer.as_str() => self.store().get::<Customer>(customer)?.tier,
            _ => return Err(Error::not_found(Kind::Customer, customer)),
        };
        let (rules, list_price) = product.price_rules(&self.process()?.pricing, tier.as_deref());
        let line = price_line(
            &rules,
            &LineRequest {
                product: ProductFacts {
                    code: &product.code,
                    list_price,
                },
                quantity,
                customer_tier: tier.as_deref(),
                on,
                manual_discount,
            },
        )?;
        Ok(PriceQuote {
            product_id: product.header.id,
            line,
        })
    }
}
