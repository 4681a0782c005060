//! The catalogue, quotes and orders on the phone: a product priced for a customer by the
//! tenant's rules, an order or contract with priced lines, the approval a large amount or a
//! deep discount needs, confirmation, payments collected (回款) and delivery.
//!
//! Prices come from core's pricing rules over the synced catalogue and process, offline; the
//! server prices nothing again but refuses a confirmed order without the approval it needed
//! (`order.approval_required`), and the permission matrix decides who records payments and
//! delivery (finance, by default) here and on the server alike.

use std::sync::Arc;

use fieldsales_core::engine::{
    ConfirmOutcome as CoreOutcome, NewOrder as CoreNewOrder, NewOrderLine as CoreNewLine,
};
use fieldsales_core::me::Me;
use fieldsales_core::process::OrderLine as CoreLine;
use fieldsales_core::record::order::{
    DeliveryStatus as CoreDelivery, OrderStatus as CoreStatus, Payment as CorePayment,
};
use fieldsales_core::record::{Kind, Order as CoreOrder, Product as CoreProduct, SensitiveField};
use fieldsales_core::store::{ListFilter, StoreRead};
use fieldsales_core::{BasisPoints, RecordId};

use crate::engine::{Engine, optional_id, record_id};
use crate::error::FieldsalesError;
use crate::money::Money;
use crate::sales::Approval;

/// The most lines one order holds.
const MAX_LINES: usize = 200;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OrderStatus {
    /// Being prepared.
    Draft,
    /// Waiting for its approval.
    PendingApproval,
    /// Confirmed: counts as won business.
    Confirmed,
    /// Cancelled.
    Cancelled,
    /// A state a newer version of the product defines.
    Other,
}

impl From<CoreStatus> for OrderStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Draft => OrderStatus::Draft,
            CoreStatus::PendingApproval => OrderStatus::PendingApproval,
            CoreStatus::Confirmed => OrderStatus::Confirmed,
            CoreStatus::Cancelled => OrderStatus::Cancelled,
            CoreStatus::Other(_) => OrderStatus::Other,
        }
    }
}

/// How far an order is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryStatus {
    /// Nothing delivered.
    Pending,
    /// Partly delivered.
    Partial,
    /// Fully delivered.
    Delivered,
    /// A state a newer version of the product defines (never written by this one).
    Other,
}

impl From<CoreDelivery> for DeliveryStatus {
    fn from(s: CoreDelivery) -> Self {
        match s {
            CoreDelivery::Pending => DeliveryStatus::Pending,
            CoreDelivery::Partial => DeliveryStatus::Partial,
            CoreDelivery::Delivered => DeliveryStatus::Delivered,
            CoreDelivery::Other(_) => DeliveryStatus::Other,
        }
    }
}

impl DeliveryStatus {
    fn core(self) -> Result<CoreDelivery, FieldsalesError> {
        match self {
            DeliveryStatus::Pending => Ok(CoreDelivery::Pending),
            DeliveryStatus::Partial => Ok(CoreDelivery::Partial),
            DeliveryStatus::Delivered => Ok(CoreDelivery::Delivered),
            DeliveryStatus::Other => Err(FieldsalesError::InvalidInput {
                field: "delivery".into(),
                detail: "delivery is pending, partial or delivered".into(),
            }),
        }
    }
}

/// A product of the catalogue.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Product {
    /// Record ID.
    pub id: String,
    /// The code an order line names.
    pub code: String,
    /// Name.
    pub name: String,
    /// Specification.
    pub spec: Option<String>,
    /// Unit of sale (套, 台...).
    pub unit: Option<String>,
    /// List price per unit.
    pub list_price: Money,
    /// Cost per unit; `None` when unset or when the user's roles hide it.
    pub cost: Option<Money>,
    /// Whether the user's roles hide the cost (show "hidden", not "empty").
    pub cost_hidden: bool,
    /// Category.
    pub category: Option<String>,
    /// Product line.
    pub product_line: Option<String>,
    /// Whether it is still sold.
    pub active: bool,
}

impl Product {
    fn shown(p: CoreProduct, me: &Me) -> Product {
        Product {
            id: p.header.id.to_string(),
            code: p.code,
            name: p.name,
            spec: p.spec,
            unit: p.unit,
            list_price: p.list_price.into(),
            cost: p.cost.map(Money::from),
            cost_hidden: me.hidden.hides(SensitiveField::ProductCost),
            category: p.category,
            product_line: p.product_line,
            active: p.active,
        }
    }
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OrderLine {
    /// The product code.
    pub product_code: String,
    /// How many.
    pub quantity: i64,
    /// List price per unit.
    pub list_price: Money,
    /// Tier, volume and promotion discounts together, off list, in basis points (10% is
    /// 1000).
    pub rule_discount_bp: i32,
    /// The promotion applied, if any.
    pub promotion: Option<String>,
    /// Price per unit after the rule discounts.
    pub rule_price: Money,
    /// The manual discount, off the rule price, in basis points.
    pub manual_discount_bp: i32,
    /// Final price per unit.
    pub unit_price: Money,
    /// Final price × quantity.
    pub amount: Money,
}

/// Basis points as the API shows them (at most 10,000 in any record).
fn bp(b: BasisPoints) -> i32 {
    i32::try_from(b.0).unwrap_or(i32::MAX)
}

impl From<CoreLine> for OrderLine {
    fn from(l: CoreLine) -> Self {
        OrderLine {
            product_code: l.product_code,
            quantity: i64::from(l.quantity),
            list_price: l.list_price.into(),
            rule_discount_bp: bp(l.rule_discount),
            promotion: l.promotion,
            rule_price: l.rule_price.into(),
            manual_discount_bp: bp(l.manual_discount),
            unit_price: l.unit_price.into(),
            amount: l.amount.into(),
        }
    }
}

/// A product priced for a customer: what a quote line shows before the order exists.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PriceQuote {
    /// The product.
    pub product_id: String,
    /// The priced line.
    pub line: OrderLine,
}

/// A payment collected.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Payment {
    /// The payment's ID within the order.
    pub id: String,
    /// How much.
    pub amount: Money,
    /// When it was received.
    pub received_at: fieldsales_core::Timestamp,
    /// Bank transfer, cash...
    pub method: Option<String>,
}

impl From<CorePayment> for Payment {
    fn from(p: CorePayment) -> Self {
        Payment {
            id: p.id.to_string(),
            amount: p.amount.into(),
            received_at: p.received_at,
            method: p.method,
        }
    }
}

/// An order or contract.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Order {
    /// Record ID.
    pub id: String,
    /// The rep it counts for.
    pub owner_id: Option<String>,
    /// The customer.
    pub customer_id: String,
    /// The opportunity it closes, if any.
    pub opportunity_id: Option<String>,
    /// Order or contract number.
    pub number: String,
    /// The priced lines.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines.
    pub total: Money,
    /// Where it stands.
    pub status: OrderStatus,
    /// The approval it asked for, if any.
    pub approval_id: Option<String>,
    /// When it was confirmed.
    pub confirmed_at: Option<fieldsales_core::Timestamp>,
    /// Whether it is the customer's first business (the new-customer bonus).
    pub new_customer: bool,
    /// Payments collected, in the order they were recorded.
    pub payments: Vec<Payment>,
    /// The sum of the payments.
    pub paid: Money,
    /// Delivery progress.
    pub delivery: DeliveryStatus,
    /// Whether it was deleted.
    pub deleted: bool,
}

impl From<CoreOrder> for Order {
    fn from(o: CoreOrder) -> Self {
        let paid = o
            .payments
            .iter()
            .fold(0i64, |sum, p| sum.saturating_add(p.amount.minor));
        Order {
            id: o.header.id.to_string(),
            owner_id: o.header.owner_id.map(|u| u.to_string()),
            deleted: o.header.is_deleted(),
            customer_id: o.customer_id.to_string(),
            opportunity_id: o.opportunity_id.map(|u| u.to_string()),
            number: o.number,
            lines: o.lines.into_iter().map(OrderLine::from).collect(),
            paid: Money {
                minor: paid,
                currency: o.total.currency.code().to_string(),
            },
            total: o.total.into(),
            status: o.status.into(),
            approval_id: o.approval_id.map(|a| a.to_string()),
            confirmed_at: o.confirmed_at,
            new_customer: o.new_customer,
            payments: o.payments.into_iter().map(Payment::from).collect(),
            delivery: o.delivery.into(),
        }
    }
}

/// One line asked for.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewOrderLine {
    /// The product code.
    pub product_code: String,
    /// How many (1 or more).
    pub quantity: i64,
    /// The manual discount off the rule price, in basis points (0 to 10,000).
    pub manual_discount_bp: i32,
}

/// What a new order says.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewOrder {
    /// The customer.
    pub customer_id: String,
    /// The opportunity it closes, if any.
    pub opportunity_id: Option<String>,
    /// Order or contract number.
    pub number: String,
    /// The lines (1 to 200).
    pub lines: Vec<NewOrderLine>,
    /// The local day prices apply (promotions), `YYYY-MM-DD`.
    pub priced_on: fieldsales_core::LocalDate,
}

/// What asking to confirm an order did.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ConfirmOutcome {
    /// Confirmed: it counts as won business.
    Confirmed {
        /// The order.
        order: Order,
    },
    /// It needs this approval first (just requested, or still pending); confirm again once
    /// it is approved.
    AwaitingApproval {
        /// The approval request.
        approval: Approval,
    },
}

fn quantity(field: &str, n: i64) -> Result<u32, FieldsalesError> {
    u32::try_from(n)
        .ok()
        .filter(|q| *q >= 1)
        .ok_or_else(|| FieldsalesError::InvalidInput {
            field: field.to_string(),
            detail: format!("{n} is not a quantity: 1 or more"),
        })
}

fn discount(field: &str, d: i32) -> Result<BasisPoints, FieldsalesError> {
    u32::try_from(d)
        .ok()
        .filter(|d| *d <= 10_000)
        .map(BasisPoints)
        .ok_or_else(|| FieldsalesError::InvalidInput {
            field: field.to_string(),
            detail: format!("{d} is not a discount: 0 to 10,000 basis points"),
        })
}

/// Live orders matching `filter` that the user may see, newest first.
fn orders_where(
    e: &fieldsales_core::engine::Engine,
    filter: ListFilter,
) -> Result<Vec<Order>, FieldsalesError> {
    let tree = e.org_tree()?;
    let mut out = Vec::new();
    for row in e.store().list(&ListFilter {
        kind: Some(Kind::Order),
        limit: Some(10_000),
        ..filter
    })? {
        let order: CoreOrder = e.store().get(row.id)?;
        if tree.can_see(e.me(), &order.header) {
            out.push(order);
        }
    }
    out.sort_by_key(|o| std::cmp::Reverse(o.header.created_at));
    Ok(out.into_iter().map(Order::from).collect())
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// The catalogue: products still sold, by code (with `include_inactive`, every product).
    pub async fn products(
        self: Arc<Self>,
        include_inactive: bool,
    ) -> Result<Vec<Product>, FieldsalesError> {
        self.read(move |e| {
            let mut out = Vec::new();
            for row in e.store().list(&ListFilter {
                kind: Some(Kind::Product),
                limit: Some(100_000),
                ..ListFilter::default()
            })? {
                let p: CoreProduct = e.store().get(row.id)?;
                if p.active || include_inactive {
                    out.push(Product::shown(p, e.me()));
                }
            }
            out.sort_by(|a, b| a.code.cmp(&b.code));
            Ok(out)
        })
        .await
    }

    /// Prices `quantity` of the product `product_code` for a customer on a local day
    /// (`YYYY-MM-DD`), with a manual discount: the customer's tier price, volume breaks and
    /// promotions, as the order will be priced. Refused for an unknown product
    /// (`product.unknown`) or one no longer sold (`product.inactive`).
    pub async fn price_quote(
        self: Arc<Self>,
        product_code: String,
        customer_id: String,
        quantity: i64,
        manual_discount_bp: i32,
        priced_on: fieldsales_core::LocalDate,
    ) -> Result<PriceQuote, FieldsalesError> {
        let customer = record_id("customer_id", &customer_id)?;
        let count = self::quantity("quantity", quantity)?;
        let off = discount("manual_discount_bp", manual_discount_bp)?;
        let on = priced_on;
        self.read(move |e| {
            let quote = e.price_quote(&product_code, customer, count, off, on)?;
            Ok(PriceQuote {
                product_id: quote.product_id.to_string(),
                line: quote.line.into(),
            })
        })
        .await
    }

    /// Drafts an order at a customer the user may see, its lines priced by the rules.
    pub async fn create_order(self: Arc<Self>, order: NewOrder) -> Result<Order, FieldsalesError> {
        if order.lines.len() > MAX_LINES {
            return Err(FieldsalesError::InvalidInput {
                field: "order.lines".into(),
                detail: format!("{} lines; at most {MAX_LINES}", order.lines.len()),
            });
        }
        let lines = order
            .lines
            .iter()
            .map(|l| {
                Ok(CoreNewLine {
                    product_code: l.product_code.clone(),
                    quantity: quantity("order.lines.quantity", l.quantity)?,
                    manual_discount: discount(
                        "order.lines.manual_discount_bp",
                        l.manual_discount_bp,
                    )?,
                })
            })
            .collect::<Result<Vec<_>, FieldsalesError>>()?;
        let new = CoreNewOrder {
            customer_id: record_id("order.customer_id", &order.customer_id)?,
            opportunity_id: optional_id("order.opportunity_id", order.opportunity_id.as_deref())?,
            number: order.number,
            lines,
            on: order.priced_on,
        };
        self.write(move |e| Ok(e.create_order(new)?.into())).await
    }

    /// An order the user may see.
    pub async fn get_order(self: Arc<Self>, order_id: String) -> Result<Order, FieldsalesError> {
        let id = record_id("order_id", &order_id)?;
        self.read(move |e| {
            let order: CoreOrder = e.store().get(id)?;
            if !e.can_see(&order.header)? {
                return Err(fieldsales_core::Error::not_found(Kind::Order, id).into());
            }
            Ok(order.into())
        })
        .await
    }

    /// The orders of a customer the user may see, newest first.
    pub async fn orders_of(
        self: Arc<Self>,
        customer_id: String,
    ) -> Result<Vec<Order>, FieldsalesError> {
        let customer = record_id("customer_id", &customer_id)?;
        self.read(move |e| {
            e.customer(customer)?;
            orders_where(
                e,
                ListFilter {
                    customer: Some(customer),
                    ..ListFilter::default()
                },
            )
        })
        .await
    }

    /// The orders the signed-in user owns, newest first.
    pub async fn my_orders(self: Arc<Self>) -> Result<Vec<Order>, FieldsalesError> {
        self.read(|e| {
            let me: RecordId = e.me().user_id;
            orders_where(
                e,
                ListFilter {
                    owner: Some(me),
                    ..ListFilter::default()
                },
            )
        })
        .await
    }

    /// Confirms an order, or asks for the approval its amount or discount needs first (the
    /// approval is created and synced to the approvers). Refused once cancelled
    /// (`order.cancelled`) or when its approval was rejected (`order.approval_rejected`).
    pub async fn confirm_order(
        self: Arc<Self>,
        order_id: String,
    ) -> Result<ConfirmOutcome, FieldsalesError> {
        let id = record_id("order_id", &order_id)?;
        self.write(move |e| {
            Ok(match e.confirm_order(id)? {
                CoreOutcome::Confirmed(order) => ConfirmOutcome::Confirmed {
                    order: (*order).into(),
                },
                CoreOutcome::AwaitingApproval(approval) => ConfirmOutcome::AwaitingApproval {
                    approval: (*approval).into(),
                },
            })
        })
        .await
    }

    /// Records a payment collected on a confirmed order (`order.not_confirmed` otherwise), in
    /// the order's currency.
    pub async fn record_payment(
        self: Arc<Self>,
        order_id: String,
        amount: Money,
        received_at: fieldsales_core::Timestamp,
        method: Option<String>,
    ) -> Result<Order, FieldsalesError> {
        let id = record_id("order_id", &order_id)?;
        let amount = amount.checked("amount")?;
        let at = received_at;
        self.write(move |e| Ok(e.record_payment(id, amount, at, method)?.into()))
            .await
    }

    /// Sets how far a confirmed order is delivered.
    pub async fn set_delivery(
        self: Arc<Self>,
        order_id: String,
        delivery: DeliveryStatus,
    ) -> Result<Order, FieldsalesError> {
        let id = record_id("order_id", &order_id)?;
        let delivery = delivery.core()?;
        self.write(move |e| Ok(e.set_delivery(id, delivery)?.into()))
            .await
    }
}
