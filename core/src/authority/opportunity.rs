//! The server's review of a pushed opportunity: every move in its stage history is checked
//! again with the rules the phone ran, so a device that skipped a stage or left a stage's
//! required fields empty (bypassing its own checks) is refused.
//!
//! History is append-only: moves the server holds cannot be rewritten, and each new move must
//! be one [`check_stage_move`] accepts from the stage before it, made by the pushing user.

use super::{Context, Outcome, Rejection};
use crate::process::stage::{approval_rule, opening_stage};
use crate::process::{
    MoveKind, StageChange, StageMoveRefused, StageMoveRequest, StageOutcome, check_stage_move,
};
use crate::record::Opportunity;
use crate::record::approval::ApprovalStatus;
use crate::record::opportunity::OutcomeKind;
use crate::rule::RuleCode;

/// The rule code a refused move travels back with.
pub fn refusal_code(refused: &StageMoveRefused) -> RuleCode {
    match refused {
        StageMoveRefused::UnknownStage { .. } => RuleCode::StageUnknown,
        StageMoveRefused::AlreadyThere { .. } => RuleCode::StageAlreadyThere,
        StageMoveRefused::Skips { .. } => RuleCode::StageSkip,
        StageMoveRefused::AlreadyClosed { .. } => RuleCode::StageClosed,
        StageMoveRefused::LeadStage { .. } => RuleCode::StageLeadStage,
        StageMoveRefused::NoOpeningStage => RuleCode::StageNoOpeningStage,
        StageMoveRefused::MissingFields { .. } => RuleCode::StageRequiredFields,
        StageMoveRefused::ReasonRequired { .. } => RuleCode::StageReasonRequired,
    }
}

fn refused(e: StageMoveRefused) -> Rejection {
    Rejection::new(refusal_code(&e), e.to_string()).at("stage")
}

/// Reviews a pushed opportunity.
pub fn review_opportunity(
    ctx: &Context<'_>,
    before: Option<&Opportunity>,
    after: &Opportunity,
) -> Result<Outcome, Rejection> {
    let stages = &ctx.process.stages;
    let held: &[StageChange] = before.map_or(&[], |b| b.stage_history.as_slice());
    if after.stage_history.len() < held.len() || after.stage_history[..held.len()] != *held {
        return Err(Rejection::new(
            RuleCode::StageHistoryRewritten,
            "the stage history cannot be rewritten",
        )
        .at("stage_history"));
    }
    let fresh = &after.stage_history[held.len()..];
    let mut current: Option<&str> = held.last().map(|c| c.to.as_str());
    for change in fresh {
        if change.by != ctx.author.user_id {
            return Err(Rejection::new(
                RuleCode::StageMovedForAnother,
                "a move must be made by the user who pushes it",
            )
            .at("stage_history"));
        }
        match current {
            None => {
                let opening = opening_stage(stages)
                    .ok_or_else(|| refused(StageMoveRefused::NoOpeningStage))?;
                if change.kind != MoveKind::Open || change.to != opening.key {
                    return Err(refused(StageMoveRefused::Skips {
                        from: String::new(),
                        to: change.to.clone(),
                        next: Some(opening.key.clone()),
                    }));
                }
                let missing =
                    crate::process::fields::missing_fields(&opening.fields, &after.fields);
                if !missing.is_empty() {
                    return Err(refused(StageMoveRefused::MissingFields {
                        stage: opening.key.clone(),
                        missing,
                    }));
                }
            }
            Some(from) => {
                let request = StageMoveRequest {
                    to: &change.to,
                    reason: change.reason.as_deref(),
                    by: change.by,
                    at: change.at,
                };
                let moved =
                    check_stage_move(stages, from, &after.fields, &request).map_err(refused)?;
                if !moved.approvals.is_empty() {
                    // The step table names approvers for this stage: it is entered only once
                    // its approval is approved.
                    let rule = approval_rule(&change.to);
                    match ctx.lookup.approval_for(after.header.id, &rule) {
                        Ok(Some(a)) if a.status == ApprovalStatus::Approved => {}
                        Ok(_) => {
                            return Err(Rejection::new(
                                RuleCode::StageApproval,
                                format!("entering {} needs its approval first", change.to),
                            )
                            .at("stage"));
                        }
                        Err(e) => {
                            return Err(Rejection::new(RuleCode::ServerLookup, e.to_string()));
                        }
                    }
                }
                if moved.change.kind != change.kind {
                    return Err(Rejection::new(
                        RuleCode::StageKindMismatch,
                        format!(
                            "a move to {} is a {}, not a {}",
                            change.to, moved.change.kind, change.kind
                        ),
                    )
                    .at("stage_history"));
                }
            }
        }
        current = Some(change.to.as_str());
    }
    // The outcome matches the stage the deal ended in.
    let terminal = stages
        .iter()
        .find(|s| s.key == after.stage)
        .and_then(|s| s.outcome.clone());
    let outcome_ok = match (&terminal, &after.outcome) {
        (None, None) => true,
        (Some(StageOutcome::Won), Some(o)) => o.kind == OutcomeKind::Won,
        (Some(StageOutcome::Lost), Some(o)) => o.kind == OutcomeKind::Lost,
        _ => false,
    };
    if !outcome_ok && (!fresh.is_empty() || before.is_none_or(|b| b.outcome != after.outcome)) {
        return Err(Rejection::new(
            RuleCode::StageOutcomeMismatch,
            "a won or lost deal carries its outcome and reason, an open one none",
        )
        .at("outcome"));
    }
    let renamed = before.is_none_or(|b| b.name != after.name || b.customer_id != after.customer_id);
    if renamed {
        match ctx
            .lookup
            .opportunity_named(after.customer_id, &after.name, after.header.id)
        {
            Ok(Some(_)) => {
                return Err(Rejection::new(
                    RuleCode::OpportunityNameTaken,
                    "the customer already has an opportunity of this name",
                )
                .at("name"));
            }
            Ok(None) => {}
            Err(e) => return Err(Rejection::new(RuleCode::ServerLookup, e.to_string())),
        }
    }
    Ok(Outcome::Accept)
}
