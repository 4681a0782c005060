//! Customers on the device: creation behind the duplicate check, sharing with collaborators,
//! and settling which rep owns a company several follow under different names.
//!
//! The duplicate check looks at voided (deleted) customers too: a company deleted by mistake
//! must be restored, not created again beside its history. A hit on a customer the user may
//! not see shows only the fields the configuration allows ([`DuplicateHit::redacted`]), so the
//! check tells a rep whom to ask for a share without letting them read the customer.

use super::Engine;
use super::people::of_customer;
use crate::authority::customer::location_unchanged_unless_managed;
use crate::process::{CustomerRules, OwnershipClaim, OwnershipVerdict, resolve_ownership};
use crate::record::customer::OwnershipDecision;
use crate::record::{Contact, Customer, FollowUp, Kind, Opportunity};
use crate::rule::RuleCode;
use crate::store::StoreRead;
use crate::store::{DEFAULT_NEAR_THRESHOLD, NearDuplicate};
use crate::store::{ListFilter, SearchHit};
use crate::{Error, RecordId, Result, Timestamp};

/// An existing customer found by the duplicate check, with only what the user may read.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateHit {
    /// The existing customer.
    pub id: RecordId,
    /// How alike the names are (1.0: the same normalised name).
    pub score: f64,
    /// Whether it was voided (deleted).
    pub voided: bool,
    /// Whether the user may open it; when not, the fields below are limited by the
    /// configuration's `customers.duplicate_hit_fields`.
    pub visible: bool,
    /// Legal name, when shown.
    pub legal_name: Option<String>,
    /// Short name, when shown.
    pub short_name: Option<String>,
    /// The owner (to ask for a share), when shown.
    pub owner_id: Option<RecordId>,
    /// Industry, when shown.
    pub industry: Option<String>,
    /// Tier, when shown.
    pub tier: Option<String>,
    /// Address, when shown.
    pub address: Option<String>,
    /// Creation time, when shown.
    pub created_at: Option<Timestamp>,
}

impl DuplicateHit {
    /// The hit on `customer`: whole when `visible`, else only the configured fields.
    /// The server builds its hits with this too.
    pub fn redacted(customer: &Customer, score: f64, visible: bool, rules: &CustomerRules) -> Self {
        let shows = |f: &str| visible || rules.shows(f);
        DuplicateHit {
            id: customer.header.id,
            score,
            voided: customer.header.is_deleted(),
            visible,
            legal_name: shows("legal_name").then(|| customer.legal_name.clone()),
            short_name: shows("short_name")
                .then(|| customer.short_name.clone())
                .flatten(),
            owner_id: shows("owner").then_some(customer.header.owner_id).flatten(),
            industry: shows("industry")
                .then(|| customer.industry.clone())
                .flatten(),
            tier: shows("tier").then(|| customer.tier.clone()).flatten(),
            address: shows("address").then(|| customer.address.clone()).flatten(),
            created_at: shows("created_at").then_some(customer.header.created_at),
        }
    }
}

/// What the duplicate check found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DuplicateCheck {
    /// A customer with the same normalised name: creation is refused.
    pub exact: Option<DuplicateHit>,
    /// Customers with close names: a warning.
    pub near: Vec<DuplicateHit>,
}

impl Engine {
    /// Runs the duplicate check for a customer about to be created.
    pub fn check_customer_duplicates(&self, customer: &Customer) -> Result<DuplicateCheck> {
        let report = self
            .store()
            .find_duplicates(customer, DEFAULT_NEAR_THRESHOLD)?;
        let rules = self.process()?.customers;
        let tree = self.org_tree()?;
        let hit = |n: &NearDuplicate| -> Result<DuplicateHit> {
            let existing: Customer = self.store().get(n.id)?;
            let visible = tree.can_see(self.me(), &existing.header);
            Ok(DuplicateHit::redacted(&existing, n.score, visible, &rules))
        };
        Ok(DuplicateCheck {
            exact: report.exact.as_ref().map(&hit).transpose()?,
            near: report.near.iter().map(hit).collect::<Result<_>>()?,
        })
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
