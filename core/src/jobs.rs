//! Jobs the server runs on a schedule over its copy of a tenant's records.
//!
//! They are pure: the caller passes the records and `now`, and gets back the records to write
//! (with the server's actor, so the change reaches every device by pull). A phone never runs
//! them: a rep who stays offline must not keep a lead by never learning it is due.
//!
//! The server calls [`reclaim_leads`] every few minutes per tenant with the tenant's live
//! leads held by a rep (the projection `leads` with `owner_id IS NOT NULL` and an open status
//! gives them), the tenant's [`crate::process::LeadRules`] and its clock's `now`; it writes
//! each returned [`Reclaimed::lead`] through its normal record update. [`overdue_stages`]
//! works the same way for stage reminders.

use crate::engine::leads_release;
use crate::process::{LeadRules, ReclaimDue, ReleaseCause, StageClock, StageOverdue, StageRule};
use crate::process::{reclaim_due, stage_overdue};
use crate::record::Lead;
use crate::record::Opportunity;
use crate::record::lead::LeadStatus;
use crate::{RecordId, Timestamp};

/// A lead the job took back into the pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Reclaimed {
    /// Why it was due.
    pub due: ReclaimDue,
    /// The lead as it must be written: no owner, pooled, the release remembered.
    pub lead: Lead,
}

/// The leads due for reclaim at `now`, changed as they must be written. `by` is the server's
/// system user, recorded on the lead's history.
pub fn reclaim_leads(
    leads: &[Lead],
    rules: &LeadRules,
    now: Timestamp,
    by: Option<RecordId>,
) -> Vec<Reclaimed> {
    leads
        .iter()
        .filter(|l| !l.header.is_deleted())
        .filter(|l| {
            matches!(
                l.status,
                LeadStatus::New | LeadStatus::Assigned | LeadStatus::Following
            )
        })
        .filter_map(|l| {
            let due = reclaim_due(&l.facts(), rules, now)?;
            let mut lead = l.clone();
            leads_release(&mut lead, due.owner, by, now, ReleaseCause::Reclaimed);
            Some(Reclaimed { due, lead })
        })
        .collect()
}

/// A stage reminder to send, and the opportunity with the reminder recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StageReminder {
    /// What is overdue and who hears about it (the owner, then the manager).
    pub overdue: StageOverdue,
    /// The opportunity with `overdue_reminded_at` set to `now`, to write back.
    pub opportunity: Opportunity,
}

/// Open opportunities past their stage's longest time whose reminder is due now.
/// `manager_of` names the owner's manager from the org tree.
pub fn overdue_stages(
    opportunities: &[Opportunity],
    stages: &[StageRule],
    manager_of: impl Fn(RecordId) -> Option<RecordId>,
    now: Timestamp,
) -> Vec<StageReminder> {
    opportunities
        .iter()
        .filter(|o| !o.header.is_deleted() && o.outcome.is_none())
        .filter_map(|o| {
            let owner = o.header.owner_id?;
            let clock = StageClock {
                stage: &o.stage,
                entered_at: o.stage_entered_at()?,
                owner,
                manager: manager_of(owner),
                last_reminder_at: o.overdue_reminded_at,
            };
            let overdue = stage_overdue(stages, &clock, now).filter(|d| d.remind_now)?;
            let mut opportunity = o.clone();
            opportunity.overdue_reminded_at = Some(now);
            Some(StageReminder {
                overdue,
                opportunity,
            })
        })
        .collect()
}
