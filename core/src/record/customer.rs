//! Customers (客户) and contacts' parent: the company a rep sells to.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, StringSet, check, impl_record};
use crate::{GeoPoint, RecordId, Timestamp, string_enum};

string_enum! {
    /// Where a proposed customer location stands.
    pub enum ProposalStatus {
        /// Waiting for a manager.
        Pending = "pending",
        /// A manager accepted it: it became the customer's location.
        Approved = "approved",
        /// A manager refused it.
        Rejected = "rejected",
    }
}

/// A location proposed by a rep's first check-in at a customer with none registered.
///
/// It takes effect only once a manager approves it; otherwise a rep could place a customer
/// wherever they happen to stand.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct LocationProposal {
    /// The proposed point.
    pub point: GeoPoint,
    /// GPS accuracy of the fix that proposed it, in metres.
    pub accuracy_m: f64,
    /// The visit whose check-in proposed it.
    pub visit_id: Option<RecordId>,
    /// Who proposed it.
    pub proposed_by: RecordId,
    /// When.
    pub proposed_at: Timestamp,
    /// Where the proposal stands.
    pub status: ProposalStatus,
    /// The manager who decided.
    pub decided_by: Option<RecordId>,
    /// When it was decided.
    pub decided_at: Option<Timestamp>,
}

impl LocationProposal {
    /// A proposal waiting for a manager: `point` as fixed with `accuracy_m` at the check-in
    /// of `visit_id`, by `by` at `at`.
    pub fn pending(
        point: GeoPoint,
        accuracy_m: f64,
        visit_id: Option<RecordId>,
        by: RecordId,
        at: Timestamp,
    ) -> Self {
        LocationProposal {
            point,
            accuracy_m,
            visit_id,
            proposed_by: by,
            proposed_at: at,
            status: ProposalStatus::Pending,
            decided_by: None,
            decided_at: None,
        }
    }
}

/// Which ownership rule settled a conflict between reps following the same company.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct OwnershipDecision {
    /// The rule that decided: an [`crate::process::OwnershipRule`] code
    /// (`registered_full_name`, `first_follow_up`, `first_opportunity`).
    pub rule: String,
    /// The rep who won.
    pub winner_id: RecordId,
    /// The customer records that competed.
    pub contenders: Vec<RecordId>,
    /// When it was decided.
    pub decided_at: Timestamp,
}

/// A customer company.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Customer {
    /// Common fields; `header.shared_with` holds the collaborators (协作人).
    pub header: Header,
    /// Legal full name as registered (工商注册全称).
    pub legal_name: String,
    /// Whether `legal_name` was checked against the business registry; the first ownership
    /// rule favours such a record.
    #[autosurgeon(missing = "Default::default")]
    pub registered_name_verified: bool,
    /// Short name used day to day (华为).
    pub short_name: Option<String>,
    /// English name, when the company uses one.
    pub english_name: Option<String>,
    /// Customer type (enterprise, government, distributor ...), a configurable code.
    pub customer_type: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Scale (headcount band or revenue band).
    pub scale: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Registered location, the centre of the check-in geofence.
    pub location: Option<GeoPoint>,
    /// A location proposed by a check-in, waiting for a manager.
    pub location_proposal: Option<LocationProposal>,
    /// Level or tier (A/B/C), which also selects tier prices.
    pub tier: Option<String>,
    /// Where the customer came from (lead conversion, trade show, referral ...).
    pub source: Option<String>,
    /// Free tags.
    #[autosurgeon(missing = "StringSet::new")]
    pub tags: StringSet,
    /// Tenant-defined custom fields, by field key.
    #[autosurgeon(missing = "BTreeMap::new")]
    pub custom_fields: BTreeMap<String, String>,
    /// How an ownership conflict over this company was settled, if there was one.
    pub ownership: Option<OwnershipDecision>,
    /// Longer notes, edited collaboratively.
    #[autosurgeon(missing = "Text::default")]
    pub notes: Text,
}

impl Customer {
    /// A customer with its legal name, owned by `owner`.
    pub fn new(header: Header, legal_name: impl Into<String>) -> Self {
        Customer {
            header,
            legal_name: legal_name.into(),
            registered_name_verified: false,
            short_name: None,
            english_name: None,
            customer_type: None,
            industry: None,
            scale: None,
            address: None,
            location: None,
            location_proposal: None,
            tier: None,
            source: None,
            tags: StringSet::new(),
            custom_fields: BTreeMap::new(),
            ownership: None,
            notes: Text::default(),
        }
    }

    /// The names the company goes by, for search and the duplicate check.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.legal_name.as_str())
            .chain(self.short_name.as_deref())
            .chain(self.english_name.as_deref())
            .filter(|n| !n.trim().is_empty())
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Customer, "legal_name", &self.legal_name)?;
        for (field, value) in [
            ("short_name", &self.short_name),
            ("english_name", &self.english_name),
            ("industry", &self.industry),
            ("tier", &self.tier),
        ] {
            if let Some(v) = value {
                check::short(Kind::Customer, field, v)?;
            }
        }
        if let Some(p) = &self.location {
            p.validate().map_err(|e| InvalidRecord::Invalid {
                kind: Kind::Customer,
                field: "location",
                detail: e.to_string(),
            })?;
        }
        if let Some(p) = &self.location_proposal {
            p.point.validate().map_err(|e| InvalidRecord::Invalid {
                kind: Kind::Customer,
                field: "location_proposal",
                detail: e.to_string(),
            })?;
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.legal_name.clone(),
            status: self.tier.clone(),
            search_text: Some(self.names().collect::<Vec<_>>().join(" ")),
            ..Index::default()
        }
    }
}
impl_record!(Customer, Customer);
