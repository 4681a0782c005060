//! Orders and contracts, their payments (回款) and delivery.
//!
//! Lines are the pricing rules' [`OrderLine`]: list price, the tier / volume / promotion
//! discount, the manual discount and the result, so an approver and the server see exactly
//! what was given by hand and can price the line again.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::process::OrderLine;
use crate::process::validate::FULL;
use crate::{Money, RecordId, Timestamp, string_enum};

string_enum! {
    /// Where an order stands.
    pub enum OrderStatus {
        /// Being prepared.
        Draft = "draft",
        /// Waiting for its approval.
        PendingApproval = "pending_approval",
        /// Confirmed: counts as won business.
        Confirmed = "confirmed",
        /// Cancelled.
        Cancelled = "cancelled",
    }
}

string_enum! {
    /// Delivery progress.
    pub enum DeliveryStatus {
        /// Nothing delivered.
        Pending = "pending",
        /// Partly delivered.
        Partial = "partial",
        /// Fully delivered.
        Delivered = "delivered",
    }
}

/// A payment collected.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Payment {
    /// An ID for the payment within the order.
    pub id: RecordId,
    /// How much.
    pub amount: Money,
    /// When it was received.
    pub received_at: Timestamp,
    /// Bank transfer, cash, ...
    pub method: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// An order or contract; `owner_id` is the rep.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Order {
    /// Common fields.
    pub header: Header,
    /// The customer.
    pub customer_id: RecordId,
    /// The opportunity it closes, if any.
    pub opportunity_id: Option<RecordId>,
    /// Order or contract number.
    pub number: String,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// The total of the lines.
    pub total: Money,
    /// Where it stands.
    pub status: OrderStatus,
    /// The approval it waits for, if one was needed.
    pub approval_id: Option<RecordId>,
    /// When it was confirmed.
    pub confirmed_at: Option<Timestamp>,
    /// Whether the customer is new business (commission bonus).
    pub new_customer: bool,
    /// Payments collected.
    #[autosurgeon(missing = "Vec::new")]
    pub payments: Vec<Payment>,
    /// Delivery progress.
    pub delivery: DeliveryStatus,
}

impl Order {
    /// The largest manual discount of any line: what the discount rules look at.
    pub fn largest_manual_discount(&self) -> crate::BasisPoints {
        crate::process::pricing::largest_manual_discount(&self.lines)
    }

    /// The sum of payments collected.
    pub fn collected(&self) -> Money {
        self.payments
            .iter()
            .fold(Money::zero(self.total.currency), |acc, p| {
                acc.checked_add(p.amount).unwrap_or(acc)
            })
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Order, "number", &self.number)?;
        if self.lines.is_empty() {
            return Err(InvalidRecord::Missing {
                kind: Kind::Order,
                field: "lines",
            });
        }
        let mut sum = Money::zero(self.total.currency);
        for line in &self.lines {
            check::required(Kind::Order, "lines.product_code", &line.product_code)?;
            if line.quantity == 0 {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Order,
                    field: "lines.quantity",
                    detail: "quantities must be positive".into(),
                });
            }
            check::non_negative(Kind::Order, "lines.list_price", &line.list_price)?;
            check::non_negative(Kind::Order, "lines.unit_price", &line.unit_price)?;
            check::non_negative(Kind::Order, "lines.amount", &line.amount)?;
            if line.manual_discount > FULL || line.rule_discount > FULL {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Order,
                    field: "lines.manual_discount",
                    detail: "a discount is at most 100%".into(),
                });
            }
            if line.unit_price.times(i64::from(line.quantity)).ok() != Some(line.amount) {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Order,
                    field: "lines.amount",
                    detail: format!(
                        "{} × {} is not {}",
                        line.unit_price, line.quantity, line.amount
                    ),
                });
            }
            sum = sum
                .checked_add(line.amount)
                .map_err(|e| InvalidRecord::Invalid {
                    kind: Kind::Order,
                    field: "lines.amount",
                    detail: e.to_string(),
                })?;
        }
        if sum != self.total {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Order,
                field: "total",
                detail: format!("the lines add up to {sum}, not {}", self.total),
            });
        }
        for p in &self.payments {
            check::non_negative(Kind::Order, "payments.amount", &p.amount)?;
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.number.clone(),
            customer_id: Some(self.customer_id),
            status: Some(self.status.to_string()),
            occurred_at: self.confirmed_at.or(Some(self.header.created_at)),
            search_text: Some(self.number.clone()),
            ..Index::default()
        }
    }
}
impl_record!(Order, Order);
