//! Customers on the device: creation behind the duplicate check, sharing with collaborators,
//! and settling which rep owns a company several follow under different names.
//!
//! The duplicate check looks at voided (deleted) customers too: a company deleted by mistake
//! must be restored, not created again beside its history. A hit on a customer the user may
//! not see shows only the fields the configuration allows ([`DuplicateHit::redacted`]), so the
//! check tells a rep whom to ask for a share without letting them read the customer.

use super::Engine;
use super::people::of_customer;
use crate::authority::customer::{
    DuplicateCheck, DuplicateHit, duplicate_check, location_unchanged_unless_managed,
};
use crate::authority::permission::{Grants, Vantage};
use crate::process::{OwnershipClaim, OwnershipVerdict, resolve_ownership};
use crate::record::customer::OwnershipDecision;
use crate::record::{Contact, Customer, FollowUp, Kind, Opportunity};
use crate::rule::RuleCode;
use crate::store::{Facts, StoreRead};
use crate::store::{ListFilter, SearchHit};
use crate::{Error, RecordId, Result};

impl Engine {
    /// Runs the duplicate check for a customer about to be created, over what this device
    /// holds (the server runs the same check over the whole company on every push, and
    /// answers it online: [`crate::sync::check_duplicates_online`]).
    pub fn check_customer_duplicates(&self, customer: &Customer) -> Result<DuplicateCheck> {
        let process = self.process()?;
        let grants = Grants::of(self.me(), &process);
        let tree = self.org_tree()?;
        let at = Vantage::new(&tree, self.me());
        duplicate_check(
            &Facts::new(self.store()),
            &grants,
            &at,
            customer,
            &process.customers,
        )
    }

    /// Creates a customer owned by the signed-in user unless the duplicate check finds the
    /// same company (voided ones included); returns the near duplicates as warnings.
    pub fn create_customer(
        &mut self,
        mut customer: Customer,
    ) -> Result<(Customer, Vec<DuplicateHit>)> {
        let me = self.me().user_id;
        customer.header.owner_id = Some(me);
        customer.header.created_by = Some(me);
        customer.header.org_unit_id = Some(self.me().unit_id);
        let check = self.check_customer_duplicates(&customer)?;
        if let Some(existing) = check.exact {
            return Err(Error::DuplicateCustomer {
                existing_id: existing.id,
                score: existing.score,
            });
        }
        let created = self.guarded()?.create(customer)?;
        Ok((created, check.near))
    }

    /// The owner (or a manager above them) shares a customer with a collaborator.
    pub fn share_customer(&mut self, id: RecordId, with: RecordId) -> Result<Customer> {
        self.change_sharing(id, with, true)
    }

    /// Takes a collaborator off a customer.
    pub fn unshare_customer(&mut self, id: RecordId, with: RecordId) -> Result<Customer> {
        self.change_sharing(id, with, false)
    }

    fn change_sharing(&mut self, id: RecordId, with: RecordId, share: bool) -> Result<Customer> {
        let customer: Customer = self.store().get(id)?;
        let me = self.me().user_id;
        let is_owner = customer.header.owner_id == Some(me);
        let may = is_owner || (self.manages() && self.can_see(&customer.header)?);
        if !may {
            return Err(Error::NotAllowed(
                "only the owner or their manager shares a customer".into(),
            ));
        }
        self.guarded()?.update::<Customer>(id, |c| {
            if share {
                c.header.shared_with.insert(with);
            } else {
                c.header.shared_with.remove(&with);
            }
            Ok(())
        })
    }

    /// A manager settles who owns a company that several reps follow as `contenders` (their
    /// customer records): registered full name, then first follow-up, then first opportunity.
    /// The decision, with the rule that made it, is written on every contending record.
    pub fn resolve_customer_ownership(
        &mut self,
        registered_full_name: Option<&str>,
        contenders: &[RecordId],
    ) -> Result<OwnershipVerdict> {
        self.require_manager("settle ownership conflicts")?;
        let mut claims = Vec::new();
        for id in contenders {
            let c: Customer = self.store().get(*id)?;
            self.require_visible(&c.header)?;
            let rep = c.header.owner_id.ok_or_else(|| {
                Error::rule(
                    RuleCode::OwnershipNoOwner,
                    "a contending customer has no owner",
                )
            })?;
            let first_follow_up_at = of_customer::<FollowUp>(self.store(), *id)?
                .iter()
                .map(|f| f.occurred_at)
                .min();
            let first_opportunity_at = of_customer::<Opportunity>(self.store(), *id)?
                .iter()
                .map(|o| o.header.created_at)
                .min();
            claims.push(OwnershipClaim {
                rep,
                customer: *id,
                recorded_name: c.legal_name.clone(),
                first_follow_up_at,
                first_opportunity_at,
            });
        }
        let verdict = resolve_ownership(registered_full_name, &claims)
            .map_err(|e| Error::rule(RuleCode::OwnershipUndecided, e.to_string()))?;
        let now = self.now();
        let decision = OwnershipDecision {
            rule: verdict.rule.to_string(),
            winner_id: verdict.owner,
            contenders: contenders.to_vec(),
            decided_at: now,
        };
        self.guarded()?.transaction(|tx| {
            for id in contenders {
                tx.update::<Customer>(*id, |c| {
                    c.ownership = Some(decision.clone());
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(verdict)
    }

    /// A customer the signed-in user may see; `NotFound` otherwise, so a screen cannot tell
    /// a hidden customer from a missing one.
    pub fn customer(&self, id: RecordId) -> Result<Customer> {
        let customer: Customer = self.store().get(id)?;
        if self.can_see(&customer.header)? {
            Ok(customer)
        } else {
            Err(Error::not_found(Kind::Customer, id))
        }
    }

    /// Edits a customer the user may see. The location follows the server's rule, run here
    /// first so the rep hears it at once: only a manager of the customer moves it.
    pub fn update_customer(
        &mut self,
        id: RecordId,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<Customer> {
        let before = self.customer(id)?;
        let (tree, me) = (self.org_tree()?, self.me().clone());
        self.guarded()?.update::<Customer>(id, |c| {
            edit(c);
            location_unchanged_unless_managed(&tree, &me, &before, c)
                .map_err(|r| Error::rule(r.rule, r.detail))
        })
    }

    /// Adds a contact, owned by the signed-in user, to a customer they may see.
    pub fn add_contact(&mut self, mut contact: Contact) -> Result<Contact> {
        self.customer(contact.customer_id)?;
        contact.header = self.owned_header(self.now());
        self.guarded()?.create(contact)
    }

    /// Edits a contact of a customer the user may see.
    pub fn update_contact(
        &mut self,
        id: RecordId,
        edit: impl FnOnce(&mut Contact),
    ) -> Result<Contact> {
        let contact: Contact = self.store().get(id)?;
        self.customer(contact.customer_id)?;
        self.guarded()?.update::<Contact>(id, |c| {
            edit(c);
            Ok(())
        })
    }

    /// Deletes (voids) a customer the user may see, with its contacts, in one write; the
    /// permission to delete customers decides, here and again on the server. Its deals,
    /// orders, visits and follow-ups stay: they are the history of what was sold and done.
    /// A voided customer is found by the duplicate check, to be restored rather than
    /// created again.
    pub fn delete_customer(&mut self, id: RecordId, reason: Option<String>) -> Result<()> {
        let customer = self.customer(id)?;
        let contacts: Vec<Contact> = of_customer(self.store(), customer.header.id)?;
        let by = Some(self.me().user_id);
        self.guarded()?.transaction(|tx| {
            for contact in &contacts {
                tx.delete(contact.header.id, by, reason.clone())?;
            }
            tx.delete(id, by, reason)
        })
    }

    /// Deletes a contact of a customer the user may see.
    pub fn delete_contact(&mut self, id: RecordId, reason: Option<String>) -> Result<()> {
        let contact: Contact = self.store().get(id)?;
        self.customer(contact.customer_id)?;
        let by = Some(self.me().user_id);
        self.guarded()?.delete(id, by, reason)
    }

    /// Searches names and titles over `kinds`, best first, keeping only what the user may
    /// see (a device may hold records it shows only in part, such as duplicate hits).
    pub fn search_visible(
        &self,
        query: &str,
        kinds: &[Kind],
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let tree = self.org_tree()?;
        let mut out = Vec::new();
        for hit in self.store().search(query, kinds, limit)? {
            if tree.can_see(self.me(), self.store().get_any(hit.id)?.header()) {
                out.push(hit);
            }
        }
        Ok(out)
    }

    /// Every customer on this device the signed-in user may see.
    pub fn visible_customers(&self) -> Result<Vec<Customer>> {
        let tree = self.org_tree()?;
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::Customer),
            limit: Some(usize::MAX >> 1),
            ..ListFilter::default()
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let c: Customer = self.store().get(row.id)?;
            if tree.can_see(self.me(), &c.header) {
                out.push(c);
            }
        }
        Ok(out)
    }
}
