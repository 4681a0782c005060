//! Opportunities on the device: created in the opening stage, moved one stage at a time with
//! the entered stage's required fields filled, back only with a reason, closed as won or lost
//! with a reason. The server re-checks every move from the history
//! ([`crate::authority::opportunity`]); the phone checks first so the rep hears it at once.

use crate::authority::Lookup;
use crate::store::{Facts, StoreRead};
use autosurgeon::Text;

use super::Engine;
use crate::process::{
    FieldValues, StageMoveRequest, StageOutcome, check_stage_move, open_opportunity,
};
use crate::record::approval::ApprovalStatus;
use crate::record::opportunity::{OpportunityProduct, Outcome, OutcomeKind};
use crate::record::{Approval, Header, Kind, Opportunity, RecordRef};
use crate::rule::RuleCode;
use crate::{Error, LocalDate, Money, RecordId, Result};

/// What a new opportunity says.
#[derive(Debug, Clone)]
pub struct NewOpportunity {
    /// The customer; it must exist.
    pub customer_id: RecordId,
    /// Name, unique within the customer.
    pub name: String,
    /// Expected amount.
    pub amount: Money,
    /// Expected close date.
    pub expected_close: Option<LocalDate>,
    /// Values of the opening stage's fields.
    pub fields: FieldValues,
}

/// What a move did.
#[derive(Debug, Clone, PartialEq)]
pub enum StageMoveResult {
    /// The opportunity is in the new stage.
    Moved(Box<Opportunity>),
    /// The stage asks for an approval first; the request was made (or was already pending)
    /// and the move is made once it is approved.
    AwaitingApproval(Box<Approval>),
}

impl Engine {
    pub(crate) fn new_opportunity_value(
        &self,
        customer_id: RecordId,
        name: &str,
        amount: Money,
        fields: FieldValues,
    ) -> Result<Opportunity> {
        let process = self.process()?;
        let me = self.me().user_id;
        let now = self.now();
        let opened = open_opportunity(&process.stages, &fields, me, now)?;
        let mut header = Header::new(me, now);
        header.org_unit_id = Some(self.me().unit_id);
        Ok(Opportunity {
            header,
            customer_id,
            name: name.trim().to_string(),
            amount,
            expected_close: None,
            stage: opened.to.clone(),
            stage_history: vec![opened],
            fields,
            products: Vec::new(),
            outcome: None,
            notes: Text::default(),
            overdue_reminded_at: None,
        })
    }

    /// Creates an opportunity in the process's opening stage.
    pub fn create_opportunity(&mut self, new: NewOpportunity) -> Result<Opportunity> {
        match self.store().kind_of(new.customer_id)? {
            Some(k) if k == Kind::Customer.as_str() => {}
            _ => return Err(Error::not_found(Kind::Customer, new.customer_id)),
        }
        if new.name.trim().is_empty() {
            return Err(crate::record::InvalidRecord::Missing {
                kind: Kind::Opportunity,
                field: "name",
            }
            .into());
        }
        let mut o =
            self.new_opportunity_value(new.customer_id, &new.name, new.amount, new.fields)?;
        self.require_unique_name(o.customer_id, &o.name, o.header.id)?;
        o.expected_close = new.expected_close;
        self.guarded()?.create(o)
    }

    /// Refuses a name another live opportunity of the customer has (trimmed, case and width
    /// folded): the same fact the server's review asks.
    fn require_unique_name(&self, customer: RecordId, name: &str, except: RecordId) -> Result<()> {
        match Facts::new(self.store()).opportunity_named(customer, name, except)? {
            Some(_) => Err(Error::rule(
                RuleCode::OpportunityNameTaken,
                format!(
                    "the customer already has an opportunity named {}",
                    name.trim()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Renames an opportunity (unique within its customer).
    pub fn rename_opportunity(&mut self, id: RecordId, name: &str) -> Result<Opportunity> {
        let o: Opportunity = self.store().get(id)?;
        self.require_visible(&o.header)?;
        self.require_unique_name(o.customer_id, name, id)?;
        let name = name.trim().to_string();
        self.guarded()?.update::<Opportunity>(id, |o| {
            o.name = name;
            Ok(())
        })
    }

    /// Fills stage fields (merged into what is there).
    pub fn set_opportunity_fields(
        &mut self,
        id: RecordId,
        values: FieldValues,
    ) -> Result<Opportunity> {
        let o: Opportunity = self.store().get(id)?;
        self.require_visible(&o.header)?;
        self.guarded()?.update::<Opportunity>(id, |o| {
            o.fields.extend(values);
            Ok(())
        })
    }

    /// Replaces the products an opportunity is about. Every product must be one this device
    /// holds and every quantity positive, so a deal never names a product nobody can price.
    pub fn set_opportunity_products(
        &mut self,
        id: RecordId,
        products: Vec<OpportunityProduct>,
    ) -> Result<Opportunity> {
        let o: Opportunity = self.store().get(id)?;
        self.require_visible(&o.header)?;
        for p in &products {
            if p.quantity <= 0 {
                return Err(Error::InvalidInput {
                    field: "quantity",
                    detail: format!("must be at least 1, got {}", p.quantity),
                });
            }
            match self.store().kind_of(p.product_id)? {
                Some(k) if k == Kind::Product.as_str() => {}
                _ => return Err(Error::not_found(Kind::Product, p.product_id)),
            }
        }
        self.guarded()?.update::<Opportunity>(id, |o| {
            o.products = products;
            Ok(())
        })
    }

    /// Moves an opportunity to `to`: the next stage, an earlier one (with a reason) or an
    /// outcome (with a reason). A stage whose steps ask for an approver first gets an approval
    /// request; the move is made when it is approved.
    pub fn move_opportunity(
        &mut self,
        id: RecordId,
        to: &str,
        reason: Option<&str>,
    ) -> Result<StageMoveResult> {
        let o: Opportunity = self.store().get(id)?;
        self.require_visible(&o.header)?;
        let process = self.process()?;
        let me = self.me().user_id;
        let now = self.now();
        let request = StageMoveRequest {
            to,
            reason,
            by: me,
            at: now,
        };
        let moved = check_stage_move(&process.stages, &o.stage, &o.fields, &request)?;
        if !moved.approvals.is_empty() {
            let rule = crate::process::stage::approval_rule(to);
            let existing = Facts::new(self.store()).approval_for(id, &rule)?;
            match existing {
                Some(a) if a.status == ApprovalStatus::Approved => {}
                Some(a) if a.status == ApprovalStatus::Pending => {
                    return Ok(StageMoveResult::AwaitingApproval(Box::new(a)));
                }
                _ => {
                    let chain = crate::process::required_approval(
                        &crate::process::ApprovalRules { rules: Vec::new() },
                        &process.discounts,
                        &crate::process::ApprovalSubject {
                            kind: "opportunity",
                            amount: None,
                            max_discount: None,
                            requester_roles: &self.me().roles,
                            entering_stage: Some(to),
                        },
                        &moved.approvals,
                    )
                    .map_err(super::people::money_error("amount"))?;
                    let Some(chain) = chain else {
                        return Err(Error::rule(
                            RuleCode::StageApproval,
                            "no approver for the stage",
                        ));
                    };
                    let approval = Approval {
                        header: self.owned_header(now),
                        subject: RecordRef {
                            kind: Kind::Opportunity,
                            id,
                        },
                        rule,
                        title: format!("{} → {to}", o.name),
                        amount: Some(o.amount),
                        discount: None,
                        chain,
                        decisions: Vec::new(),
                        status: ApprovalStatus::Pending,
                        decided_at: None,
                    };
                    let approval = self.guarded()?.create(approval)?;
                    return Ok(StageMoveResult::AwaitingApproval(Box::new(approval)));
                }
            }
        }
        let outcome = process
            .stage(to)
            .and_then(|s| s.outcome.clone())
            .map(|kind| Outcome {
                kind: match kind {
                    StageOutcome::Won => OutcomeKind::Won,
                    _ => OutcomeKind::Lost,
                },
                reason: moved.change.reason.clone().unwrap_or_default(),
                at: now,
            });
        let updated = self.guarded()?.update::<Opportunity>(id, |o| {
            o.stage = moved.change.to.clone();
            o.stage_history.push(moved.change);
            o.outcome = outcome;
            o.overdue_reminded_at = None;
            Ok(())
        })?;
        Ok(StageMoveResult::Moved(Box::new(updated)))
    }

    /// Stage reminders due now for the opportunities this device holds: the owner and their
    /// manager hear about a deal past its stage's longest time.
    pub fn overdue_opportunities(&self) -> Result<Vec<crate::jobs::StageReminder>> {
        let process = self.process()?;
        let tree = self.org_tree()?;
        let mut opportunities = Vec::new();
        for id in self.store().open_opportunities()? {
            let o: Opportunity = self.store().get(id)?;
            if tree.can_see(self.me(), &o.header) {
                opportunities.push(o);
            }
        }
        let units: std::collections::HashMap<RecordId, RecordId> = self
            .store()
            .people()?
            .into_iter()
            .map(|p| (p.id, p.unit_id))
            .collect();
        let me = self.me().clone();
        let manager = |user: RecordId| {
            let unit = units
                .get(&user)
                .copied()
                .or((user == me.user_id).then_some(me.unit_id))?;
            tree.manager_of(user, unit)
        };
        Ok(crate::jobs::overdue_stages(
            &opportunities,
            &process.stages,
            manager,
            self.now(),
        ))
    }
}
