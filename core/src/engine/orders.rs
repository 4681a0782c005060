//! Orders and contracts on the device: priced lines, the approval a large amount or a deep
//! discount needs, confirmation only once approved, payments collected and delivery.
//!
//! The server holds the same line: a confirmed order whose approval is missing or not
//! approved is refused on push ([`crate::authority::order`]), so a device that skipped its own
//! check gains nothing.

use super::Engine;
use super::people::{money_error, of_customer};
use crate::authority::order::{approval_covers, needed_approval};
use crate::process::ApprovalChain;
use crate::record::approval::ApprovalStatus;
use crate::record::order::{DeliveryStatus, OrderStatus, Payment};
use crate::record::{Approval, Header, Kind, Order, RecordRef};
use crate::rule::RuleCode;
use crate::store::StoreRead;
use crate::{BasisPoints, Error, LocalDate, Money, RecordId, Result, Timestamp};

/// One line asked for.
#[derive(Debug, Clone)]
pub struct NewOrderLine {
    /// The product code.
    pub product_code: String,
    /// How many.
    pub quantity: u32,
    /// The manual discount given, off the rule price.
    pub manual_discount: BasisPoints,
}

/// What a new order says.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The customer.
    pub customer_id: RecordId,
    /// The opportunity it closes, if any.
    pub opportunity_id: Option<RecordId>,
    /// Order or contract number.
    pub number: String,
    /// The lines.
    pub lines: Vec<NewOrderLine>,
    /// The day prices apply (promotions).
    pub on: LocalDate,
}

/// What asking to confirm an order did.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmOutcome {
    /// Confirmed: it counts as won business.
    Confirmed(Box<Order>),
    /// It needs this approval first (just requested, or still pending).
    AwaitingApproval(Box<Approval>),
}

impl Engine {
    /// Creates a draft order with its lines priced.
    pub fn create_order(&mut self, new: NewOrder) -> Result<Order> {
        if new.lines.is_empty() {
            return Err(crate::record::InvalidRecord::Missing {
                kind: Kind::Order,
                field: "lines",
            }
            .into());
        }
        let mut lines = Vec::new();
        for l in &new.lines {
            let quote = self.price_quote(
                &l.product_code,
                new.customer_id,
                l.quantity,
                l.manual_discount,
                new.on,
            )?;
            lines.push(quote.line);
        }
        let currency = lines
            .first()
            .map(|l| l.amount.currency)
            .unwrap_or(crate::Currency::CNY);
        let total = lines.iter().try_fold(Money::zero(currency), |sum, l| {
            sum.checked_add(l.amount).map_err(money_error("total"))
        })?;
        let new_customer = !of_customer::<Order>(self.store(), new.customer_id)?
            .iter()
            .any(|o| o.status == OrderStatus::Confirmed);
        let me = self.me().user_id;
        let mut header = Header::new(me, self.now());
        header.org_unit_id = Some(self.me().unit_id);
        self.guarded()?.create(Order {
            header,
            customer_id: new.customer_id,
            opportunity_id: new.opportunity_id,
            number: new.number,
            lines,
            total,
            status: OrderStatus::Draft,
            approval_id: None,
            confirmed_at: None,
            new_customer,
            payments: Vec::new(),
            delivery: DeliveryStatus::Pending,
        })
    }

    /// The approval chain an order needs under the running configuration, if any.
    pub fn order_approval_needed(&self, order: &Order) -> Result<Option<ApprovalChain>> {
        let process = self.process()?;
        let roles = self.owner_roles(order.header.owner_id)?;
        needed_approval(&process, order, &roles).map_err(money_error("total"))
    }

    fn owner_roles(&self, owner: Option<RecordId>) -> Result<Vec<String>> {
        let Some(owner) = owner else {
            return Ok(Vec::new());
        };
        if owner == self.me().user_id {
            return Ok(self.me().roles.clone());
        }
        Ok(self
            .user_profile(owner)?
            .map(|p| p.roles.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// Confirms an order, or requests the approval it needs first. An order whose approval
    /// was rejected cannot be confirmed; change it and ask again.
    pub fn confirm_order(&mut self, id: RecordId) -> Result<ConfirmOutcome> {
        let order: Order = self.store().get(id)?;
        self.require_visible(&order.header)?;
        if order.status == OrderStatus::Confirmed {
            return Ok(ConfirmOutcome::Confirmed(Box::new(order)));
        }
        if order.status == OrderStatus::Cancelled {
            return Err(Error::rule(
                RuleCode::OrderCancelled,
                "the order was cancelled",
            ));
        }
        let now = self.now();
        if let Some(chain) = self.order_approval_needed(&order)? {
            let existing: Option<Approval> = match order.approval_id {
                Some(a) if self.store().kind_of(a)?.is_some() => Some(self.store().get(a)?),
                _ => None,
            };
            match existing {
                Some(a) if approval_covers(&a, &order, &chain) => {}
                Some(a) if a.status == ApprovalStatus::Pending && a.chain == chain => {
                    return Ok(ConfirmOutcome::AwaitingApproval(Box::new(a)));
                }
                Some(a) if a.status == ApprovalStatus::Rejected => {
                    return Err(Error::rule(
                        RuleCode::OrderApprovalRejected,
                        "the order's approval was rejected; change the order and ask again",
                    ));
                }
                _ => {
                    let approval = Approval {
                        header: self.owned_header(now),
                        subject: RecordRef {
                            kind: Kind::Order,
                            id,
                        },
                        rule: chain.because.join("; "),
                        title: format!("{} {}", order.number, order.total),
                        amount: Some(order.total),
                        discount: Some(order.largest_manual_discount()),
                        chain,
                        decisions: Vec::new(),
                        status: ApprovalStatus::Pending,
                        decided_at: None,
                    };
                    let approval = self.guarded()?.transaction(|tx| {
                        let approval = tx.create(approval)?;
                        tx.update::<Order>(id, |o| {
                            o.status = OrderStatus::PendingApproval;
                            o.approval_id = Some(approval.header.id);
                            Ok(())
                        })?;
                        Ok(approval)
                    })?;
                    return Ok(ConfirmOutcome::AwaitingApproval(Box::new(approval)));
                }
            }
        }
        let order = self.guarded()?.update::<Order>(id, |o| {
            o.status = OrderStatus::Confirmed;
            o.confirmed_at = Some(now);
            Ok(())
        })?;
        Ok(ConfirmOutcome::Confirmed(Box::new(order)))
    }

    /// Records a payment collected (回款) on a confirmed order.
    pub fn record_payment(
        &mut self,
        id: RecordId,
        amount: Money,
        received_at: Timestamp,
        method: Option<String>,
    ) -> Result<Order> {
        let order: Order = self.store().get(id)?;
        self.require_visible(&order.header)?;
        if order.status != OrderStatus::Confirmed {
            return Err(Error::rule(
                RuleCode::OrderNotConfirmed,
                "payments are collected on confirmed orders",
            ));
        }
        if amount.minor <= 0 || amount.currency != order.total.currency {
            return Err(Error::InvalidInput {
                field: "payment.amount",
                detail: format!("a payment is a positive amount in {}", order.total.currency),
            });
        }
        self.guarded()?.update::<Order>(id, |o| {
            o.payments.push(Payment {
                id: RecordId::new(),
                amount,
                received_at,
                method,
                note: None,
            });
            Ok(())
        })
    }

    /// Sets the delivery progress of a confirmed order.
    pub fn set_delivery(&mut self, id: RecordId, delivery: DeliveryStatus) -> Result<Order> {
        let order: Order = self.store().get(id)?;
        self.require_visible(&order.header)?;
        if order.status != OrderStatus::Confirmed {
            return Err(Error::rule(
                RuleCode::OrderNotConfirmed,
                "only a confirmed order is delivered",
            ));
        }
        self.guarded()?.update::<Order>(id, |o| {
            o.delivery = delivery;
            Ok(())
        })
    }
}
