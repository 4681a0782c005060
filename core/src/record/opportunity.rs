//! Opportunities (商机) and their path through the configured stages.
//!
//! The stage codes and which fields each stage requires come from the process configuration;
//! the record only keeps what happened: the stage history as the rules' [`StageChange`]
//! entries (so the server re-checks each move with the same code), and stage-specific values
//! (budget, bid dates, archived documents) as typed [`FieldValues`] keyed by the configured
//! field key, so a new required field needs no schema change.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::process::{FieldValues, StageChange};
use crate::{LocalDate, Money, RecordId, Timestamp, string_enum};

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

/// A manager's finding that a deal's progress was false (虚假推进): its stages moved on paper
/// and not with the customer. Only a manager over the deal's rep sets or withdraws it (the
/// server refuses anyone else); the penalty is the tenant's configured one, fixed by the
/// server when it receives the mark.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct FalseProgress {
    /// The manager.
    pub by: RecordId,
    /// When they marked it.
    pub at: Timestamp,
    /// What was false.
    pub reason: String,
    /// The penalty owed for it.
    pub penalty: Money,
}

/// The longest false-progress reason kept, in characters.
pub const MAX_FALSE_PROGRESS_REASON_CHARS: usize = 1_000;

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
    /// Every move, oldest first; the last one entered the current stage.
    #[autosurgeon(missing = "Vec::new")]
    pub stage_history: Vec<StageChange>,
    /// Stage-specific values by configured field key.
    #[autosurgeon(missing = "FieldValues::new")]
    pub fields: FieldValues,
    /// Products concerned.
    #[autosurgeon(missing = "Vec::new")]
    pub products: Vec<OpportunityProduct>,
    /// How it ended, once it did.
    pub outcome: Option<Outcome>,
    /// Notes.
    #[autosurgeon(missing = "Text::default")]
    pub notes: Text,
    /// When the last overdue-stage reminder went out, so reminders repeat at the configured
    /// interval rather than on every run.
    #[autosurgeon(missing = "Option::default")]
    pub overdue_reminded_at: Option<Timestamp>,
    /// A manager's finding that the deal's progress was false, with its penalty.
    #[autosurgeon(missing = "Option::default")]
    pub marked_false: Option<FalseProgress>,
}

impl Opportunity {
    /// When the current stage was entered.
    pub fn stage_entered_at(&self) -> Option<Timestamp> {
        self.stage_history.last().map(|e| e.at)
    }

    /// Each stay in a stage: the stage, when it was entered and when it was left.
    pub fn stays(&self) -> Vec<(&str, Timestamp, Option<Timestamp>)> {
        self.stage_history
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.to.as_str(),
                    c.at,
                    self.stage_history.get(i + 1).map(|n| n.at),
                )
            })
            .collect()
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Opportunity, "name", &self.name)?;
        check::required(Kind::Opportunity, "stage", &self.stage)?;
        check::non_negative(Kind::Opportunity, "amount", &self.amount)?;
        match self.stage_history.last() {
            Some(last) if last.to == self.stage => {}
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
        if let Some(mark) = &self.marked_false {
            let reason = mark.reason.trim();
            if reason.is_empty() || reason.chars().count() > MAX_FALSE_PROGRESS_REASON_CHARS {
                return Err(InvalidRecord::Invalid {
                    kind: Kind::Opportunity,
                    field: "marked_false.reason",
                    detail: format!(
                        "say what was false, in at most {MAX_FALSE_PROGRESS_REASON_CHARS} characters"
                    ),
                });
            }
            check::non_negative(Kind::Opportunity, "marked_false.penalty", &mark.penalty)?;
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
