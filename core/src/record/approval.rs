//! Approval requests (审批): a discount beyond a role's limit, a large contract, a proposed
//! customer location. The chain is copied from the configuration's rules when the request is
//! made, so a later configuration change does not move a running request; decisions are kept
//! in the order the server accepted them, which is the order that counts (see
//! [`crate::process::approval`]).

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, RecordRef, impl_record};
use crate::process::approval::ApprovalStatus as Standing;
use crate::process::{ApprovalChain, ApprovalDecision, ApprovalState};
use crate::{BasisPoints, Money, Timestamp, string_enum};

string_enum! {
    /// Where a request stands, as stored for listing.
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

impl ApprovalStatus {
    /// The stored status of a standing computed by the rules.
    pub fn of(standing: &Standing) -> Self {
        match standing {
            Standing::Pending { .. } => ApprovalStatus::Pending,
            Standing::Approved => ApprovalStatus::Approved,
            Standing::Rejected { .. } => ApprovalStatus::Rejected,
        }
    }
}

/// An approval request; `owner_id` is the requester.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Approval {
    /// Common fields.
    pub header: Header,
    /// The record awaiting approval.
    pub subject: RecordRef,
    /// The configured rules that required it, joined for display.
    pub rule: String,
    /// A short description for the approver's list.
    pub title: String,
    /// The amount concerned, if any.
    pub amount: Option<Money>,
    /// The discount concerned, if any.
    pub discount: Option<BasisPoints>,
    /// The chain: serial steps, each with roles deciding all-of or any-of.
    #[autosurgeon(missing = "empty_chain")]
    pub chain: ApprovalChain,
    /// Decisions in the order the server accepted them.
    #[autosurgeon(missing = "Vec::new")]
    pub decisions: Vec<ApprovalDecision>,
    /// Where it stands, as the deciding device computed it; the server recomputes it from
    /// the decisions in the order it accepted them.
    pub status: ApprovalStatus,
    /// When it was finally decided.
    pub decided_at: Option<Timestamp>,
}

fn empty_chain() -> ApprovalChain {
    ApprovalChain {
        steps: Vec::new(),
        because: Vec::new(),
    }
}

impl Approval {
    /// The request as the rules see it.
    pub fn state(&self) -> ApprovalState<'_> {
        ApprovalState {
            requester: self.requester(),
            chain: &self.chain,
            decisions: &self.decisions,
        }
    }

    /// Who asked: the owner, or the creator of an unowned request.
    pub fn requester(&self) -> crate::RecordId {
        self.header
            .owner_id
            .or(self.header.created_by)
            .unwrap_or_default()
    }

    /// Where the request stands by its decisions.
    pub fn standing(&self) -> Standing {
        self.state().status()
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        if self.chain.steps.is_empty() {
            return Err(InvalidRecord::Missing {
                kind: Kind::Approval,
                field: "chain.steps",
            });
        }
        if self.chain.steps.iter().any(|s| s.roles.is_empty()) {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Approval,
                field: "chain.steps",
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
