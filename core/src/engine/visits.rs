//! Checking in and out at a customer site, and the customer locations check-ins propose.
//!
//! The phone judges a check-in at once, offline, with exactly the code the server runs on
//! receipt ([`crate::authority::fieldwork`]), reading the records around it through the same
//! [`Lookup`] ([`Facts`]) the server's review reads over its copy. So what the rep sees on the
//! spot is what the manager will see, unless the phone was lying; then the server's verdict
//! replaces it.

use autosurgeon::Text;

use crate::authority::Lookup;
use crate::authority::fieldwork::{AfterCheckIn, add_visit_flags, check_in_facts};
use crate::fieldwork::{
    CheckFlag, CheckInError, CheckInVerdict, DevicePosition, FenceMode, FlagKind, Judge,
    ProposalError, RefusalReason, judge_check_in,
};
use crate::record::customer::{LocationProposal, ProposalStatus};
use crate::record::visit::{AttachmentRef, CheckIn, CheckOut};
use crate::record::{Customer, Header, Kind, Visit, VisitPlan};
use crate::store::StoreRead;
use crate::store::{Facts, ListFilter};
use crate::{Error, RecordId, Result, Timestamp};

use super::Engine;
use crate::rule::RuleCode;

/// The longest visit note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// What a rep's phone sends to check in.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInRequest {
    /// The customer visited.
    pub customer_id: RecordId,
    /// The fix as the OS reported it.
    pub position: DevicePosition,
    /// A first note.
    pub note: String,
    /// Photos already put in the attachment store.
    pub photos: Vec<AttachmentRef>,
}

/// A check-in that was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedIn {
    /// The new visit, with the phone's verdict.
    pub visit: Visit,
    /// Whether the fix was proposed as the customer's location, for a manager to approve.
    pub proposed_location: bool,
}

/// The rule codes of a hard-mode refusal, for the app to act on.
pub fn refusal_rule(reason: &RefusalReason) -> RuleCode {
    match reason {
        RefusalReason::OutsideGeofence { .. } => RuleCode::GeofenceOutside,
        RefusalReason::AccuracyTooPoor { .. } => RuleCode::GeofencePoorAccuracy,
        RefusalReason::MockLocation => RuleCode::GeofenceMockLocation,
    }
}

fn note_text(note: &str) -> Result<Text> {
    let chars = note.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(Error::InvalidInput {
            field: "note",
            detail: format!("{chars} characters; at most {MAX_NOTE_CHARS} are kept"),
        });
    }
    Ok(Text::with_value(note))
}

impl Engine {
    /// Checks in at a customer: judges the fix against the customer's fence and the rep's
    /// earlier check-ins, refuses it in hard mode when the rules say so (`geofence.outside`,
    /// `geofence.poor_accuracy`, `geofence.mock_location`), and records the visit with its
    /// verdict. A trustworthy fix at a customer with no location is proposed as its location.
    pub fn check_in(&mut self, request: CheckInRequest) -> Result<CheckedIn> {
        let settings = self.fieldwork_settings()?;
        let now = self.now();
        let customer: Customer = self.store().get(request.customer_id)?;
        if customer.header.is_deleted() {
            return Err(Error::rule(
                RuleCode::VisitCustomerDeleted,
                "the customer was deleted; a visit cannot be recorded against it",
            ));
        }
        let settings_max = settings.visit.max_photo_bytes;
        for p in &request.photos {
            p.check(Kind::Visit)?;
            if u64::try_from(p.size).unwrap_or(u64::MAX) > settings_max {
                return Err(Error::rule(
                    RuleCode::AttachmentTooLarge,
                    format!(
                        "a photo of {} bytes is over the {settings_max} limit",
                        p.size
                    ),
                ));
            }
        }
        let me = self.me().clone();
        let mut header = Header::new(me.user_id, now);
        header.org_unit_id = Some(me.unit_id);
        let mut visit = Visit {
            header,
            customer_id: request.customer_id,
            plan_id: self.plan_covering(me.user_id, request.customer_id, now)?,
            check_in: self.check_in_record(request.position, now)?,
            check_out: None,
            note: note_text(&request.note)?,
            photos: request.photos,
            verdict: None,
            received_at: None,
        };
        let lookup = Facts::new(self.store());
        let facts = check_in_facts(&lookup, &visit, &settings, None)?;
        let reused = reused_photo(&lookup, &visit)?;
        let judgement = match judge_check_in(&facts, &settings, now, Judge::Device) {
            Ok(j) => j,
            Err(CheckInError::Refused { reason, .. }) => {
                return Err(Error::rule(refusal_rule(&reason), reason.to_string()));
            }
            Err(e) => {
                return Err(Error::InvalidInput {
                    field: "position",
                    detail: e.to_string(),
                });
            }
        };
        let mut verdict = judgement.verdict;
        let after = AfterCheckIn {
            customer_location: customer.location,
            reused_photo: reused,
        };
        add_visit_flags(&mut verdict, &visit, &after, &settings, now, Judge::Device);
        visit.verdict = Some(verdict);

        let propose = judgement.proposal.filter(|_| {
            customer.location.is_none()
                && customer
                    .location_proposal
                    .as_ref()
                    .is_none_or(|p| p.status != ProposalStatus::Pending)
        });
        let proposed_location = propose.is_some();
        let visit = self.guarded()?.transaction(|tx| {
            let visit = tx.create(visit)?;
            if let Some(p) = propose {
                tx.update::<Customer>(request.customer_id, |c| {
                    c.location_proposal = Some(LocationProposal::pending(
                        p.point,
                        p.accuracy_m,
                        Some(visit.header.id),
                        me.user_id,
                        now,
                    ));
                    Ok(())
                })?;
            }
            Ok(visit)
        })?;
        Ok(CheckedIn {
            visit,
            proposed_location,
        })
    }

    /// What a check-in here and now would be judged, without recording it: the app shows it
    /// before the rep confirms, and in hard mode says why it would be refused.
    pub fn preview_check_in(
        &self,
        customer_id: RecordId,
        position: &DevicePosition,
    ) -> Result<(CheckInVerdict, Option<RefusalReason>)> {
        let settings = self.fieldwork_settings()?;
        let now = self.now();
        let visit = Visit {
            header: Header::new(self.me().user_id, now),
            customer_id,
            plan_id: None,
            check_in: self.check_in_record(*position, now)?,
            check_out: None,
            note: Text::default(),
            photos: Vec::new(),
            verdict: None,
            received_at: None,
        };
        let facts = check_in_facts(&Facts::new(self.store()), &visit, &settings, None)?;
        match judge_check_in(&facts, &settings, now, Judge::Device) {
            Ok(j) => Ok((j.verdict, None)),
            Err(CheckInError::Refused { reason, verdict }) => Ok((*verdict, Some(reason))),
            Err(e) => Err(Error::InvalidInput {
                field: "position",
                detail: e.to_string(),
            }),
        }
    }

    /// Closes the rep's own open visit; its verdict gains the short-visit flag when it was
    /// closed sooner than the configured minimum.
    pub fn check_out(
        &mut self,
        visit_id: RecordId,
        position: Option<DevicePosition>,
    ) -> Result<Visit> {
        let settings = self.fieldwork_settings()?;
        let now = self.now();
        let me = self.me().user_id;
        if let Some(p) = &position {
            p.validate().map_err(|e| Error::InvalidInput {
                field: "position",
                detail: e.to_string(),
            })?;
        }
        let visit: Visit = self.store().get(visit_id)?;
        let customer_location = match self.store().get::<Customer>(visit.customer_id) {
            Ok(c) => c.location,
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        self.guarded()?.update::<Visit>(visit_id, |v| {
            if v.header.owner_id != Some(me) {
                return Err(Error::NotAllowed(
                    "only the rep who checked in checks out".into(),
                ));
            }
            if v.check_out.is_some() {
                return Err(Error::rule(
                    RuleCode::VisitAlreadyCheckedOut,
                    "the visit was already checked out",
                ));
            }
            if now < v.check_in.at {
                return Err(Error::rule(
                    RuleCode::VisitCheckOutBeforeCheckIn,
                    format!(
                        "check-out at {now} is before the check-in at {}",
                        v.check_in.at
                    ),
                ));
            }
            v.check_out = Some(CheckOut { at: now, position });
            let snapshot = v.clone();
            if let Some(verdict) = &mut v.verdict {
                let after = AfterCheckIn {
                    customer_location,
                    reused_photo: verdict.has_flag(&FlagKind::ReusedPhoto),
                };
                add_visit_flags(verdict, &snapshot, &after, &settings, now, Judge::Device);
                verdict.judged_by = Judge::Device;
                verdict.judged_at = now;
            }
            Ok(())
        })
    }

    /// Attaches a photo (already in the attachment store) to the rep's own visit; a photo
    /// another visit already holds raises the reused-photo flag.
    pub fn add_visit_photo(&mut self, visit_id: RecordId, photo: AttachmentRef) -> Result<Visit> {
        photo.check(Kind::Visit)?;
        let settings = self.fieldwork_settings()?;
        let limit = settings.visit.max_photo_bytes;
        if u64::try_from(photo.size).unwrap_or(u64::MAX) > limit {
            return Err(Error::rule(
                RuleCode::AttachmentTooLarge,
                format!("a photo of {} bytes is over the {limit} limit", photo.size),
            ));
        }
        let reused = Facts::new(self.store())
            .visits_with_photo(&photo.sha256)?
            .unwrap_or_default()
            .into_iter()
            .any(|id| id != visit_id);
        let me = self.me().user_id;
        let now = self.now();
        self.guarded()?.update::<Visit>(visit_id, |v| {
            if v.header.owner_id != Some(me) {
                return Err(Error::NotAllowed(
                    "only the rep of a visit adds its photos".into(),
                ));
            }
            if v.photos.iter().any(|p| p.sha256 == photo.sha256) {
                return Ok(());
            }
            v.photos.push(photo);
            if reused
                && let Some(verdict) = &mut v.verdict
                && !verdict.has_flag(&FlagKind::ReusedPhoto)
            {
                verdict.flags.push(CheckFlag::bare(FlagKind::ReusedPhoto));
                verdict.judged_by = Judge::Device;
                verdict.judged_at = now;
            }
            Ok(())
        })
    }

    /// Whether the configured fence mode refuses check-ins outside the fence.
    pub fn fence_is_hard(&self) -> Result<bool> {
        Ok(self.fieldwork_settings()?.geofence.mode == FenceMode::Hard)
    }

    /// Customers with a location proposal waiting for a manager.
    pub fn pending_location_proposals(&self) -> Result<Vec<Customer>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::Customer),
            limit: Some(usize::MAX >> 1),
            ..ListFilter::default()
        })?;
        let mut out = Vec::new();
        for row in rows {
            let c: Customer = self.store().get(row.id)?;
            if c.location_proposal
                .as_ref()
                .is_some_and(|p| p.status == ProposalStatus::Pending)
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// A rep proposes the position of one of their check-ins as the customer's location: the
    /// customer moved, or its registered location was wrong. The fix must have been judged
    /// trustworthy (precise, not mocked, from an honest device); the proposal waits for a
    /// manager like the one a first check-in makes, and replaces an earlier decided one.
    pub fn propose_location(&mut self, visit_id: RecordId) -> Result<Customer> {
        let (me, now) = (self.me().clone(), self.now());
        let visit: Visit = self.store().get(visit_id)?;
        if visit.header.owner_id != Some(me.user_id) || visit.header.is_deleted() {
            return Err(Error::NotAllowed(
                "a location is proposed from one's own check-in".into(),
            ));
        }
        let trusted = visit
            .verdict
            .as_ref()
            .is_some_and(crate::fieldwork::trustworthy);
        if !trusted {
            return Err(Error::rule(
                RuleCode::LocationFixUntrustworthy,
                "the check-in's fix was too imprecise or not genuine to place a customer",
            ));
        }
        let fix = visit.check_in.position;
        self.guarded()?.update::<Customer>(visit.customer_id, |c| {
            if c.header.is_deleted() {
                return Err(Error::rule(
                    RuleCode::VisitCustomerDeleted,
                    "the customer was deleted; its location cannot change",
                ));
            }
            if c.location_proposal
                .as_ref()
                .is_some_and(|p| p.status == ProposalStatus::Pending)
            {
                return Err(Error::rule(
                    RuleCode::LocationAlreadyProposed,
                    "a proposed location is already waiting for a manager",
                ));
            }
            fix.point.validate().map_err(|_| {
                Error::rule(
                    RuleCode::LocationFixUntrustworthy,
                    "the check-in's position is not a valid point",
                )
            })?;
            c.location_proposal = Some(LocationProposal::pending(
                fix.point,
                fix.accuracy_m,
                Some(visit_id),
                me.user_id,
                now,
            ));
            Ok(())
        })
    }

    /// A manager accepts a customer's proposed location: it becomes the fence centre.
    pub fn approve_location(&mut self, customer_id: RecordId) -> Result<Customer> {
        let (me, now) = (self.me().clone(), self.now());
        let tree = crate::scope::OrgTree::load(self.store().connection())?;
        self.guarded()?.update::<Customer>(customer_id, |c| {
            may_decide_location(&tree, &me, c)?;
            let p = pending_proposal(c)?;
            p.status = ProposalStatus::Approved;
            p.decided_by = Some(me.user_id);
            p.decided_at = Some(now);
            c.location = Some(p.point);
            Ok(())
        })
    }

    /// A manager refuses a customer's proposed location, saying why (kept in the customer's
    /// notes; the proposal itself only records the decision).
    pub fn reject_location(&mut self, customer_id: RecordId, reason: &str) -> Result<Customer> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(proposal_error(ProposalError::EmptyReason));
        }
        let chars = reason.chars().count();
        if chars > crate::fieldwork::proposal::MAX_REASON_CHARS {
            return Err(proposal_error(ProposalError::ReasonTooLong { chars }));
        }
        let (me, now) = (self.me().clone(), self.now());
        let tree = crate::scope::OrgTree::load(self.store().connection())?;
        self.guarded()?.update::<Customer>(customer_id, |c| {
            may_decide_location(&tree, &me, c)?;
            let p = pending_proposal(c)?;
            p.status = ProposalStatus::Rejected;
            p.decided_by = Some(me.user_id);
            p.decided_at = Some(now);
            let mut notes = c.notes.as_str().to_string();
            if !notes.is_empty() {
                notes.push('\n');
            }
            notes.push_str(&format!("Proposed location rejected: {reason}"));
            c.notes.update(notes);
            Ok(())
        })
    }

    /// The visits of a rep on a local day in the visit's own zone, in check-in order.
    pub fn visits_on(&self, rep: RecordId, date: crate::LocalDate) -> Result<Vec<Visit>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::Visit),
            owner: Some(rep),
            from_date: Some(date),
            to_date: Some(date),
            limit: Some(10_000),
            ..ListFilter::default()
        })?;
        let mut visits = rows
            .iter()
            .map(|r| self.store().get::<Visit>(r.id))
            .collect::<Result<Vec<_>>>()?;
        visits.sort_by_key(|v| (v.check_in.at, v.header.id));
        Ok(visits)
    }

    /// A check-in at `now` from `position`, with what this device knows of its own clock (the
    /// offset and the sync that measured it) and of the rep's latest visit it holds, so a
    /// judge can tell a clock set back after the fact.
    fn check_in_record(&self, position: DevicePosition, now: Timestamp) -> Result<CheckIn> {
        let clock = self.clock_offset()?;
        let me = self.me();
        let recorded_after = self.store().latest_check_in(me.user_id)?;
        Ok(CheckIn {
            at: now,
            position,
            zone: me.zone.clone(),
            clock_offset_ms: clock.map(|c| c.offset_ms),
            synced_at: clock.map(|c| c.measured_at),
            recorded_after,
        })
    }

    /// The rep's plan for the day of `at` that lists `customer`, if any.
    fn plan_covering(
        &self,
        rep: RecordId,
        customer: RecordId,
        at: Timestamp,
    ) -> Result<Option<RecordId>> {
        let date = at.local_date(&self.me().zone);
        Ok(self
            .plan_for(rep, date)?
            .filter(|p: &VisitPlan| p.items.iter().any(|i| i.customer_id == customer))
            .map(|p| p.header.id))
    }
}

fn reused_photo(lookup: &dyn Lookup, visit: &Visit) -> Result<bool> {
    for p in &visit.photos {
        let holders = lookup.visits_with_photo(&p.sha256)?.unwrap_or_default();
        if holders.iter().any(|id| *id != visit.header.id) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn may_decide_location(
    tree: &crate::scope::OrgTree,
    me: &super::Me,
    customer: &Customer,
) -> Result<()> {
    if !tree.manages(me, &customer.header) {
        return Err(Error::NotAllowed(
            "only a manager who sees the customer decides its location".into(),
        ));
    }
    if customer
        .location_proposal
        .as_ref()
        .is_some_and(|p| p.proposed_by == me.user_id)
    {
        return Err(Error::NotAllowed(
            "a location is approved by someone other than the rep who proposed it".into(),
        ));
    }
    Ok(())
}

fn pending_proposal(c: &mut Customer) -> Result<&mut LocationProposal> {
    let status = match &c.location_proposal {
        None => {
            return Err(Error::rule(
                RuleCode::LocationNoProposal,
                "the customer has no proposed location",
            ));
        }
        Some(p) => p.status.clone(),
    };
    match (&mut c.location_proposal, status) {
        (Some(p), ProposalStatus::Pending) => Ok(p),
        (_, decided) => Err(proposal_error(ProposalError::AlreadyDecided {
            status: match decided {
                ProposalStatus::Approved => crate::fieldwork::ProposalStatus::Approved,
                ProposalStatus::Rejected => crate::fieldwork::ProposalStatus::Rejected,
                other => crate::fieldwork::ProposalStatus::Other(other.to_string()),
            },
        })),
    }
}

fn proposal_error(e: ProposalError) -> Error {
    let rule = match e {
        ProposalError::AlreadyDecided { .. } => RuleCode::LocationAlreadyDecided,
        ProposalError::EmptyReason => RuleCode::LocationReasonRequired,
        ProposalError::ReasonTooLong { .. } => RuleCode::LocationReasonTooLong,
    };
    Error::rule(rule, e.to_string())
}
