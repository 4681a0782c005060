//! The server's review of a pushed lead: a lead changes hands only within the rules of the
//! pool. A rep holds at most the configured number of open leads, and waits the configured
//! days before taking back a lead they let go; a lead another rep holds is not theirs to
//! take — of two claims made offline, the first the server accepts wins and the other phone
//! is told, its claim kept as a refused change.

use super::{Context, Outcome, Rejection};
use crate::process::{ClaimRefused, LeadFacts, check_claim};
use crate::record::Lead;
use crate::record::lead::LeadEventKind;
use crate::rule::RuleCode;

/// The rule code of a refused claim.
pub fn claim_code(refused: &ClaimRefused) -> RuleCode {
    match refused {
        ClaimRefused::NotInPool { .. } => RuleCode::LeadNotInPool,
        ClaimRefused::Converted => RuleCode::LeadConverted,
        ClaimRefused::LimitReached { .. } => RuleCode::LeadLimitReached,
        ClaimRefused::WaitingPeriod { .. } => RuleCode::LeadWaitingPeriod,
    }
}

fn refused(e: ClaimRefused) -> Rejection {
    Rejection::new(claim_code(&e), e.to_string()).at("header.owner_id")
}

/// Whether `after` records a claim by `user` that `before` did not hold.
pub fn claims_anew(before: Option<&Lead>, after: &Lead, user: crate::RecordId) -> bool {
    let held = |l: &Lead| {
        l.events
            .iter()
            .filter(|e| e.kind == LeadEventKind::Claimed && e.rep_id == Some(user))
            .count()
    };
    held(after) > before.map_or(0, held)
}

/// Refuses a claim of a lead another rep holds already: of two claims made offline, the
/// first the server accepted holds the lead. Checked before anything else, since the lead is
/// no longer the claimant's to see.
pub fn taken_first(before: &Lead, after: &Lead, me: crate::RecordId) -> Result<(), Rejection> {
    match before.header.owner_id {
        Some(other)
            if other != me
                && (after.header.owner_id == Some(me) || claims_anew(Some(before), after, me)) =>
        {
            Err(refused(ClaimRefused::NotInPool { owner: other }))
        }
        _ => Ok(()),
    }
}

/// Reviews a pushed lead.
pub fn review_lead(
    ctx: &Context<'_>,
    before: Option<&Lead>,
    after: &Lead,
) -> Result<Outcome, Rejection> {
    let me = ctx.author.user_id;
    let was = before.and_then(|b| b.header.owner_id);
    if let Some(before) = before {
        taken_first(before, after, me)?;
    }
    let Some(rep) = after.header.owner_id else {
        return Ok(Outcome::Accept);
    };
    let Some(before) = before.filter(|_| was != Some(rep)) else {
        return Ok(Outcome::Accept);
    };
    // The lead changes hands (a claim, or a manager's assignment): the pool's rules hold.
    let open = ctx
        .lookup
        .open_leads_of(rep, after.header.id)
        .map_err(|e| Rejection::new(RuleCode::ServerLookup, e.to_string()))?;
    let facts = LeadFacts {
        owner: None,
        ..before.facts()
    };
    let mut rules = ctx.process.leads.clone();
    if rep != me {
        // A manager assigning is not the rep coming back for a lead they let go.
        rules.reclaim_wait_days = 0;
    }
    check_claim(&facts, &before.releases, rep, open, &rules, ctx.now).map_err(refused)?;
    Ok(Outcome::Accept)
}
