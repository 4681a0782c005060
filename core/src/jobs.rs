//! Jobs the server runs on a schedule over its copy of a tenant's records.
//!
//! They decide; the server writes: [`due`] reads the tenant's facts and returns the records
//! to write (with the server's actor, so the change reaches every device by pull). A phone
//! never runs them: a rep who stays offline must not keep a lead, or escape a penalty, by
//! never learning it is due.
//!
//! - A lead nobody followed up goes back to the pool ([`reclaim_leads`], by the tenant's
//!   [`crate::process::LeadRules`]).
//! - A day that passed without a daily report becomes a missing report with its penalty, for
//!   each person holding a role that owes reports (the field-work settings'
//!   `daily_report.reporting_roles`), on the days they owed one by the tenant's work calendar
//!   (`calendar`: working week, public holidays, make-up working days) and their own profile
//!   (first and last working day, leave). A day with a submitted or missing report gets no
//!   second (a draft alone does not settle a day). A missing report of a day that turns out to
//!   be a day off (a holiday or leave entered after the fact) is withdrawn.
//! - A report written offline before the cut-off may reach the server after its day was
//!   marked missing; the next run withdraws (tombstones) that missing report, and the report
//!   that arrived is judged on its own merits by the push review.
//!
//! - A deal past its stage's longest time (`max_days`) gets a reminder to its owner and their
//!   manager ([`overdue_stages`]): once per stage entry, again every `reminder_every_hours` if
//!   the stage says so. The deal is written back with `overdue_reminded_at`, so the reminder
//!   reaches both phones as a synced record and the next run does not repeat it.
//!
//! Each is idempotent: a reclaimed lead is no longer held, a settled day is not settled
//! again, a reminded deal is not reminded again before its time.

use std::collections::BTreeSet;

use crate::fieldwork::report::ReportDay;
use crate::fieldwork::{Judge, report_day_status};
use crate::process::{LeadRules, ReclaimDue, ReleaseCause, StageClock, StageOverdue, StageRule};
use crate::process::{reclaim_due, stage_overdue};
use crate::record::daily_report::ReportState;
use crate::record::lead::LeadStatus;
use crate::record::{DailyReport, Header, IdSet, Lead, Opportunity, Tombstone};
use crate::store::read::sql;
use crate::store::{StoreRead, directory};
use crate::{LocalDate, RecordId, Result, Timestamp};

/// What a run of the jobs must write now, as the server writes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Due {
    /// Leads taken back into the pool.
    pub reclaimed_leads: Vec<Lead>,
    /// Missing daily reports to write, with their verdict and penalty.
    pub missing_reports: Vec<DailyReport>,
    /// Missing reports withdrawn (tombstoned) because the rep's report for the day arrived.
    pub withdrawn_missing: Vec<DailyReport>,
    /// Deals past their stage's longest time whose reminder is due, each with the reminder
    /// recorded (`overdue_reminded_at`), to write back.
    pub stage_reminders: Vec<StageReminder>,
}

/// Everything due in the tenant `store` holds at `now`, looking back `report_lookback_days`
/// days for missing reports.
pub fn due<S: StoreRead>(store: &S, now: Timestamp, report_lookback_days: u32) -> Result<Due> {
    let process = store.sales_process()?;
    let held = directory::held_leads(sql(store))?
        .into_iter()
        .map(|id| store.get::<Lead>(id))
        .collect::<Result<Vec<_>>>()?;
    let reclaimed_leads = reclaim_leads(&held, &process.leads, now, None)
        .into_iter()
        .map(|r| r.lead)
        .collect();
    let settings = &process.fieldwork.daily_report;
    let calendar = &process.fieldwork.calendar;
    let mut missing_reports = Vec::new();
    let mut withdrawn_missing = Vec::new();
    let people = store.people()?;
    let stage_reminders = stage_reminders_due(store, &process.stages, &people, now)?;
    for person in people {
        if !person.active
            || !person
                .roles
                .iter()
                .any(|r| settings.reporting_roles.contains(r))
        {
            continue;
        }
        let today = now.local_date(&person.zone);
        let employment = person.employment();
        let settled: BTreeSet<LocalDate> = directory::settled_report_days(sql(store), person.id)?
            .into_iter()
            .collect();
        for (id, date) in directory::missing_reports_of(sql(store), person.id)? {
            if let Some(off) = calendar.day_off(date, &employment) {
                let mut missing: DailyReport = store.get(id)?;
                missing.header.deleted = Some(Tombstone {
                    at: now,
                    by: None,
                    reason: Some(format!("nobody owes a report for a day off ({off})")),
                });
                withdrawn_missing.push(missing);
            }
        }
        let mut date = today;
        for _ in 0..report_lookback_days {
            date = date.pred();
            if date < employment.started_on {
                break;
            }
            if settled.contains(&date) {
                continue;
            }
            let day_off = calendar.day_off(date, &employment);
            let ReportDay::Missing(verdict) =
                report_day_status(date, &person.zone, day_off, settings, now, Judge::Server)
            else {
                continue;
            };
            let mut header = Header::new(person.id, now);
            header.created_by = None;
            header.org_unit_id = Some(person.unit_id);
            missing_reports.push(DailyReport {
                header,
                date,
                zone: person.zone.clone(),
                summary: Default::default(),
                results: Default::default(),
                problems: Default::default(),
                plan_tomorrow: Default::default(),
                visit_ids: Vec::new(),
                follow_up_ids: Vec::new(),
                task_ids: Vec::new(),
                state: ReportState::Missing,
                submitted_at: None,
                submitted_clock_offset_ms: None,
                received_at: None,
                comments: Vec::new(),
                read_by: IdSet::new(),
                marked_false: None,
                verdict: Some(verdict),
            });
        }
    }
    for id in directory::superseded_missing_reports(sql(store))? {
        if withdrawn_missing
            .iter()
            .any(|w: &DailyReport| w.header.id == id)
        {
            continue;
        }
        let mut missing: DailyReport = store.get(id)?;
        missing.header.deleted = Some(Tombstone {
            at: now,
            by: None,
            reason: Some("the rep's report for the day arrived".into()),
        });
        withdrawn_missing.push(missing);
    }
    Ok(Due {
        reclaimed_leads,
        missing_reports,
        withdrawn_missing,
        stage_reminders,
    })
}

/// The stage reminders due at `now`: only the open deals whose stage's time has run out are
/// loaded (found in the projection); a person's manager comes from the org tree.
fn stage_reminders_due<S: StoreRead>(
    store: &S,
    stages: &[StageRule],
    people: &[directory::PersonRow],
    now: Timestamp,
) -> Result<Vec<StageReminder>> {
    let limits = stage_limits(stages);
    if limits.is_empty() {
        return Ok(Vec::new());
    }
    let tree = store.org_tree()?;
    let units: std::collections::HashMap<RecordId, RecordId> =
        people.iter().map(|p| (p.id, p.unit_id)).collect();
    let manager = |user: RecordId| {
        let unit = units.get(&user).copied()?;
        tree.manager_of(user, unit)
    };
    let mut due = Vec::new();
    for id in store.stages_run_out(&limits, now)? {
        let deal: Opportunity = store.get(id)?;
        due.extend(overdue_stages(
            std::slice::from_ref(&deal),
            stages,
            manager,
            now,
        ));
    }
    Ok(due)
}

/// Per stage with a longest time, that time in milliseconds.
pub fn stage_limits(stages: &[StageRule]) -> std::collections::HashMap<String, i64> {
    stages
        .iter()
        .filter_map(|s| {
            s.max_days
                .map(|d| (s.key.clone(), i64::from(d) * 24 * 3_600_000))
        })
        .collect()
}

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
            lead.release(due.owner, by, now, ReleaseCause::Reclaimed);
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
