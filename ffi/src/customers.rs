//! Customers and their contacts on the phone: create behind the duplicate check, find, open,
//! edit, share with a collaborator.
//!
//! The duplicate check runs in core, offline, the same way the server runs it; a refused
//! creation is [`FieldsalesError::Duplicate`] with the existing customer's ID, so the app can
//! open it (or, when the user may not see it, show whom to ask for a share from
//! [`DuplicateHit`]).

use std::collections::HashMap;
use std::sync::Arc;

use fieldsales_core::GeoPoint as CoreGeoPoint;
use fieldsales_core::engine::{DuplicateHit as CoreHit, Engine as CoreEngine};
use fieldsales_core::me::Me;
use fieldsales_core::process::OwnershipRule as CoreRule;
use fieldsales_core::record::contact::DecisionRole;
use fieldsales_core::record::{
    Contact as CoreContact, Customer as CoreCustomer, Header, Kind, SensitiveField, StringSet,
};
use fieldsales_core::store::ListFilter;
use fieldsales_core::store::StoreRead;

use crate::engine::{Engine, record_id};
use crate::error::FieldsalesError;
use crate::place::GeoPoint;

/// A customer company as a screen shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Customer {
    /// Record ID.
    pub id: String,
    /// The owning rep, if any.
    pub owner_id: Option<String>,
    /// Users it is shared with (collaborators).
    pub shared_with: Vec<String>,
    /// Legal full name.
    pub legal_name: String,
    /// Short name used day to day.
    pub short_name: Option<String>,
    /// English name.
    pub english_name: Option<String>,
    /// Customer type code.
    pub customer_type: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Scale band.
    pub scale: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Registered location: the centre of the check-in geofence.
    pub location: Option<GeoPoint>,
    /// The latest location a rep proposed, and what a manager decided.
    pub location_proposal: Option<LocationProposal>,
    /// Tier (A/B/C).
    pub tier: Option<String>,
    /// Where it came from.
    pub source: Option<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Longer notes.
    pub notes: String,
    /// Created.
    pub created_at: fieldsales_core::Timestamp,
    /// Whether it was deleted (voided).
    pub deleted: bool,
    /// The tenant's own fields (an ERP code, a credit rating...), by key.
    pub custom_fields: HashMap<String, String>,
    /// How an ownership conflict over this company was settled, if one was.
    pub ownership: Option<OwnershipVerdict>,
}

impl From<CoreCustomer> for Customer {
    fn from(c: CoreCustomer) -> Self {
        Customer {
            id: c.header.id.to_string(),
            owner_id: c.header.owner_id.map(|o| o.to_string()),
            shared_with: c.header.shared_with.iter().map(|u| u.to_string()).collect(),
            deleted: c.header.is_deleted(),
            created_at: c.header.created_at,
            legal_name: c.legal_name,
            short_name: c.short_name,
            english_name: c.english_name,
            customer_type: c.customer_type,
            industry: c.industry,
            scale: c.scale,
            address: c.address,
            location: c.location.map(GeoPoint::from),
            location_proposal: c.location_proposal.map(|p| LocationProposal {
                point: GeoPoint::from(p.point),
                accuracy_m: p.accuracy_m,
                visit_id: p.visit_id.map(|v| v.to_string()),
                proposed_by_id: p.proposed_by.to_string(),
                proposed_at: p.proposed_at,
                status: p.status.into(),
                decided_by_id: p.decided_by.map(|d| d.to_string()),
                decided_at: p.decided_at,
            }),
            tier: c.tier,
            source: c.source,
            tags: c.tags.iter().cloned().collect(),
            notes: c.notes.as_str().to_string(),
            custom_fields: c.custom_fields.into_iter().collect(),
            ownership: c.ownership.map(|o| OwnershipVerdict {
                owner_id: o.winner_id.to_string(),
                rule: OwnershipRule::of(&o.rule),
                contender_ids: o.contenders.iter().map(|c| c.to_string()).collect(),
                decided_at: Some(o.decided_at),
                customer_id: None,
            }),
        }
    }
}

/// Which of the three ownership rules decided a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OwnershipRule {
    /// Rule 1: the record carries the registered full name.
    RegisteredFullName,
    /// Rule 2: the first follow-up was logged on this record.
    FirstFollowUp,
    /// Rule 3: the first opportunity was created on this record.
    FirstOpportunity,
    /// A rule a newer version of the product defines.
    Other,
}

impl OwnershipRule {
    fn of(code: &str) -> OwnershipRule {
        match code.parse::<CoreRule>() {
            Ok(CoreRule::RegisteredFullName) => OwnershipRule::RegisteredFullName,
            Ok(CoreRule::FirstFollowUp) => OwnershipRule::FirstFollowUp,
            Ok(CoreRule::FirstOpportunity) => OwnershipRule::FirstOpportunity,
            _ => OwnershipRule::Other,
        }
    }
}

/// Who owns a company several reps followed under different records, and why.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OwnershipVerdict {
    /// The winning rep.
    pub owner_id: String,
    /// The winning record, when the verdict was just given.
    pub customer_id: Option<String>,
    /// The rule that decided.
    pub rule: OwnershipRule,
    /// The contending records.
    pub contender_ids: Vec<String>,
    /// When it was decided (as written on the records).
    pub decided_at: Option<fieldsales_core::Timestamp>,
}

/// A customer location a rep's check-in proposed, waiting for (or decided by) a manager.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LocationProposal {
    /// The proposed point.
    pub point: GeoPoint,
    /// The accuracy of the fix that proposed it, metres.
    pub accuracy_m: f64,
    /// The visit whose check-in proposed it.
    pub visit_id: Option<String>,
    /// The rep who proposed it.
    pub proposed_by_id: String,
    /// When.
    pub proposed_at: fieldsales_core::Timestamp,
    /// Waiting, approved or rejected.
    pub status: crate::codes::ProposalStatus,
    /// The manager who decided.
    pub decided_by_id: Option<String>,
    /// When it was decided.
    pub decided_at: Option<fieldsales_core::Timestamp>,
}

/// What the user typed for a new customer, or the edited fields of one.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CustomerDraft {
    /// Legal full name (required).
    pub legal_name: String,
    /// Short name.
    pub short_name: Option<String>,
    /// English name.
    pub english_name: Option<String>,
    /// Customer type code.
    pub customer_type: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Scale band.
    pub scale: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Location; a rep's first check-in proposes one when this is empty.
    pub location: Option<GeoPoint>,
    /// Tier.
    pub tier: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The tenant's own fields, by key (at most 100, keys up to 64 and values up to 1,000
    /// characters).
    #[uniffi(default)]
    pub custom_fields: HashMap<String, String>,
}

/// The most custom fields a customer carries.
const MAX_CUSTOM_FIELDS: usize = 100;

impl CustomerDraft {
    /// The location, checked (and the custom fields bounded): what of a draft the FFI must
    /// check before core sees it.
    fn location(&self) -> Result<Option<CoreGeoPoint>, FieldsalesError> {
        if self.custom_fields.len() > MAX_CUSTOM_FIELDS {
            return Err(FieldsalesError::InvalidInput {
                field: "customer.custom_fields".into(),
                detail: format!(
                    "{} custom fields; at most {MAX_CUSTOM_FIELDS}",
                    self.custom_fields.len()
                ),
            });
        }
        for (key, value) in &self.custom_fields {
            let key_ok = !key.trim().is_empty() && key.chars().count() <= 64;
            if !key_ok || value.chars().count() > 1_000 {
                return Err(FieldsalesError::InvalidInput {
                    field: format!("customer.custom_fields.{key}"),
                    detail: "a key of 1 to 64 characters, a value of at most 1,000".into(),
                });
            }
        }
        self.location
            .map(|p| p.checked("customer.location"))
            .transpose()
    }

    /// Writes the draft's fields onto `c` (the notes and the sharing are left alone).
    fn apply(self, location: Option<CoreGeoPoint>, c: &mut CoreCustomer) {
        c.location = location;
        c.legal_name = self.legal_name;
        c.short_name = self.short_name;
        c.english_name = self.english_name;
        c.customer_type = self.customer_type;
        c.industry = self.industry;
        c.scale = self.scale;
        c.address = self.address;
        c.tier = self.tier;
        c.source = self.source;
        c.tags = self.tags.into_iter().collect::<StringSet>();
        c.custom_fields = self.custom_fields.into_iter().collect();
    }

    fn new_customer(self, core: &CoreEngine) -> Result<CoreCustomer, FieldsalesError> {
        let location = self.location()?;
        let mut c = CoreCustomer::new(Header::new(core.me().user_id, core.now()), String::new());
        self.apply(location, &mut c);
        Ok(c)
    }
}

/// An existing customer the duplicate check found, with what the user may read of it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DuplicateHit {
    /// The existing customer.
    pub id: String,
    /// How alike the names are, 0.0 to 1.0 (1.0: the same normalised name).
    pub score: f64,
    /// Whether it was deleted: restore it rather than create it again.
    pub voided: bool,
    /// Whether the user may open it; when not, only the fields the process configuration
    /// shows are filled, so the rep knows whom to ask.
    pub visible: bool,
    /// Legal name, when shown.
    pub legal_name: Option<String>,
    /// Short name, when shown.
    pub short_name: Option<String>,
    /// Owner, when shown.
    pub owner_id: Option<String>,
    /// Industry, when shown.
    pub industry: Option<String>,
    /// Tier, when shown.
    pub tier: Option<String>,
    /// Address, when shown.
    pub address: Option<String>,
    /// Created, when shown.
    pub created_at: Option<fieldsales_core::Timestamp>,
}

impl From<CoreHit> for DuplicateHit {
    fn from(h: CoreHit) -> Self {
        DuplicateHit {
            id: h.id.to_string(),
            score: h.score,
            voided: h.voided,
            visible: h.visible,
            legal_name: h.legal_name,
            short_name: h.short_name,
            owner_id: h.owner_id.map(|o| o.to_string()),
            industry: h.industry,
            tier: h.tier,
            address: h.address,
            created_at: h.created_at,
        }
    }
}

/// What the duplicate check found for a draft.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DuplicateCheck {
    /// The same company: creating the draft would be refused.
    pub exact: Option<DuplicateHit>,
    /// Close names: a warning to show before saving.
    pub near: Vec<DuplicateHit>,
}

/// A customer just created, and the close names the rep should have a look at.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CreatedCustomer {
    /// The new customer, owned by the signed-in user.
    pub customer: Customer,
    /// Customers with close names.
    pub near_duplicates: Vec<DuplicateHit>,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchHit {
    /// The record.
    pub id: String,
    /// Its kind.
    pub kind: crate::codes::RecordKind,
    /// Its title (name, subject).
    pub title: String,
    /// Its owner.
    pub owner_id: Option<String>,
}

/// A person at a customer.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Contact {
    /// Record ID.
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// Name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Place in the decision.
    pub decision_role: crate::codes::DecisionRole,
    /// Its fields the user's roles hide: never on this device, to be shown as "hidden" rather
    /// than empty.
    pub hidden_fields: Vec<crate::codes::SensitiveField>,
}

impl Contact {
    /// The contact as `me` sees it.
    pub(crate) fn shown(c: CoreContact, me: &Me) -> Contact {
        Contact {
            id: c.header.id.to_string(),
            customer_id: c.customer_id.to_string(),
            name: c.name,
            title: c.title,
            phone: c.phone,
            email: c.email,
            decision_role: c.decision_role.into(),
            hidden_fields: SensitiveField::of_kind(Kind::Contact)
                .filter(|f| me.hidden.hides(*f))
                .map(Into::into)
                .collect(),
        }
    }
}

/// What the user typed for a contact.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ContactDraft {
    /// Name (required).
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Phone: digits, spaces and `+ - ( ) #`.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Place in the decision.
    pub decision_role: crate::codes::DecisionRole,
}

impl ContactDraft {
    fn role(&self) -> Result<DecisionRole, FieldsalesError> {
        self.decision_role.core("contact.decision_role")
    }

    fn apply(self, role: DecisionRole, c: &mut CoreContact) {
        c.decision_role = role;
        c.name = self.name;
        c.title = self.title;
        c.phone = self.phone;
        c.email = self.email;
    }
}

/// A customer the user may see, or `NotFound`.
fn visible_customer(core: &CoreEngine, id: &str) -> Result<CoreCustomer, FieldsalesError> {
    Ok(core.customer(record_id("customer_id", id)?)?)
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Proposes the position of one of the rep's own check-ins as its customer's location
    /// (the customer moved, or its location was wrong). The fix must have been judged
    /// trustworthy (`location.fix_untrustworthy` otherwise), and only one proposal waits at a
    /// time (`location.already_proposed`). Nothing moves until a manager approves.
    pub async fn propose_location(
        self: Arc<Self>,
        visit_id: String,
    ) -> Result<Customer, FieldsalesError> {
        let id = record_id("visit_id", &visit_id)?;
        self.write(move |e| Ok(e.propose_location(id)?.into()))
            .await
    }

    /// Customers in the manager's view with a proposed location waiting for a decision.
    pub async fn pending_location_proposals(
        self: Arc<Self>,
    ) -> Result<Vec<Customer>, FieldsalesError> {
        self.read(|e| {
            Ok(e.pending_location_proposals()?
                .into_iter()
                .map(Customer::from)
                .collect())
        })
        .await
    }

    /// A manager approves a proposed location: it becomes the customer's geofence centre.
    /// The rep who proposed it cannot approve it (`NotAllowed`).
    pub async fn approve_location(
        self: Arc<Self>,
        customer_id: String,
    ) -> Result<Customer, FieldsalesError> {
        let id = record_id("customer_id", &customer_id)?;
        self.write(move |e| Ok(e.approve_location(id)?.into()))
            .await
    }

    /// A manager rejects a proposed location, saying why (the reason goes to the customer's
    /// notes for the rep to read).
    pub async fn reject_location(
        self: Arc<Self>,
        customer_id: String,
        reason: String,
    ) -> Result<Customer, FieldsalesError> {
        let id = record_id("customer_id", &customer_id)?;
        self.write(move |e| Ok(e.reject_location(id, &reason)?.into()))
            .await
    }

    /// Runs the duplicate check on a draft without saving it (as the rep types the name).
    pub async fn check_customer_duplicates(
        self: Arc<Self>,
        draft: CustomerDraft,
    ) -> Result<DuplicateCheck, FieldsalesError> {
        self.read(move |e| {
            let check = e.check_customer_duplicates(&draft.new_customer(e)?)?;
            Ok(DuplicateCheck {
                exact: check.exact.map(DuplicateHit::from),
                near: check.near.into_iter().map(DuplicateHit::from).collect(),
            })
        })
        .await
    }

    /// Creates a customer owned by the signed-in user; refused with `Duplicate` (carrying the
    /// existing customer's ID) when the same company exists, deleted ones included.
    pub async fn create_customer(
        self: Arc<Self>,
        draft: CustomerDraft,
    ) -> Result<CreatedCustomer, FieldsalesError> {
        self.write(move |e| {
            let (customer, near) = e.create_customer(draft.new_customer(e)?)?;
            Ok(CreatedCustomer {
                customer: customer.into(),
                near_duplicates: near.into_iter().map(DuplicateHit::from).collect(),
            })
        })
        .await
    }

    /// A customer the user may see.
    pub async fn get_customer(self: Arc<Self>, id: String) -> Result<Customer, FieldsalesError> {
        self.read(move |e| Ok(visible_customer(e, &id)?.into()))
            .await
    }

    /// Replaces a customer's fields with the draft's (the record's own rules apply).
    pub async fn update_customer(
        self: Arc<Self>,
        id: String,
        draft: CustomerDraft,
    ) -> Result<Customer, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("customer_id", &id)?;
            let location = draft.location()?;
            Ok(e.update_customer(id, |c| draft.apply(location, c))?.into())
        })
        .await
    }

    /// Shares a customer with a collaborator (its owner, or a manager above them).
    pub async fn share_customer(
        self: Arc<Self>,
        id: String,
        with_user_id: String,
    ) -> Result<Customer, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("customer_id", &id)?;
            let with = record_id("with_user_id", &with_user_id)?;
            Ok(e.share_customer(id, with)?.into())
        })
        .await
    }

    /// Takes a collaborator off a customer.
    pub async fn unshare_customer(
        self: Arc<Self>,
        id: String,
        with_user_id: String,
    ) -> Result<Customer, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("customer_id", &id)?;
            let with = record_id("with_user_id", &with_user_id)?;
            Ok(e.unshare_customer(id, with)?.into())
        })
        .await
    }

    /// Every customer on the device the user may see.
    pub async fn customers(self: Arc<Self>) -> Result<Vec<Customer>, FieldsalesError> {
        self.read(|e| {
            Ok(e.visible_customers()?
                .into_iter()
                .map(Customer::from)
                .collect())
        })
        .await
    }

    /// Searches names and titles (any three characters of a Chinese name match) over
    /// `kinds` (empty: customers, contacts, opportunities, leads, products, orders), best
    /// first, only records the user may see.
    pub async fn search(
        self: Arc<Self>,
        query: String,
        kinds: Vec<crate::codes::RecordKind>,
        limit: i32,
    ) -> Result<Vec<SearchHit>, FieldsalesError> {
        let limit = usize::try_from(limit)
            .ok()
            .filter(|l| (1..=500).contains(l))
            .ok_or_else(|| FieldsalesError::InvalidInput {
                field: "limit".into(),
                detail: format!("{limit} hits; 1 to 500"),
            })?;
        self.read(move |e| {
            let kinds = kinds
                .iter()
                .map(|k| k.core("kinds"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(e.search_visible(&query, &kinds, limit)?
                .into_iter()
                .map(|hit| SearchHit {
                    id: hit.id.to_string(),
                    kind: hit.kind.into(),
                    title: hit.title,
                    owner_id: hit.owner_id.map(|o| o.to_string()),
                })
                .collect())
        })
        .await
    }

    /// Adds a contact to a customer the user may see.
    pub async fn create_contact(
        self: Arc<Self>,
        customer_id: String,
        draft: ContactDraft,
    ) -> Result<Contact, FieldsalesError> {
        self.write(move |e| {
            let customer_id = record_id("customer_id", &customer_id)?;
            let mut contact = CoreContact {
                header: Header::new(e.me().user_id, e.now()),
                customer_id,
                name: String::new(),
                title: None,
                phone: None,
                email: None,
                decision_role: DecisionRole::Unknown,
            };
            let role = draft.role()?;
            draft.apply(role, &mut contact);
            Ok(Contact::shown(e.add_contact(contact)?, e.me()))
        })
        .await
    }

    /// Replaces a contact's fields with the draft's.
    pub async fn update_contact(
        self: Arc<Self>,
        id: String,
        draft: ContactDraft,
    ) -> Result<Contact, FieldsalesError> {
        self.write(move |e| {
            let id = record_id("contact_id", &id)?;
            let role = draft.role()?;
            Ok(Contact::shown(
                e.update_contact(id, |c| draft.apply(role, c))?,
                e.me(),
            ))
        })
        .await
    }

    /// Deletes (voids) a customer the user may see, and its contacts with it, as the
    /// permission matrix allows (by default a manager of its owner, not a rep); its deals,
    /// orders, visits and follow-ups stay as history. The duplicate check still finds it, to
    /// be restored rather than created again.
    pub async fn delete_customer(
        self: Arc<Self>,
        customer_id: String,
        reason: Option<String>,
    ) -> Result<(), FieldsalesError> {
        let id = record_id("customer_id", &customer_id)?;
        self.write(move |e| Ok(e.delete_customer(id, reason)?))
            .await
    }

    /// Deletes a contact of a customer the user may see, as the permission matrix allows.
    pub async fn delete_contact(
        self: Arc<Self>,
        contact_id: String,
        reason: Option<String>,
    ) -> Result<(), FieldsalesError> {
        let id = record_id("contact_id", &contact_id)?;
        self.write(move |e| Ok(e.delete_contact(id, reason)?)).await
    }

    /// A manager settles which rep owns a company that several reps follow as separate
    /// customer records (`contender_ids`, two or more): the record with the registered full
    /// name, then the first follow-up, then the first opportunity. The verdict is written on
    /// every contending record. Refused for a rep (not allowed) and when no rule decides
    /// (`ownership.undecided`).
    pub async fn resolve_customer_ownership(
        self: Arc<Self>,
        registered_full_name: Option<String>,
        contender_ids: Vec<String>,
    ) -> Result<OwnershipVerdict, FieldsalesError> {
        if contender_ids.len() > 50 {
            return Err(FieldsalesError::InvalidInput {
                field: "contender_ids".into(),
                detail: format!("{} contenders; at most 50", contender_ids.len()),
            });
        }
        let contenders = contender_ids
            .iter()
            .map(|id| record_id("contender_ids", id))
            .collect::<Result<Vec<_>, _>>()?;
        self.write(move |e| {
            let verdict =
                e.resolve_customer_ownership(registered_full_name.as_deref(), &contenders)?;
            let written: CoreCustomer = e.store().get(verdict.customer)?;
            Ok(OwnershipVerdict {
                owner_id: verdict.owner.to_string(),
                customer_id: Some(verdict.customer.to_string()),
                rule: OwnershipRule::of(verdict.rule.as_str()),
                contender_ids: contenders.iter().map(|c| c.to_string()).collect(),
                decided_at: written.ownership.map(|o| o.decided_at),
            })
        })
        .await
    }

    /// The contacts of a customer the user may see.
    pub async fn contacts_of(
        self: Arc<Self>,
        customer_id: String,
    ) -> Result<Vec<Contact>, FieldsalesError> {
        self.read(move |e| {
            let customer = visible_customer(e, &customer_id)?;
            e.store()
                .list(&ListFilter {
                    kind: Some(Kind::Contact),
                    customer: Some(customer.header.id),
                    limit: Some(10_000),
                    ..ListFilter::default()
                })?
                .into_iter()
                .map(|row| {
                    Ok(Contact::shown(
                        e.store().get::<CoreContact>(row.id)?,
                        e.me(),
                    ))
                })
                .collect()
        })
        .await
    }
}
