//! The server's review of a pushed approval: who may decide, and which decision counts.
//!
//! Decisions come from phones that were offline, so two approvers may decide the same step
//! without knowing of each other. The rule, the same on every device: **the first decision the
//! server accepts wins.** A pushed decision is checked against the decisions the server
//! already holds; one on a step (or a request) already settled is refused with
//! `approval.already_decided`, and the device shows the decision that stands. A requester can
//! never decide their own request, and a decision names the user who pushed it.

use super::{Context, Outcome, Rejection};
use crate::process::{ApprovalDecision, ApprovalState, Decider, DecisionRefused};
use crate::record::Approval;
use crate::record::approval::ApprovalStatus;
use crate::rule::RuleCode;

/// The rule code a refused decision travels back with.
pub fn refusal_code(refused: &DecisionRefused) -> RuleCode {
    match refused {
        DecisionRefused::OwnRequest => RuleCode::ApprovalOwnRequest,
        DecisionRefused::AlreadyDecided { .. } => RuleCode::ApprovalAlreadyDecided,
        DecisionRefused::NotAnApprover { .. } => RuleCode::ApprovalNotAnApprover,
        DecisionRefused::NotCurrentStep { .. } => RuleCode::ApprovalNotCurrentStep,
        DecisionRefused::AlreadyDecidedByYou => RuleCode::ApprovalDecidedTwice,
    }
}

/// Reviews a pushed approval.
pub fn review_approval(
    ctx: &Context<'_>,
    before: Option<&Approval>,
    after: &Approval,
) -> Result<Outcome, Rejection> {
    let empty = Vec::new();
    let held: &Vec<ApprovalDecision> = before.map_or(&empty, |b| &b.decisions);
    if let Some(b) = before {
        if b.chain != after.chain || b.subject != after.subject {
            return Err(Rejection::new(
                RuleCode::ImmutableApproval,
                "the chain and subject of a request cannot change",
            )
            .at("chain"));
        }
        if b.header.owner_id != after.header.owner_id {
            return Err(Rejection::new(
                RuleCode::ImmutableApproval,
                "the requester of a request cannot change",
            )
            .at("owner_id"));
        }
        if let Some(lost) = held.iter().find(|d| !after.decisions.contains(d)) {
            return Err(Rejection::new(
                RuleCode::ApprovalDecisionRemoved,
                format!("the decision of step {} cannot be taken back", lost.step),
            )
            .at("decisions"));
        }
        if after.status == ApprovalStatus::Withdrawn && b.status != ApprovalStatus::Withdrawn {
            if ctx.author.user_id != after.requester() {
                return Err(Rejection::new(
                    RuleCode::ApprovalWithdraw,
                    "only the requester withdraws a request",
                )
                .at("status"));
            }
            if b.standing().is_decided() {
                return Err(Rejection::new(
                    RuleCode::ApprovalAlreadyDecided,
                    "a decided request cannot be withdrawn",
                )
                .at("status"));
            }
        }
    }
    let fresh: Vec<&ApprovalDecision> = after
        .decisions
        .iter()
        .filter(|d| !held.contains(d))
        .collect();
    let mut accepted: Vec<ApprovalDecision> = held.clone();
    for d in fresh {
        if d.by != ctx.author.user_id {
            return Err(Rejection::new(
                RuleCode::ApprovalDecidedForAnother,
                "a decision must be made by the user who pushes it",
            )
            .at("decisions"));
        }
        if !ctx.author.roles.contains(&d.role) {
            return Err(Rejection::new(
                RuleCode::ApprovalNotAnApprover,
                format!("you do not hold the role {}", d.role),
            )
            .at("decisions"));
        }
        let state = ApprovalState {
            requester: after.requester(),
            chain: &after.chain,
            decisions: &accepted,
        };
        let decider = Decider {
            user: d.by,
            roles: std::slice::from_ref(&d.role),
        };
        if let Err(refused) = state.decide(&decider, d.step, d.verdict.clone(), None, d.at) {
            let detail = match &refused {
                DecisionRefused::AlreadyDecided { .. } => {
                    "another approver decided first; their decision stands".to_string()
                }
                other => other.to_string(),
            };
            return Err(Rejection::new(refusal_code(&refused), detail).at("decisions"));
        }
        accepted.push(d.clone());
    }
    // The status is what the decisions say, counted in the order the server accepted them.
    if after.status != ApprovalStatus::Withdrawn {
        let state = ApprovalState {
            requester: after.requester(),
            chain: &after.chain,
            decisions: &accepted,
        };
        let standing = state.status();
        let status = ApprovalStatus::of(&standing);
        if status != after.status || accepted != after.decisions {
            let mut amended = after.clone();
            amended.status = status;
            amended.decisions = accepted;
            if standing.is_decided() && amended.decided_at.is_none() {
                amended.decided_at = Some(ctx.now);
            }
            return Ok(Outcome::Amend(Box::new(amended.into())));
        }
    }
    Ok(Outcome::Accept)
}
