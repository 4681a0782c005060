//! Approval requests (审批): a discount beyond a role's limit, a large contract, a proposed
//! customer location. Steps and their approver roles are copied from the configuration's rule
//! when the request is made, so a later configuration change does not move a running request.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, RecordRef, impl_record};
use crate::{BasisPoints, Money, RecordId, Timestamp, string_enum};

string_enum! {
    /// How a step's approvers decide.
    pub enum StepMode {
        /// One approver after the other, in the order of `roles`.
        Serial = "serial",
        /// Every approver must approve.
        AllOf = "all_of",
        /// One approval is enough.
        AnyOf = "any_of",
    }
}

string_enum! {
    /// An approver's answer.
    pub enum DecisionKind {
        /// Approve.
        Approve = "approve",
        /// Reject.
        Reject = "reject",
    }
}

string_enum! {
    /// Where a request stands.
    pub enum ApprovalStatus {
        /// Waiting for decisions.
        Pending = "pending",
        /// Every step approved.
        Approved = "approved",
        /// A step rejected.
        Rejected = "rejected",
        /// Withdrawn by the requester.
        Withdrawn = "withdrawn",
    }
}

/// One approver's decision.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Decision {
    /// Who decided.
    pub by: RecordId,
    /// The role they decided in.
    pub role: String,
    /// Approve or reject.
    pub kind: DecisionKind,
    /// Their comment.
    pub comment: Option<String>,
    /// When (device time).
    pub at: Timestamp,
}

/// One step of the chain.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ApprovalStep {
    /// The approver roles of the step, in order (the order matters for serial steps).
    pub roles: Vec<String>,
    /// How they decide.
    pub mode: StepMode,
    /// Decisions taken in this step.
    pub decisions: Vec<Decision>,
}

/// An approval request; `owner_id` is the requester.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Approval {
    /// Common fields.
    pub header: Header,
    /// The record awaiting approval.
    pub subject: RecordRef,
    /// The configured rule that required it.
    pub rule: String,
    /// A short description for the approver's list.
    pub title: String,
    /// The amount concerned, if any.
    pub amount: Option<Money>,
    /// The discount concerned, if any.
    pub discount: Option<BasisPoints>,
    /// The chain.
    pub steps: Vec<ApprovalStep>,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// When it was finally decided.
    pub decided_at: Option<Timestamp>,
}

impl Approval {
    fn check(&self) -> Result<(), InvalidRecord> {
        if self.steps.is_empty() {
            return Err(InvalidRecord::Missing {
                kind: Kind::Approval,
                field: "steps",
            });
        }
        if self.steps.iter().any(|s| s.roles.is_empty()) {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Approval,
                field: "steps",
                detail: "every step needs at least one approver role".into(),
            });
        }
        if let Some(a) = &self.amount {
            super::check::non_negative(Kind::Approval, "amount", a)?;
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.title.clone(),
            status: Some(self.status.to_string()),
            occurred_at: Some(self.header.created_at),
            ..Index::default()
        }
    }
}
impl_record!(Approval, Approval);

/// Whether a step has reached its outcome: a rejection, or enough approvals for its mode.
pub fn step_is_decided(step: &ApprovalStep) -> bool {
    if step
        .decisions
        .iter()
        .any(|d| d.kind == DecisionKind::Reject)
    {
        return true;
    }
    let approved = |role: &String| {
        step.decisions
            .iter()
            .any(|d| d.kind == DecisionKind::Approve && &d.role == role)
    };
    match step.mode {
        StepMode::AnyOf => step.roles.iter().any(approved),
        _ => step.roles.iter().all(approved),
    }
}
