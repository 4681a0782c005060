//! A customer location proposed by a check-in, waiting for a manager.
//!
//! Many customers are created from a business card, with no position. The first rep standing
//! at the site is the best source of one, but a rep who registers their own position as the
//! customer's could never be out of the fence again; so the position is only proposed, and a
//! manager decides.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::place::GeoPoint;
use crate::string_enum;
use crate::time::Timestamp;

use super::check_in::DevicePosition;

string_enum! {
    /// Where a location proposal stands.
    pub enum ProposalStatus {
        /// Waiting for a manager.
        Pending = "pending",
        /// The manager accepted it: it is now the customer's location.
        Approved = "approved",
        /// The manager refused it.
        Rejected = "rejected",
    }
}

/// The longest rejection reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A proposed registered location for a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct LocationProposal {
    /// The customer it is for.
    pub customer_id: RecordId,
    /// The proposed location.
    pub point: GeoPoint,
    /// Accuracy of the fix it came from, metres.
    pub accuracy_m: f64,
    /// When the check-in that proposed it happened, on the device's clock.
    pub proposed_at: Timestamp,
    /// Pending, approved or rejected.
    pub status: ProposalStatus,
    /// The manager who decided.
    #[autosurgeon(missing = "Option::default")]
    pub decided_by: Option<RecordId>,
    /// When they decided.
    #[autosurgeon(missing = "Option::default")]
    pub decided_at: Option<Timestamp>,
    /// Why it was rejected.
    #[autosurgeon(missing = "Option::default")]
    pub rejection_reason: Option<String>,
}

/// A decision that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposalError {
    /// Someone already decided.
    #[error("the location proposal was already {status}")]
    AlreadyDecided {
        /// The decision already taken.
        status: ProposalStatus,
    },
    /// A rejection needs a reason the rep can read.
    #[error("a rejection needs a reason")]
    EmptyReason,
    /// The reason is longer than kept.
    #[error("the reason has {chars} characters; at most {MAX_REASON_CHARS} are kept")]
    ReasonTooLong {
        /// Its length.
        chars: usize,
    },
}

impl LocationProposal {
    /// A pending proposal from a check-in's fix.
    pub fn new(customer_id: RecordId, fix: &DevicePosition, proposed_at: Timestamp) -> Self {
        LocationProposal {
            customer_id,
            point: fix.point,
            accuracy_m: fix.accuracy_m,
            proposed_at,
            status: ProposalStatus::Pending,
            decided_by: None,
            decided_at: None,
            rejection_reason: None,
        }
    }

    /// A manager accepts it; the point returned becomes the customer's location.
    pub fn approve(&mut self, by: RecordId, at: Timestamp) -> Result<GeoPoint, ProposalError> {
        self.pending()?;
        self.status = ProposalStatus::Approved;
        self.decided_by = Some(by);
        self.decided_at = Some(at);
        Ok(self.point)
    }

    /// A manager refuses it, saying why.
    pub fn reject(
        &mut self,
        by: RecordId,
        at: Timestamp,
        reason: &str,
    ) -> Result<(), ProposalError> {
        self.pending()?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ProposalError::EmptyReason);
        }
        let chars = reason.chars().count();
        if chars > MAX_REASON_CHARS {
            return Err(ProposalError::ReasonTooLong { chars });
        }
        self.status = ProposalStatus::Rejected;
        self.decided_by = Some(by);
        self.decided_at = Some(at);
        self.rejection_reason = Some(reason.to_string());
        Ok(())
    }

    fn pending(&self) -> Result<(), ProposalError> {
        match &self.status {
            ProposalStatus::Pending => Ok(()),
            other => Err(ProposalError::AlreadyDecided {
                status: other.clone(),
            }),
        }
    }
}
