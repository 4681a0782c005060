//! The server's review of a pushed order: a confirmed order carries an approved approval that
//! covers what the rules ask for its amount and its deepest discount.
//!
//! "Covers" is checked, not assumed: the approval must be about this order, approved by its
//! decisions, hold every step the rules now require, and be for at least the order's total and
//! its deepest manual discount. Otherwise a device could attach an approval for a smaller
//! amount, or raise the discount after the manager said yes.

use super::{Context, Outcome, Rejection};
use crate::money::InvalidMoney;
use crate::process::approval::ApprovalStatus as Standing;
use crate::process::{ApprovalChain, ApprovalSubject, SalesProcess, required_approval};
use crate::record::order::OrderStatus;
use crate::record::{AnyRecord, Approval, Order};

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
                "order.confirmed_immutable",
                "the lines of a confirmed order cannot change",
            )
            .at("lines"));
        }
        return Ok(Outcome::Accept);
    }
    if after.status != OrderStatus::Confirmed {
        return Ok(Outcome::Accept);
    }
    let owner_roles = owner_roles(ctx, after)?;
    let needed = needed_approval(ctx.process, after, &owner_roles)
        .map_err(|e| Rejection::new("order.amount", e.to_string()).at("total"))?;
    let Some(needed) = needed else {
        return Ok(Outcome::Accept);
    };
    let missing = || {
        Rejection::new(
            "order.approval_required",
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
        Err(e) => return Err(Rejection::new("server.lookup", e.to_string())),
    };
    if approval_covers(&approval, after, &needed) {
        Ok(Outcome::Accept)
    } else {
        Err(Rejection::new(
            "order.approval_not_approved",
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
        Err(e) => Err(Rejection::new("server.lookup", e.to_string())),
    }
}
