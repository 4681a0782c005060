//! The server's review of a pushed order: a confirmed order carries an approved approval that
//! covers what the rules ask for its amount and its deepest discount.
//!
//! "Covers" is checked, not assumed: the approval must be about this order, approved by its
//! decisions, hold every step the rules now require, and be for at least the order's total and
//! its deepest manual discount. Otherwise a device could attach an approval for a smaller
//! amount, or raise the discount after the manager said yes.
//!
//! The lines are checked too: each is priced again from the server's catalogue and price
//! rules, so a device cannot lower a list price or claim a promotion to stay under the
//! discount limits. Promotions run by day and the order does not store the day its lines were
//! priced, so a line stands when it matches the price on any day from the day before the
//! order was created to the day after it is reviewed (time zones and a day's drift).

use super::{Context, Known, Outcome, Rejection};
use crate::money::InvalidMoney;
use crate::process::approval::ApprovalStatus as Standing;
use crate::process::{
    ApprovalChain, ApprovalSubject, LineRequest, OrderLine, ProductFacts, SalesProcess, price_line,
    required_approval,
};
use crate::record::order::OrderStatus;
use crate::record::{AnyRecord, Approval, Order};
use crate::rule::RuleCode;
use crate::{LocalDate, Zone};

/// The chain the rules require for `order` when its owner holds `owner_roles`.
pub fn needed_approval(
    process: &SalesProcess,
    order: &Order,
    owner_roles: &[String],
) -> Result<Option<ApprovalChain>, InvalidMoney> {
    required_approval(
        &process.approvals,
        &process.discounts,
        &ApprovalSubject {
            kind: "order",
            amount: Some(order.total),
            max_discount: Some(order.largest_manual_discount()),
            requester_roles: owner_roles,
            entering_stage: None,
        },
        &[],
    )
}

/// Whether `approval` lets `order` be confirmed when the rules require `needed`.
pub fn approval_covers(approval: &Approval, order: &Order, needed: &ApprovalChain) -> bool {
    approval.subject.id == order.header.id
        && !approval.header.is_deleted()
        && approval.standing() == Standing::Approved
        && needed
            .steps
            .iter()
            .all(|s| approval.chain.steps.contains(s))
        && approval
            .amount
            .is_some_and(|a| a.currency == order.total.currency && a.minor >= order.total.minor)
        && approval.discount.unwrap_or_default() >= order.largest_manual_discount()
}

/// Reviews a pushed order.
pub fn review_order(
    ctx: &Context<'_>,
    before: Option<&Order>,
    after: &Order,
) -> Result<Outcome, Rejection> {
    let was_confirmed = before.is_some_and(|b| b.status == OrderStatus::Confirmed);
    if was_confirmed {
        let before = before.into_iter().next();
        if let Some(b) = before
            && (b.lines != after.lines || b.total != after.total)
        {
            return Err(Rejection::new(
                RuleCode::OrderConfirmedImmutable,
                "the lines of a confirmed order cannot change",
            )
            .at("lines"));
        }
        return Ok(Outcome::Accept);
    }
    if after.status != OrderStatus::Confirmed {
        return Ok(Outcome::Accept);
    }
    check_prices(ctx, after)?;
    let owner_roles = owner_roles(ctx, after)?;
    let needed = needed_approval(ctx.process, after, &owner_roles)
        .map_err(|e| Rejection::new(RuleCode::OrderAmount, e.to_string()).at("total"))?;
    let Some(needed) = needed else {
        return Ok(Outcome::Accept);
    };
    let missing = || {
        Rejection::new(
            RuleCode::OrderApprovalRequired,
            format!(
                "the order needs approval ({}) before it is confirmed",
                needed.because.join("; ")
            ),
        )
        .at("approval_id")
    };
    let approval_id = after.approval_id.ok_or_else(missing)?;
    let approval = match ctx.lookup.record(approval_id) {
        Ok(Some(AnyRecord::Approval(a))) => a,
        Ok(_) => return Err(missing()),
        Err(e) => return Err(Rejection::new(RuleCode::ServerLookup, e.to_string())),
    };
    if approval_covers(&approval, after, &needed) {
        Ok(Outcome::Accept)
    } else {
        Err(Rejection::new(
            RuleCode::OrderApprovalNotApproved,
            "the order's approval is not approved for this amount and discount",
        )
        .at("approval_id"))
    }
}

/// The roles of the order's owner: the author's own when they own it, else the owner's
/// profile. An owner the server cannot find has no discount allowance.
fn owner_roles(ctx: &Context<'_>, order: &Order) -> Result<Vec<String>, Rejection> {
    let Some(owner) = order.header.owner_id else {
        return Ok(Vec::new());
    };
    if owner == ctx.author.user_id {
        return Ok(ctx.author.roles.clone());
    }
    match ctx.lookup.record(owner) {
        Ok(Some(AnyRecord::UserProfile(p))) => Ok(p.roles.iter().cloned().collect()),
        Ok(_) => Ok(Vec::new()),
        Err(e) => Err(Rejection::new(RuleCode::ServerLookup, e.to_string())),
    }
}

/// Each line priced again from the reviewer's catalogue and rules (that the total is the sum of
/// the lines is the order's own validation).
fn check_prices(ctx: &Context<'_>, order: &Order) -> Result<(), Rejection> {
    let tier = match ctx.lookup.record(order.customer_id) {
        Ok(Some(AnyRecord::Customer(c))) => c.tier,
        Ok(_) => None,
        Err(e) => return Err(Rejection::new(RuleCode::ServerLookup, e.to_string())),
    };
    let days = pricing_days(order, ctx);
    for (index, line) in order.lines.iter().enumerate() {
        let product = match ctx.lookup.product_by_code(&line.product_code) {
            Ok(Known::Found(p)) => p,
            Ok(Known::Missing) => {
                return Err(Rejection::new(
                    RuleCode::ProductUnknown,
                    format!("no product {} in the catalogue", line.product_code),
                )
                .at(format!("lines[{index}].product_code")));
            }
            Ok(Known::Unknowable) => return Ok(()),
            Err(e) => return Err(Rejection::new(RuleCode::ServerLookup, e.to_string())),
        };
        let (rules, list_price) = product.price_rules(&ctx.process.pricing, tier.as_deref());
        let priced_on = |on: LocalDate| -> Option<OrderLine> {
            price_line(
                &rules,
                &LineRequest {
                    product: ProductFacts {
                        code: &line.product_code,
                        list_price,
                    },
                    quantity: line.quantity,
                    customer_tier: tier.as_deref(),
                    on,
                    manual_discount: line.manual_discount,
                },
            )
            .ok()
        };
        let priced: Vec<OrderLine> = days.iter().filter_map(|on| priced_on(*on)).collect();
        if priced.iter().any(|p| p == line) {
            continue;
        }
        let detail = match priced.last() {
            Some(p) => format!(
                "line {}: the catalogue prices it at {} per unit ({} list), the order says {} \
                 ({} list)",
                line.product_code, p.unit_price, p.list_price, line.unit_price, line.list_price
            ),
            None => format!("line {} cannot be priced as sent", line.product_code),
        };
        return Err(
            Rejection::new(RuleCode::OrderPriceMismatch, detail).at(format!("lines[{index}]"))
        );
    }
    Ok(())
}

/// The days a line's promotions may have been read on: from the day before the order was
/// created to the day after the review, in UTC (a day's margin covers every time zone).
fn pricing_days(order: &Order, ctx: &Context<'_>) -> Vec<LocalDate> {
    let first = order.header.created_at.local_date(&Zone::UTC).pred();
    let last = ctx.now.local_date(&Zone::UTC).succ();
    let mut days = Vec::new();
    let mut day = first;
    // A month at most: an order drafted long ago is priced on its first and last days only.
    while day <= last && days.len() < 31 {
        days.push(day);
        day = day.succ();
    }
    if days.last() != Some(&last) {
        days.extend([last.pred(), last]);
    }
    days
}
