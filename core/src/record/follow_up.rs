//! Follow-up records (跟进记录): every contact a rep has with a customer, lead or opportunity.
//!
//! A follow-up is what resets a lead's reclaim timer and what the second ownership rule counts.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, RecordRef, impl_record};
use crate::{RecordId, Timestamp, string_enum};

string_enum! {
    /// How the follow-up happened.
    pub enum FollowUpMethod {
        /// A visit on site.
        Visit = "visit",
        /// A phone call.
        Call = "call",
        /// A message (WeChat, SMS, e-mail).
        Message = "message",
        /// A meeting elsewhere or online.
        Meeting = "meeting",
    }
}

/// One follow-up.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct FollowUp {
    /// Common fields.
    pub header: Header,
    /// What was followed up: a customer, a lead or an opportunity.
    pub subject: RecordRef,
    /// The customer concerned, for the customer's interaction history.
    pub customer_id: Option<RecordId>,
    /// How.
    pub method: FollowUpMethod,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// What happened, edited collaboratively.
    pub text: Text,
    /// The agreed next step.
    pub next_step: Option<String>,
    /// The visit this follow-up was logged in, if any.
    pub visit_id: Option<RecordId>,
}

impl FollowUp {
    fn check(&self) -> Result<(), InvalidRecord> {
        if !matches!(
            self.subject.kind,
            Kind::Customer | Kind::Lead | Kind::Opportunity
        ) {
            return Err(InvalidRecord::Invalid {
                kind: Kind::FollowUp,
                field: "subject",
                detail: format!(
                    "a follow-up is about a customer, lead or opportunity, not a {}",
                    self.subject.kind
                ),
            });
        }
        if self.text.as_str().trim().is_empty() {
            return Err(InvalidRecord::Missing {
                kind: Kind::FollowUp,
                field: "text",
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.text.as_str().chars().take(60).collect(),
            customer_id: self
                .customer_id
                .or((self.subject.kind == Kind::Customer).then_some(self.subject.id)),
            status: Some(self.method.to_string()),
            occurred_at: Some(self.occurred_at),
            ..Index::default()
        }
    }
}
impl_record!(FollowUp, FollowUp);
