//! Leads (线索) and the public pool (公海).
//!
//! A lead is owned by the rep it is assigned to; in the pool it has no owner and is attributed
//! to the pool's org unit, so every rep under that unit sees it and may claim it.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::process::{LeadFacts, LeadRelease, ReleaseCause};
use crate::{RecordId, Timestamp, string_enum};

string_enum! {
    /// Where a lead stands.
    pub enum LeadStatus {
        /// Created, nobody assigned yet.
        New = "new",
        /// Assigned to a rep who has not followed it up.
        Assigned = "assigned",
        /// Being followed up.
        Following = "following",
        /// Converted into customer + contact + opportunity.
        Converted = "converted",
        /// In the public pool, free to claim.
        Pooled = "pooled",
        /// Closed as useless.
        Closed = "closed",
    }
}

string_enum! {
    /// Something that happened to a lead's ownership.
    pub enum LeadEventKind {
        /// Assigned by a manager or automatically.
        Assigned = "assigned",
        /// Claimed from the pool by a rep.
        Claimed = "claimed",
        /// Returned to the pool by its rep.
        Returned = "returned",
        /// Taken back into the pool by the server for lack of follow-up.
        Reclaimed = "reclaimed",
        /// Converted.
        Converted = "converted",
    }
}

/// An entry of a lead's ownership history.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct LeadEvent {
    /// What happened.
    pub kind: LeadEventKind,
    /// The rep concerned (assignee, claimer, the rep it was taken from).
    pub rep_id: Option<RecordId>,
    /// Who did it (a manager, the rep, the server).
    pub by: Option<RecordId>,
    /// When.
    pub at: Timestamp,
}

/// What a converted lead became.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct LeadConversion {
    /// The customer.
    pub customer_id: RecordId,
    /// The contact.
    pub contact_id: Option<RecordId>,
    /// The opportunity.
    pub opportunity_id: Option<RecordId>,
    /// When.
    pub at: Timestamp,
}

/// A sales lead.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Lead {
    /// Common fields; `owner_id` is the assigned rep, `None` in the pool.
    pub header: Header,
    /// The company as the lead names it.
    pub company_name: String,
    /// The person to talk to.
    pub contact_name: Option<String>,
    /// Their phone.
    pub phone: Option<String>,
    /// Their e-mail.
    pub email: Option<String>,
    /// Where the lead came from.
    pub source: Option<String>,
    /// Where it stands.
    pub status: LeadStatus,
    /// When the current owner got it.
    pub assigned_at: Option<Timestamp>,
    /// The last follow-up: the reclaim timer runs from here (or from `assigned_at`).
    pub last_follow_up_at: Option<Timestamp>,
    /// Ownership history, oldest first.
    #[autosurgeon(missing = "Vec::new")]
    pub events: Vec<LeadEvent>,
    /// Every time the lead left a rep (returned or reclaimed): a rep may not claim again a
    /// lead they let go within the configured waiting period.
    #[autosurgeon(missing = "Vec::new")]
    pub releases: Vec<LeadRelease>,
    /// What it became, once converted.
    pub conversion: Option<LeadConversion>,
    /// Notes.
    #[autosurgeon(missing = "Text::default")]
    pub notes: Text,
}

impl Lead {
    /// Puts the lead back into its team's pool: no owner, the release remembered for the
    /// waiting period. Shared by a rep's return and the server's reclaim.
    pub fn release(
        &mut self,
        rep: RecordId,
        by: Option<RecordId>,
        at: Timestamp,
        cause: ReleaseCause,
    ) {
        self.header.owner_id = None;
        self.status = LeadStatus::Pooled;
        self.assigned_at = None;
        self.events.push(LeadEvent {
            kind: match cause {
                ReleaseCause::Reclaimed => LeadEventKind::Reclaimed,
                _ => LeadEventKind::Returned,
            },
            rep_id: Some(rep),
            by,
            at,
        });
        self.releases.push(LeadRelease { rep, at, cause });
    }

    /// The lead as the pool rules see it.
    pub fn facts(&self) -> LeadFacts {
        LeadFacts {
            owner: self.header.owner_id,
            assigned_at: self.assigned_at,
            last_follow_up_at: self.last_follow_up_at,
            converted: self.status == LeadStatus::Converted,
        }
    }

    /// Whether the lead counts against its rep's cap of open leads.
    pub fn is_open(&self) -> bool {
        self.header.owner_id.is_some()
            && !self.header.is_deleted()
            && matches!(
                self.status,
                LeadStatus::New | LeadStatus::Assigned | LeadStatus::Following
            )
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Lead, "company_name", &self.company_name)?;
        if self.status == LeadStatus::Converted && self.conversion.is_none() {
            return Err(InvalidRecord::Missing {
                kind: Kind::Lead,
                field: "conversion",
            });
        }
        if self.status == LeadStatus::Pooled && self.header.owner_id.is_some() {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Lead,
                field: "owner_id",
                detail: "a lead in the pool has no owner".into(),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        let mut text = self.company_name.clone();
        if let Some(c) = &self.contact_name {
            text.push(' ');
            text.push_str(c);
        }
        Index {
            title: self.company_name.clone(),
            customer_id: self.conversion.as_ref().map(|c| c.customer_id),
            status: Some(self.status.to_string()),
            occurred_at: self.last_follow_up_at.or(self.assigned_at),
            search_text: Some(text),
            ..Index::default()
        }
    }
}
impl_record!(Lead, Lead);
