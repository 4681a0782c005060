//! Leads and the pool, opportunities and their stage moves, approvals: the sales pipeline on
//! the phone.
//!
//! The pool rules (the rep's cap, the waiting period after a release), the stage rules
//! (one stage at a time, each stage's required fields, a reason to go back or close) and the
//! approval rules all run in core with the synced process configuration, so a rep offline
//! hears the same refusal the server would give. A refusal is
//! [`FieldsalesError::RuleViolated`] with the rule's stable code (`lead.limit_reached`,
//! `stage.required_fields`, `approval.own_request`...).

use std::collections::HashMap;
use std::sync::Arc;

use fieldsales_core::engine::{
    ConvertedLead as CoreConverted, LeadConversionRequest, NewLead as CoreNewLead,
    NewOpportunity as CoreNewOpportunity, StageMoveResult,
};
use fieldsales_core::process::{FieldValue as CoreFieldValue, FieldValues, Verdict};
use fieldsales_core::record::lead::LeadStatus;
use fieldsales_core::record::{
    Approval as CoreApproval, FollowUp as CoreFollowUp, Kind, Lead as CoreLead,
    Opportunity as CoreOpportunity,
};
use fieldsales_core::store::ListFilter;
use fieldsales_core::store::StoreRead;

use crate::customers::{Contact, Customer};
use crate::engine::{Engine, optional_id, record_id};
use crate::error::FieldsalesError;
use crate::money::Money;

/// A sales lead.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Lead {
    /// Record ID.
    pub id: String,
    /// The rep holding it; none while it is in a pool.
    pub owner_id: Option<String>,
    /// The company as the lead names it.
    pub company_name: String,
    /// The person to talk to.
    pub contact_name: Option<String>,
    /// Their phone.
    pub phone: Option<String>,
    /// Their e-mail.
    pub email: Option<String>,
    /// Where it came from.
    pub source: Option<String>,
    /// Where it stands.
    pub status: crate::codes::LeadStatus,
    /// When the current holder got it.
    pub assigned_at: Option<fieldsales_core::Timestamp>,
    /// The last follow-up: the reclaim timer runs from here.
    pub last_follow_up_at: Option<fieldsales_core::Timestamp>,
    /// The customer it became, once converted.
    pub converted_customer_id: Option<String>,
}

impl From<CoreLead> for Lead {
    fn from(l: CoreLead) -> Self {
        Lead {
            id: l.header.id.to_string(),
            owner_id: l.header.owner_id.map(|o| o.to_string()),
            company_name: l.company_name,
            contact_name: l.contact_name,
            phone: l.phone,
            email: l.email,
            source: l.source,
            status: l.status.into(),
            assigned_at: l.assigned_at,
            last_follow_up_at: l.last_follow_up_at,
            converted_customer_id: l.conversion.map(|c| c.customer_id.to_string()),
        }
    }
}

/// What a new lead says.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewLead {
    /// The company (required).
    pub company_name: String,
    /// The person to talk to.
    pub contact_name: Option<String>,
    /// Their phone.
    pub phone: Option<String>,
    /// Their e-mail.
    pub email: Option<String>,
    /// Where it came from.
    pub source: Option<String>,
}

/// A follow-up: a call, a message, a meeting or a visit with a customer, lead or deal.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FollowUp {
    /// Record ID.
    pub id: String,
    /// What it is about: a customer, a lead or an opportunity.
    pub subject_kind: crate::codes::RecordKind,
    /// The record it is about.
    pub subject_id: String,
    /// The customer, when known.
    pub customer_id: Option<String>,
    /// How it happened.
    pub method: crate::codes::FollowUpMethod,
    /// When it happened.
    pub occurred_at: fieldsales_core::Timestamp,
    /// What was said.
    pub text: String,
    /// The next step agreed.
    pub next_step: Option<String>,
}

impl From<CoreFollowUp> for FollowUp {
    fn from(f: CoreFollowUp) -> Self {
        FollowUp {
            id: f.header.id.to_string(),
            subject_kind: f.subject.kind.into(),
            subject_id: f.subject.id.to_string(),
            customer_id: f.customer_id.map(|c| c.to_string()),
            method: f.method.into(),
            occurred_at: f.occurred_at,
            text: f.text.as_str().to_string(),
            next_step: f.next_step,
        }
    }
}

/// What converting a lead should create.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LeadConversion {
    /// The customer's legal name; blank takes the lead's company name.
    pub legal_name: String,
    /// The opportunity's name.
    pub opportunity_name: String,
    /// The opportunity's expected amount.
    pub amount: Money,
}

/// What a conversion created, in one write.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ConvertedLead {
    /// The lead, now converted.
    pub lead: Lead,
    /// The new customer.
    pub customer: Customer,
    /// The contact, when the lead named one.
    pub contact: Option<Contact>,
    /// The opportunity, in the opening stage.
    pub opportunity: Opportunity,
}

impl ConvertedLead {
    fn shown(c: CoreConverted, me: &fieldsales_core::me::Me) -> Self {
        ConvertedLead {
            lead: c.lead.into(),
            customer: c.customer.into(),
            contact: c.contact.map(|contact| Contact::shown(contact, me)),
            opportunity: c.opportunity.into(),
        }
    }
}

/// A value of an opportunity's stage field.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FieldValue {
    /// Text.
    Text {
        /// The text.
        value: String,
    },
    /// A whole number.
    Number {
        /// The number.
        value: i64,
    },
    /// An amount.
    Amount {
        /// The amount.
        value: Money,
    },
    /// A local day.
    Date {
        /// The day.
        value: fieldsales_core::LocalDate,
    },
    /// References of archived documents.
    Attachments {
        /// The references.
        value: Vec<String>,
    },
    /// Names (units, people).
    Names {
        /// The names.
        value: Vec<String>,
    },
    /// A tick.
    Flag {
        /// Ticked or not.
        value: bool,
    },
}

impl From<CoreFieldValue> for FieldValue {
    fn from(v: CoreFieldValue) -> Self {
        match v {
            CoreFieldValue::Text(value) => FieldValue::Text { value },
            CoreFieldValue::Number(value) => FieldValue::Number { value },
            CoreFieldValue::Money(m) => FieldValue::Amount { value: m.into() },
            CoreFieldValue::Date(value) => FieldValue::Date { value },
            CoreFieldValue::Attachments(value) => FieldValue::Attachments { value },
            CoreFieldValue::List(value) => FieldValue::Names { value },
            CoreFieldValue::Flag(value) => FieldValue::Flag { value },
        }
    }
}

fn field_values(values: HashMap<String, FieldValue>) -> Result<FieldValues, FieldsalesError> {
    values
        .into_iter()
        .map(|(key, v)| {
            let field = format!("fields.{key}");
            let v = match v {
                FieldValue::Text { value } => CoreFieldValue::Text(value),
                FieldValue::Number { value } => CoreFieldValue::Number(value),
                FieldValue::Amount { value } => CoreFieldValue::Money(value.checked(&field)?),
                FieldValue::Date { value } => CoreFieldValue::Date(value),
                FieldValue::Attachments { value } => CoreFieldValue::Attachments(value),
                FieldValue::Names { value } => CoreFieldValue::List(value),
                FieldValue::Flag { value } => CoreFieldValue::Flag(value),
            };
            Ok((key, v))
        })
        .collect()
}

/// A sales opportunity (deal).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Opportunity {
    /// Record ID.
    pub id: String,
    /// The owning rep.
    pub owner_id: Option<String>,
    /// The customer.
    pub customer_id: String,
    /// Name, unique within the customer.
    pub name: String,
    /// Expected amount.
    pub amount: Money,
    /// Expected close day, `YYYY-MM-DD`.
    pub expected_close: Option<fieldsales_core::LocalDate>,
    /// The current stage's code.
    pub stage: String,
    /// When the current stage was entered.
    pub stage_entered_at: Option<fieldsales_core::Timestamp>,
    /// Stage field values, by field key.
    pub fields: HashMap<String, FieldValue>,
    /// Won or lost, once closed.
    pub outcome: Option<crate::codes::DealOutcome>,
    /// Why it was won or lost.
    pub outcome_reason: Option<String>,
    /// A manager's finding that its progress was false (虚假推进), with the fine.
    pub marked_false: Option<FalseProgress>,
}

/// A manager's finding that a deal's progress was false (虚假推进).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FalseProgress {
    /// The manager who marked it.
    pub by_id: String,
    /// When.
    pub at: fieldsales_core::Timestamp,
    /// What was false.
    pub reason: String,
    /// The fine the rep owes for it (the tenant's configured penalty, fixed by the server).
    pub penalty: Money,
}

impl From<CoreOpportunity> for Opportunity {
    fn from(o: CoreOpportunity) -> Self {
        Opportunity {
            id: o.header.id.to_string(),
            owner_id: o.header.owner_id.map(|x| x.to_string()),
            customer_id: o.customer_id.to_string(),
            stage_entered_at: o.stage_entered_at(),
            name: o.name,
            amount: o.amount.into(),
            expected_close: o.expected_close,
            stage: o.stage,
            fields: o.fields.into_iter().map(|(k, v)| (k, v.into())).collect(),
            outcome: o.outcome.as_ref().map(|x| x.kind.clone().into()),
            outcome_reason: o.outcome.map(|x| x.reason),
            marked_false: o.marked_false.map(|m| FalseProgress {
                by_id: m.by.to_string(),
                at: m.at,
                reason: m.reason,
                penalty: m.penalty.into(),
            }),
        }
    }
}

/// What a new opportunity says.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewOpportunity {
    /// The customer.
    pub customer_id: String,
    /// Name, unique within the customer.
    pub name: String,
    /// Expected amount.
    pub amount: Money,
    /// Expected close day, `YYYY-MM-DD`.
    pub expected_close: Option<fieldsales_core::LocalDate>,
    /// Values of the opening stage's fields.
    pub fields: HashMap<String, FieldValue>,
}

/// What a stage move did.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum StageMove {
    /// The opportunity is in the new stage.
    Moved {
        /// The opportunity after the move.
        opportunity: Opportunity,
    },
    /// The stage needs an approval first: it was requested (or was already pending); move
    /// again once it is approved.
    AwaitingApproval {
        /// The request.
        approval: Approval,
    },
}

/// One approver's decision.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ApprovalDecision {
    /// The step decided (0-based).
    pub step: i32,
    /// The approver.
    pub by: String,
    /// The role they decided as.
    pub role: String,
    /// Approve or reject.
    pub verdict: crate::codes::ApprovalVerdict,
    /// Their comment.
    pub comment: Option<String>,
    /// When.
    pub at: fieldsales_core::Timestamp,
}

/// An approval request.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Approval {
    /// Record ID.
    pub id: String,
    /// Who asked.
    pub requester_id: String,
    /// The kind of the record it is about (an order, an opportunity, a customer).
    pub subject_kind: crate::codes::RecordKind,
    /// The record it is about.
    pub subject_id: String,
    /// Why it is needed, as a rule code.
    pub rule: String,
    /// A title for the list.
    pub title: String,
    /// The amount at stake.
    pub amount: Option<Money>,
    /// The deepest discount asked, in basis points (10% is 1000).
    pub discount_bp: Option<i32>,
    /// Where it stands.
    pub status: crate::codes::ApprovalStatus,
    /// While pending: the roles the current step waits for.
    pub waiting_for: Vec<String>,
    /// The decisions so far, in the order the server accepted them.
    pub decisions: Vec<ApprovalDecision>,
    /// When it was decided.
    pub decided_at: Option<fieldsales_core::Timestamp>,
}

impl From<CoreApproval> for Approval {
    fn from(a: CoreApproval) -> Self {
        use fieldsales_core::process::approval::ApprovalStatus as Standing;
        let waiting_for = match a.standing() {
            Standing::Pending { waiting_for, .. } => waiting_for,
            _ => Vec::new(),
        };
        Approval {
            id: a.header.id.to_string(),
            requester_id: a.requester().to_string(),
            subject_kind: a.subject.kind.into(),
            subject_id: a.subject.id.to_string(),
            rule: a.rule,
            title: a.title,
            amount: a.amount.map(Money::from),
            discount_bp: a.discount.map(|d| d.0).map(crate::signed32),
            status: a.status.into(),
            waiting_for,
            decisions: a
                .decisions
                .into_iter()
                .map(|d| ApprovalDecision {
                    step: crate::signed32(d.step),
                    by: d.by.to_string(),
                    role: d.role,
                    verdict: d.verdict.into(),
                    comment: d.comment,
                    at: d.at,
                })
                .collect(),
            decided_at: a.decided_at,
        }
    }
}

/// Live leads matching `filter` that the user may see.
fn leads_where(
    e: &fieldsales_core::engine::Engine,
    filter: ListFilter,
) -> Result<Vec<Lead>, FieldsalesError> {
    let tree = e.org_tree()?;
    let mut out = Vec::new();
    for row in e.store().list(&ListFilter {
        kind: Some(Kind::Lead),
        limit: Some(10_000),
        ..filter
    })? {
        let lead: CoreLead = e.store().get(row.id)?;
        if tree.can_see(e.me(), &lead.header) {
            out.push(lead.into());
        }
    }
    Ok(out)
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Creates a lead: into the pool of the unit `pool_unit_id` when given, otherwise held by
    /// the signed-in user.
    pub async fn create_lead(
        self: Arc<Self>,
        lead: NewLead,
        pool_unit_id: Option<String>,
    ) -> Result<Lead, FieldsalesError> {
        self.write(move |e| {
            let pool = optional_id("pool_unit_id", pool_unit_id.as_deref())?;
            let new = CoreNewLead {
                company_name: lead.company_name,
                contact_name: lead.contact_name,
                phone: lead.phone,
                email: lead.email,
                source: lead.source,
            };
            Ok(e.create_lead(new, pool)?.into())
        })
        .await
    }

    /// The leads in the pools the user sees.
    pub async fn lead_pool(self: Arc<Self>) -> Result<Vec<Lead>, FieldsalesError> {
        self.read(|e| {
            leads_where(
                e,
                ListFilter {
                    status: Some(LeadStatus::Pooled.as_str().to_string()),
                    ..ListFilter::default()
                },
            )
        })
        .await
    }

    /// The leads the signed-in user holds.
    pub async fn my_leads(self: Arc<Self>) -> Result<Vec<Lead>, FieldsalesError> {
        self.read(|e| {
            let me = e.me().user_id;
            leads_where(
                e,
                ListFilter {
                    owner: Some(me),
                    ..ListFilter::default()
                },
            )
        })
        .await
    }

    /// Claims a lead from the pool, within the rep's cap and after any waiting period.
    pub async fn claim_lead(self: Arc<Self>, lead_id: String) -> Result<Lead, FieldsalesError> {
        self.write(move |e| Ok(e.claim_lead(record_id("lead_id", &lead_id)?)?.into()))
            .await
    }

    /// Gives a held lead back to its team's pool.
    pub async fn return_lead(self: Arc<Self>, lead_id: String) -> Result<Lead, FieldsalesError> {
        self.write(move |e| Ok(e.return_lead(record_id("lead_id", &lead_id)?)?.into()))
            .await
    }

    /// A manager assigns a lead to a rep (the rep's cap still holds).
    pub async fn assign_lead(
        self: Arc<Self>,
        lead_id: String,
        rep_id: String,
    ) -> Result<Lead, FieldsalesError> {
        self.write(move |e| {
            let lead = record_id("lead_id", &lead_id)?;
            let rep = record_id("rep_id", &rep_id)?;
            Ok(e.assign_lead(lead, rep)?.into())
        })
        .await
    }

    /// Logs a follow-up on a held lead; the reclaim timer starts again.
    pub async fn follow_up_lead(
        self: Arc<Self>,
        lead_id: String,
        method: crate::codes::FollowUpMethod,
        text: String,
    ) -> Result<FollowUp, FieldsalesError> {
        self.write(move |e| {
            let lead = record_id("lead_id", &lead_id)?;
            let method = method.core("method")?;
            Ok(e.follow_up_lead(lead, method, &text)?.1.into())
        })
        .await
    }

    /// Converts a held lead into a customer (behind the duplicate check), a contact and an
    /// opportunity in the opening stage, all in one write.
    pub async fn convert_lead(
        self: Arc<Self>,
        lead_id: String,
        conversion: LeadConversion,
    ) -> Result<ConvertedLead, FieldsalesError> {
        self.write(move |e| {
            let lead = record_id("lead_id", &lead_id)?;
            let request = LeadConversionRequest {
                legal_name: conversion.legal_name,
                opportunity_name: conversion.opportunity_name,
                amount: conversion.amount.checked("amount")?,
            };
            let converted = e.convert_lead(lead, request)?;
            Ok(ConvertedLead::shown(converted, e.me()))
        })
        .await
    }

    /// Creates an opportunity in the process's opening stage.
    pub async fn create_opportunity(
        self: Arc<Self>,
        opportunity: NewOpportunity,
    ) -> Result<Opportunity, FieldsalesError> {
        self.write(move |e| {
            let new = CoreNewOpportunity {
                customer_id: record_id("customer_id", &opportunity.customer_id)?,
                name: opportunity.name,
                amount: opportunity.amount.checked("amount")?,
                expected_close: opportunity.expected_close,
                fields: field_values(opportunity.fields)?,
            };
            Ok(e.create_opportunity(new)?.into())
        })
        .await
    }

    /// An opportunity the user may see.
    pub async fn get_opportunity(
        self: Arc<Self>,
        id: String,
    ) -> Result<Opportunity, FieldsalesError> {
        self.read(move |e| {
            let id = record_id("opportunity_id", &id)?;
            let o: CoreOpportunity = e.store().get(id)?;
            if !e.can_see(&o.header)? {
                return Err(FieldsalesError::NotFound {
                    kind: Kind::Opportunity.as_str().into(),
                    id: id.to_string(),
                });
            }
            Ok(o.into())
        })
        .await
    }

    /// The opportunities of a customer that the user may see.
    pub async fn opportunities_of(
        self: Arc<Self>,
        customer_id: String,
    ) -> Result<Vec<Opportunity>, FieldsalesError> {
        self.read(move |e| {
            let customer = record_id("customer_id", &customer_id)?;
            let tree = e.org_tree()?;
            let mut out = Vec::new();
            for row in e.store().list(&ListFilter {
                kind: Some(Kind::Opportunity),
                customer: Some(customer),
                limit: Some(10_000),
                ..ListFilter::default()
            })? {
                let o: CoreOpportunity = e.store().get(row.id)?;
                if tree.can_see(e.me(), &o.header) {
                    out.push(o.into());
                }
            }
            Ok(out)
        })
        .await
    }

    /// Fills stage fields (merged into the values there).
    pub async fn set_opportunity_fields(
        self: Arc<Self>,
        id: String,
        fields: HashMap<String, FieldValue>,
    ) -> Result<Opportunity, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("opportunity_id", &id)?;
            Ok(e.set_opportunity_fields(id, field_values(fields)?)?.into())
        })
        .await
    }

    /// Moves an opportunity to stage `to`: the next one, an earlier one (with a reason) or a
    /// closing one (with a reason).
    pub async fn move_opportunity(
        self: Arc<Self>,
        id: String,
        to: String,
        reason: Option<String>,
    ) -> Result<StageMove, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("opportunity_id", &id)?;
            Ok(match e.move_opportunity(id, &to, reason.as_deref())? {
                StageMoveResult::Moved(o) => StageMove::Moved {
                    opportunity: (*o).into(),
                },
                StageMoveResult::AwaitingApproval(a) => StageMove::AwaitingApproval {
                    approval: (*a).into(),
                },
            })
        })
        .await
    }

    /// A manager over the deal's rep finds its progress false (虚假推进), saying why; the
    /// tenant's penalty applies. Refused for a rep, and for a role without the right to mark
    /// progress false.
    pub async fn mark_progress_false(
        self: Arc<Self>,
        id: String,
        reason: String,
    ) -> Result<Opportunity, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("opportunity_id", &id)?;
            Ok(e.mark_progress_false(id, &reason)?.into())
        })
        .await
    }

    /// A manager over the deal's rep withdraws a false-progress mark, and its fine with it.
    pub async fn withdraw_false_progress(
        self: Arc<Self>,
        id: String,
    ) -> Result<Opportunity, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("opportunity_id", &id)?;
            Ok(e.withdraw_false_progress(id)?.into())
        })
        .await
    }

    /// Approves (`approve = true`) or rejects the current step of an approval.
    pub async fn decide_approval(
        self: Arc<Self>,
        id: String,
        approve: bool,
        comment: Option<String>,
    ) -> Result<Approval, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("approval_id", &id)?;
            let verdict = if approve {
                Verdict::Approve
            } else {
                Verdict::Reject
            };
            Ok(e.decide_approval(id, verdict, comment.as_deref())?.into())
        })
        .await
    }

    /// The requester withdraws a pending request.
    pub async fn withdraw_approval(
        self: Arc<Self>,
        id: String,
    ) -> Result<Approval, FieldsalesError> {
        self.write(move |e| Ok(e.withdraw_approval(record_id("approval_id", &id)?)?.into()))
            .await
    }

    /// Pending approvals waiting for one of the user's roles (not their own requests).
    pub async fn approvals_waiting_for_me(
        self: Arc<Self>,
    ) -> Result<Vec<Approval>, FieldsalesError> {
        self.read(|e| {
            Ok(e.approvals_waiting_for_me()?
                .into_iter()
                .map(Approval::from)
                .collect())
        })
        .await
    }
}
