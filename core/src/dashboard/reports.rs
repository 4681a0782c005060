//! Daily-report compliance: on time, late, missing, false, and the penalties owed.
//!
//! Each rep-day in the range counts once, by the first rule that applies:
//! 1. a report with a verdict counts as its verdict (on time, late, missing, false, awaiting
//!    receipt), with the verdict's penalty;
//! 2. a submitted report with no verdict yet counts as unjudged (no penalty yet);
//! 3. a report in state `missing` with no verdict (the server's missing-report job) counts as
//!    missing, with the configured missing penalty;
//! 4. otherwise, when the rep holds a reporting role (`fieldwork.daily_report.reporting_roles`),
//!    is active, owed a report that day by the work calendar (a working day of the tenant's
//!    `fieldwork.calendar`, on or after their first working day, not after their last, not on
//!    leave) and the day's missing cut-off (`fieldwork.daily_report.missing_after_*`, in the
//!    rep's zone) has passed by `now`, the day is missing with no report filed
//!    (`missing_unfiled`), with the configured missing penalty. A draft is not a report.
//!
//! Two reports of one rep for one day with the same verdict (two phones, offline) count as
//! one day; with different verdicts each counts under its own.

use std::collections::{HashMap, HashSet};

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Context, DashboardRequest, DateRange, Group, GroupBy, Scope, count, hex_id, sorted};
use crate::fieldwork::{ReportState, ReportWindow};
use crate::{Currency, LocalDate, Money, RecordId, Result, Timestamp, Zone};

/// The report-compliance dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportCompliance {
    /// The last successful sync the numbers are built from.
    pub data_as_of: Option<Timestamp>,
    /// The days asked for.
    pub range: DateRange,
    /// The rows.
    pub group_by: GroupBy,
    /// The currency of the penalties.
    pub currency: Currency,
    /// One row per group with anything to count.
    pub groups: Vec<ReportRow>,
    /// The whole scope.
    pub total: ReportFigures,
}

/// One group's compliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRow {
    /// The rep, team or region.
    pub group: Group,
    /// Its figures.
    pub figures: ReportFigures,
}

/// Rep-days by how their report complied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportFigures {
    /// Filed before the deadline.
    pub on_time: u64,
    /// Filed after the deadline, before the cut-off.
    pub late: u64,
    /// Missing, filed too late or not at all.
    pub missing: u64,
    /// Of the missing, the days with no report at all.
    pub missing_unfiled: u64,
    /// Found false by a manager.
    pub false_reports: u64,
    /// Submitted on an untrusted clock, waiting for the server's receipt.
    pub awaiting_receipt: u64,
    /// Submitted, not judged yet (or judged by a newer version in a way this one does not
    /// know).
    pub unjudged: u64,
    /// Penalties owed.
    pub penalties: Money,
}

impl ReportFigures {
    fn zero(currency: Currency) -> Self {
        ReportFigures {
            on_time: 0,
            late: 0,
            missing: 0,
            missing_unfiled: 0,
            false_reports: 0,
            awaiting_receipt: 0,
            unjudged: 0,
            penalties: Money::zero(currency),
        }
    }

    fn add(&mut self, o: &ReportFigures) {
        self.on_time += o.on_time;
        self.late += o.late;
        self.missing += o.missing;
        self.missing_unfiled += o.missing_unfiled;
        self.false_reports += o.false_reports;
        self.awaiting_receipt += o.awaiting_receipt;
        self.unjudged += o.unjudged;
        self.penalties.minor = self.penalties.minor.saturating_add(o.penalties.minor);
    }
}

/// The latest day of `zone` whose missing cut-off has passed at `now`.
fn last_due_day(
    zone: &Zone,
    settings: &crate::fieldwork::DailyReportSettings,
    now: Timestamp,
) -> LocalDate {
    let mut day = now.local_date(zone);
    // The cut-off lies `missing_after_days` days (and a time of day) after the day, so the
    // answer is at most that many days and one more back.
    for _ in 0..=settings.missing_after_days.saturating_add(2) {
        if ReportWindow::of(day, zone, settings).missing_at <= now {
            return day;
        }
        day = day.pred();
    }
    day
}

/// The report compliance of the viewer's scope.
pub fn reports(ctx: &Context<'_>, req: &DashboardRequest) -> Result<ReportCompliance> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    let settings = &ctx.process.fieldwork.daily_report;
    let currency = settings.currency;
    let missing_penalty = settings.penalty(settings.missing_penalty).minor;
    let range = req.range;
    let mut per_owner: HashMap<RecordId, ReportFigures> = HashMap::new();

    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1)),
              judged AS (
                SELECT owner_id, date, penalty_minor,
                       COALESCE(compliance, CASE state WHEN 'submitted' THEN 'unjudged'
                                                       WHEN 'missing' THEN 'missing' END) AS st
                FROM daily_reports
                WHERE deleted = 0 AND date BETWEEN ?2 AND ?3
                  AND owner_id IN (SELECT owner_id FROM scope))
         SELECT owner_id, st, COUNT(DISTINCT date),
                COALESCE(SUM(COALESCE(penalty_minor, CASE WHEN st = 'missing' THEN ?4 END)), 0)
         FROM judged WHERE st IS NOT NULL
         GROUP BY owner_id, st",
    )?;
    let rows = stmt.query_map(
        params![owners, range.from, range.to, missing_penalty],
        |r| {
            Ok((
                r.get::<_, RecordId>(0)?,
                r.get::<_, String>(1)?,
                count(r.get(2)?),
                r.get::<_, i64>(3)?,
            ))
        },
    )?;
    for row in rows {
        let (owner, state, days, penalty) = row?;
        let f = per_owner
            .entry(owner)
            .or_insert_with(|| ReportFigures::zero(currency));
        match ReportState::from_code(&state) {
            ReportState::OnTime => f.on_time += days,
            ReportState::Late => f.late += days,
            ReportState::Missing => f.missing += days,
            ReportState::False => f.false_reports += days,
            ReportState::AwaitingReceipt => f.awaiting_receipt += days,
            ReportState::Other(_) => f.unjudged += days,
        }
        f.penalties.minor = f.penalties.minor.saturating_add(penalty);
    }

    // Days owed: per reporting rep, the working days of the range (by the tenant's calendar
    // and their own start, end and leave) from their first day to the last day whose cut-off
    // has passed.
    let calendar = &ctx.process.fieldwork.calendar;
    let mut owed: HashMap<RecordId, (LocalDate, LocalDate)> = HashMap::new();
    for (id, m) in &scope.members {
        let reports = m.roles.iter().any(|r| {
            ctx.process
                .fieldwork
                .daily_report
                .reporting_roles
                .contains(r)
        });
        if !reports || !m.working {
            continue;
        }
        let employment = m.employment(range.from);
        let first = employment.started_on.max(range.from);
        let mut last = last_due_day(&m.zone, settings, ctx.now).min(range.to);
        if let Some(left) = employment.left_on {
            last = last.min(left);
        }
        if first <= last {
            owed.insert(*id, (first, last));
        }
    }
    let owed_json = serde_json::to_string(
        &owed
            .iter()
            .map(|(id, (f, l))| (hex_id(id), f.to_string(), l.to_string()))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".to_string());
    // The days in each rep's window that a report settles.
    let mut settled: HashMap<RecordId, HashSet<LocalDate>> = HashMap::new();
    let mut stmt = ctx.conn.prepare_cached(
        // Materialized: read in place, each report row would take its owner's first and last
        // day out of the JSON again.
        "WITH owed(owner_id, first, last) AS MATERIALIZED (
                SELECT unhex(value ->> 0), value ->> 1, value ->> 2 FROM json_each(?1))
         SELECT DISTINCT o.owner_id, r.date
         FROM owed o JOIN daily_reports r ON r.owner_id = o.owner_id
         WHERE r.deleted = 0 AND r.date BETWEEN o.first AND o.last
           AND (r.compliance IS NOT NULL OR r.state IN ('submitted', 'missing'))",
    )?;
    for row in stmt.query_map([owed_json], |r| {
        Ok((r.get::<_, RecordId>(0)?, r.get::<_, LocalDate>(1)?))
    })? {
        let (owner, date) = row?;
        settled.entry(owner).or_default().insert(date);
    }
    for (owner, (first, last)) in &owed {
        let Some(member) = scope.members.get(owner) else {
            continue;
        };
        let employment = member.employment(range.from);
        let none = HashSet::new();
        let settled = settled.get(owner).unwrap_or(&none);
        let mut unfiled = 0u64;
        let mut day = *first;
        while day <= *last {
            if !settled.contains(&day) && calendar.owes_report(day, &employment) {
                unfiled += 1;
            }
            day = day.succ();
        }
        if unfiled > 0 {
            let f = per_owner
                .entry(*owner)
                .or_insert_with(|| ReportFigures::zero(currency));
            f.missing += unfiled;
            f.missing_unfiled += unfiled;
            let owed_minor = i64::try_from(unfiled)
                .unwrap_or(i64::MAX)
                .saturating_mul(missing_penalty);
            f.penalties.minor = f.penalties.minor.saturating_add(owed_minor);
        }
    }

    let mut groups: HashMap<Group, ReportFigures> = HashMap::new();
    let mut total = ReportFigures::zero(currency);
    for (owner, f) in &per_owner {
        if let Some(g) = scope.group_of(*owner, req.group_by) {
            groups
                .entry(g)
                .or_insert_with(|| ReportFigures::zero(currency))
                .add(f);
            total.add(f);
        }
    }
    Ok(ReportCompliance {
        data_as_of: ctx.data_as_of,
        range,
        group_by: req.group_by,
        currency,
        groups: sorted(groups)
            .into_iter()
            .map(|(group, figures)| ReportRow { group, figures })
            .collect(),
        total,
    })
}
