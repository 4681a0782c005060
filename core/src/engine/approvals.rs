//! Deciding approvals on the approver's phone, offline if need be.
//!
//! The decision is checked here with the same rule the server applies: never by the
//! requester, only by a holder of a role the current step waits for, once per person and step.
//! When two approvers decide the same step on two devices, the first decision the server
//! accepts wins; the other device's push is refused with `approval.already_decided` and it
//! shows the outcome that stands.

use super::Engine;
use crate::process::approval::ApprovalStatus as Standing;
use crate::process::{Decider, Verdict};
use crate::record::Approval;
use crate::record::approval::ApprovalStatus;
use crate::rule::RuleCode;
use crate::store::StoreRead;
use crate::{Error, RecordId, Result};

impl Engine {
    /// Approves or rejects the current step of an approval as the signed-in user.
    pub fn decide_approval(
        &mut self,
        id: RecordId,
        verdict: Verdict,
        comment: Option<&str>,
    ) -> Result<Approval> {
        let approval: Approval = self.store().get(id)?;
        if approval.status == ApprovalStatus::Withdrawn {
            return Err(Error::rule(
                RuleCode::ApprovalWithdrawn,
                "the request was withdrawn",
            ));
        }
        let step = match approval.standing() {
            Standing::Pending { step, .. } => u32::try_from(step).unwrap_or(u32::MAX),
            status => {
                return Err(crate::process::DecisionRefused::AlreadyDecided { status }.into());
            }
        };
        let me = self.me().clone();
        let now = self.now();
        let decision = approval.state().decide(
            &Decider {
                user: me.user_id,
                roles: &me.roles,
            },
            step,
            verdict,
            comment,
            now,
        )?;
        self.guarded()?.update::<Approval>(id, |a| {
            a.decisions.push(decision);
            let standing = a.standing();
            a.status = ApprovalStatus::of(&standing);
            if standing.is_decided() {
                a.decided_at = Some(now);
            }
            Ok(())
        })
    }

    /// The requester withdraws a pending request.
    pub fn withdraw_approval(&mut self, id: RecordId) -> Result<Approval> {
        let me = self.me().user_id;
        self.guarded()?.update::<Approval>(id, |a| {
            if a.requester() != me {
                return Err(Error::NotAllowed(
                    "only the requester withdraws a request".into(),
                ));
            }
            if a.status != ApprovalStatus::Pending {
                return Err(Error::rule(
                    RuleCode::ApprovalDecided,
                    "the request is decided",
                ));
            }
            a.status = ApprovalStatus::Withdrawn;
            Ok(())
        })
    }

    /// Pending approvals whose current step waits for one of the signed-in user's roles and
    /// that they did not request.
    pub fn approvals_waiting_for_me(&self) -> Result<Vec<Approval>> {
        let me = self.me().clone();
        let pending = self
            .store()
            .approvals_in(ApprovalStatus::Pending.as_str())?;
        Ok(pending
            .into_iter()
            .map(|id| self.store().get::<Approval>(id))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|a| a.status == ApprovalStatus::Pending && a.requester() != me.user_id)
            .filter(|a| match a.standing() {
                Standing::Pending { waiting_for, .. } => {
                    waiting_for.iter().any(|r| me.roles.contains(r))
                }
                _ => false,
            })
            .collect())
    }
}
