//! Leads on the device: created into a pool or for a rep, assigned by hand or by workload,
//! claimed from the pool within the rep's cap, followed up, returned, converted.
//!
//! Every operation runs the pool rules of [`crate::process::lead`] with the synced
//! configuration, so a rep offline gets the same answer the server gives when it syncs.
//! Reclaiming idle leads is the server's job ([`crate::jobs::reclaim_leads`]): a phone that
//! stays offline must not keep a lead by never learning it is due.

use autosurgeon::Text;

use super::Engine;
use crate::authority::Lookup;
use crate::process::{ReleaseCause, RepLoad, check_claim, pick_assignee};
use crate::record::contact::DecisionRole;
use crate::record::follow_up::FollowUpMethod;
use crate::record::lead::{LeadConversion, LeadEvent, LeadEventKind, LeadStatus};
use crate::record::{
    Contact, Customer, FollowUp, Header, Kind, Lead, Opportunity, RecordRef, SensitiveField,
};
use crate::rule::RuleCode;
use crate::store::{Facts, StoreRead};
use crate::{Error, Money, RecordId, Result};

/// What a new lead says.
#[derive(Debug, Clone, Default)]
pub struct NewLead {
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
}

/// What converting a lead creates.
#[derive(Debug, Clone)]
pub struct LeadConversionRequest {
    /// The customer's legal name (defaults to the lead's company name when blank).
    pub legal_name: String,
    /// The opportunity's name.
    pub opportunity_name: String,
    /// The opportunity's expected amount.
    pub amount: Money,
}

/// What a conversion created.
#[derive(Debug, Clone)]
pub struct ConvertedLead {
    /// The lead, now converted.
    pub lead: Lead,
    /// The new customer.
    pub customer: Customer,
    /// The contact, when the lead named one.
    pub contact: Option<Contact>,
    /// The new opportunity, in the process's opening stage.
    pub opportunity: Opportunity,
}

impl Engine {
    /// Creates a lead: into the public pool of `pool_unit` when given, otherwise owned by the
    /// signed-in user.
    pub fn create_lead(&mut self, new: NewLead, pool_unit: Option<RecordId>) -> Result<Lead> {
        let me = self.me().user_id;
        let now = self.now();
        let mut header = Header::new(me, now);
        let (status, assigned_at, events) = match pool_unit {
            Some(unit) => {
                header.owner_id = None;
                header.org_unit_id = Some(unit);
                (LeadStatus::Pooled, None, Vec::new())
            }
            None => {
                header.org_unit_id = Some(self.me().unit_id);
                (
                    LeadStatus::Assigned,
                    Some(now),
                    vec![LeadEvent {
                        kind: LeadEventKind::Assigned,
                        rep_id: Some(me),
                        by: Some(me),
                        at: now,
                    }],
                )
            }
        };
        let lead = Lead {
            header,
            company_name: new.company_name,
            contact_name: new.contact_name,
            phone: new.phone,
            email: new.email,
            source: new.source,
            status,
            assigned_at,
            last_follow_up_at: None,
            events,
            releases: Vec::new(),
            conversion: None,
            notes: Text::default(),
        };
        self.guarded()?.create(lead)
    }

    /// How many open leads `rep` holds besides `except` (the lead about to change hands):
    /// the same fact the server's review counts.
    pub fn open_leads_of(&self, rep: RecordId, except: RecordId) -> Result<u32> {
        Facts::new(self.store()).open_leads_of(rep, except)
    }

    /// A manager assigns a lead to `rep` by hand; the rep's cap still holds.
    pub fn assign_lead(&mut self, lead_id: RecordId, rep: RecordId) -> Result<Lead> {
        self.require_manager("assign leads")?;
        let lead: Lead = self.store().get(lead_id)?;
        self.require_visible(&lead.header)?;
        let rules = self.process()?.leads;
        let open = self.open_leads_of(rep, lead_id)?;
        if open >= rules.max_open_leads_per_rep {
            return Err(crate::process::ClaimRefused::LimitReached {
                limit: rules.max_open_leads_per_rep,
                open,
            }
            .into());
        }
        self.give_lead(lead_id, rep, LeadEventKind::Assigned)
    }

    /// A manager assigns a lead to the rep of `team` holding the fewest open leads (ties go to
    /// the smallest ID, as on the server).
    pub fn auto_assign_lead(&mut self, lead_id: RecordId, team: RecordId) -> Result<Lead> {
        self.require_manager("assign leads")?;
        let rules = self.process()?.leads;
        let mut loads = Vec::new();
        for p in self.store().people_of_unit(team)? {
            if p.active && p.has_role("sales_rep") {
                loads.push(RepLoad {
                    rep: p.id,
                    open_leads: self.open_leads_of(p.id, lead_id)?,
                });
            }
        }
        let rep = pick_assignee(&loads, &rules).ok_or_else(|| {
            Error::rule(
                RuleCode::LeadNoAssignee,
                "no rep of the team can take another lead",
            )
        })?;
        self.give_lead(lead_id, rep, LeadEventKind::Assigned)
    }

    /// A rep claims a lead from the pool.
    pub fn claim_lead(&mut self, lead_id: RecordId) -> Result<Lead> {
        let lead: Lead = self.store().get(lead_id)?;
        self.require_visible(&lead.header)?;
        let me = self.me().user_id;
        let rules = self.process()?.leads;
        let open = self.open_leads_of(me, lead_id)?;
        check_claim(&lead.facts(), &lead.releases, me, open, &rules, self.now())?;
        self.give_lead(lead_id, me, LeadEventKind::Claimed)
    }

    fn give_lead(&mut self, lead_id: RecordId, rep: RecordId, how: LeadEventKind) -> Result<Lead> {
        let me = self.me().user_id;
        let unit = self.user_profile(rep)?.map(|p| p.unit_id);
        let now = self.now();
        self.guarded()?.update::<Lead>(lead_id, |l| {
            if l.status == LeadStatus::Converted {
                return Err(crate::process::ClaimRefused::Converted.into());
            }
            l.header.owner_id = Some(rep);
            if let Some(unit) = unit {
                l.header.org_unit_id = Some(unit);
            }
            l.status = LeadStatus::Assigned;
            l.assigned_at = Some(now);
            l.last_follow_up_at = None;
            l.events.push(LeadEvent {
                kind: how,
                rep_id: Some(rep),
                by: Some(me),
                at: now,
            });
            Ok(())
        })
    }

    /// The owner logs a follow-up on a lead: a follow-up record, and the reclaim timer starts
    /// again.
    pub fn follow_up_lead(
        &mut self,
        lead_id: RecordId,
        method: FollowUpMethod,
        text: &str,
    ) -> Result<(Lead, FollowUp)> {
        let lead: Lead = self.store().get(lead_id)?;
        let me = self.me().user_id;
        if lead.header.owner_id != Some(me) {
            return Err(Error::NotAllowed(
                "only the rep holding a lead follows it up".into(),
            ));
        }
        let now = self.now();
        let follow_up = FollowUp {
            header: Header::new(me, now),
            subject: RecordRef {
                kind: Kind::Lead,
                id: lead_id,
            },
            customer_id: None,
            method,
            occurred_at: now,
            text: Text::with_value(text),
            next_step: None,
            visit_id: None,
        };
        self.guarded()?.transaction(|tx| {
            let follow_up = tx.create(follow_up)?;
            let lead = tx.update::<Lead>(lead_id, |l| {
                l.last_follow_up_at = Some(now);
                l.status = LeadStatus::Following;
                Ok(())
            })?;
            Ok((lead, follow_up))
        })
    }

    /// The owner gives a lead back to the pool of its team.
    pub fn return_lead(&mut self, lead_id: RecordId) -> Result<Lead> {
        let me = self.me().user_id;
        let now = self.now();
        self.guarded()?.update::<Lead>(lead_id, |l| {
            if l.header.owner_id != Some(me) {
                return Err(Error::NotAllowed(
                    "only the rep holding a lead returns it".into(),
                ));
            }
            l.release(me, Some(me), now, ReleaseCause::Returned);
            Ok(())
        })
    }

    /// The owner converts a lead into a customer (behind the duplicate check), a contact and
    /// an opportunity in the opening stage, all in one write.
    pub fn convert_lead(
        &mut self,
        lead_id: RecordId,
        request: LeadConversionRequest,
    ) -> Result<ConvertedLead> {
        let lead: Lead = self.store().get(lead_id)?;
        let me = self.me().user_id;
        if lead.header.owner_id != Some(me) {
            return Err(Error::NotAllowed(
                "only the rep holding a lead converts it".into(),
            ));
        }
        if lead.status == LeadStatus::Converted {
            return Err(crate::process::ClaimRefused::Converted.into());
        }
        let now = self.now();
        let legal_name = if request.legal_name.trim().is_empty() {
            lead.company_name.clone()
        } else {
            request.legal_name
        };
        let mut customer = Customer::new(Header::new(me, now), legal_name);
        customer.source = Some(lead.source.clone().unwrap_or_else(|| "lead".into()));
        if let Some(existing) = self.store().find_exact_duplicate(&customer)? {
            return Err(Error::DuplicateCustomer {
                existing_id: existing.id,
                score: existing.score,
            });
        }
        // The lead's phone and e-mail become the contact's, unless the user's roles hide a
        // contact's: then the lead keeps them and the contact starts without.
        let hidden = &self.me().hidden;
        let contact = lead.contact_name.as_ref().map(|name| Contact {
            header: Header::new(me, now),
            customer_id: customer.header.id,
            name: name.clone(),
            title: None,
            phone: lead
                .phone
                .clone()
                .filter(|_| !hidden.hides(SensitiveField::ContactPhone)),
            email: lead
                .email
                .clone()
                .filter(|_| !hidden.hides(SensitiveField::ContactEmail)),
            decision_role: DecisionRole::Unknown,
        });
        let opportunity = self.new_opportunity_value(
            customer.header.id,
            &request.opportunity_name,
            request.amount,
            Default::default(),
        )?;
        self.guarded()?.transaction(|tx| {
            let customer = tx.create(customer)?;
            let contact = match contact {
                Some(c) => Some(tx.create(c)?),
                None => None,
            };
            let opportunity = tx.create(opportunity)?;
            let lead = tx.update::<Lead>(lead_id, |l| {
                l.status = LeadStatus::Converted;
                l.conversion = Some(LeadConversion {
                    customer_id: customer.header.id,
                    contact_id: contact.as_ref().map(|c| c.header.id),
                    opportunity_id: Some(opportunity.header.id),
                    at: now,
                });
                l.events.push(LeadEvent {
                    kind: LeadEventKind::Converted,
                    rep_id: Some(me),
                    by: Some(me),
                    at: now,
                });
                Ok(())
            })?;
            Ok(ConvertedLead {
                lead,
                customer,
                contact,
                opportunity,
            })
        })
    }
}
