//! Opportunities (商机) and their path through the configured stages.
//!
//! The stage codes and which fields each stage requires come from the process configuration;
//! the record only keeps what happened. Stage-specific values (budget, bid dates, archived
//! documents) sit in `fields` as text keyed by the configured field key: the configuration's
//! field type says how to read each one, so a new required field needs no schema change.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::{LocalDate, Money, RecordId, Timestamp, string_enum};

/// One stay in a stage.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct StageEntry {
    /// The stage code.
    pub stage: String,
    /// When the opportunity entered it.
    pub entered_at: Timestamp,
    /// When it left, once it did.
    pub left_at: Option<Timestamp>,
    /// Who moved it in.
    pub by: Option<RecordId>,
    /// Why, for a move back or a terminal stage.
    pub reason: Option<String>,
}

string_enum! {
    /// How an opportunity ended.
    pub enum OutcomeKind {
        /// Won (赢单).
        Won = "won",
        /// Lost (丢单).
        Lost = "lost",
    }
}

/// The end of an opportunity.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Outcome {
    /// Won or lost.
    pub kind: OutcomeKind,
    /// Why (required for both).
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// A product the opportunity is about.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct OpportunityProduct {
    /// The product.
    pub product_id: RecordId,
    /// How many.
    pub quantity: i64,
}

/// An opportunity.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Opportunity {
    /// Common fields.
    pub header: Header,
    /// The customer; it must exist.
    pub customer_id: RecordId,
    /// Name, required and unique within the customer.
    pub name: String,
    /// Expected amount.
    pub amount: Money,
    /// Expected close date.
    pub expected_close: Option<LocalDate>,
    /// The current stage code.
    pub stage: String,
    /// Every stay in a stage, oldest first; the last one is the current stage.
    pub stage_history: Vec<StageEntry>,
    /// Stage-specific values by configured field key.
    #[autosurgeon(missing = "BTreeMap::new")]
    pub fields: BTreeMap<String, String>,
    /// Products concerned.
    #[autosurgeon(missing = "Vec::new")]
    pub products: Vec<OpportunityProduct>,
    /// How it ended, once it did.
    pub outcome: Option<Outcome>,
    /// Notes.
    #[autosurgeon(missing = "Text::default")]
    pub notes: Text,
}

impl Opportunity {
    /// When the current stage was entered.
    pub fn stage_entered_at(&self) -> Option<Timestamp> {
        self.stage_history.last().map(|e| e.entered_at)
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Opportunity, "name", &self.name)?;
        check::required(Kind::Opportunity, "stage", &self.stage)?;
        check::non_negative(Kind::Opportunity, "amount", &self.amount)?;
        match self.stage_history.last() {
            Some(last) if last.stage == self.stage => {}
            _ => {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Opportunity,
                    field: "stage_history",
                    detail: "the last history entry must be the current stage".into(),
                });
            }
        }
        if self.products.iter().any(|p| p.quantity <= 0) {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Opportunity,
                field: "products",
                detail: "quantities must be positive".into(),
            });
        }
        if let Some(o) = &self.outcome {
            check::known(Kind::Opportunity, "outcome", o.kind.is_known(), &o.kind)?;
            check::required(Kind::Opportunity, "outcome.reason", &o.reason)?;
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.name.clone(),
            customer_id: Some(self.customer_id),
            status: Some(self.stage.clone()),
            occurred_at: self.stage_entered_at(),
            local_date: self.expected_close,
            search_text: Some(self.name.clone()),
        }
    }
}
impl_record!(Opportunity, Opportunity);
