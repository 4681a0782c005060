//! Visits: plan against actual, check-ins by verdict, time spent, and the points for a map.
//!
//! A planned visit is done when the rep who planned it checked in at that customer on the
//! planned day; a check-in that matches no plan item of its rep, customer and day is
//! unplanned. Days are the rep's own local days (see the module docs of
//! [`crate::dashboard`]); a week starts on Monday and is named by that Monday, so the first
//! and last week of a range may start outside it while counting only the range's days.
//! "Flagged" counts check-ins with at least one suspicion flag, whatever their fence verdict;
//! "unjudged" those with no verdict yet.

use std::collections::HashMap;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Context, DashboardRequest, DateRange, Group, GroupBy, Scope, count};
use crate::fieldwork::FenceStatus;
use crate::{LocalDate, RecordId, Result, Timestamp};

/// The period each row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// A day.
    Day,
    /// A week, Monday to Sunday.
    Week,
}

/// The visits dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitsDashboard {
    /// The last successful sync the numbers are built from.
    pub data_as_of: Option<Timestamp>,
    /// The days asked for.
    pub range: DateRange,
    /// The rows' groups.
    pub group_by: GroupBy,
    /// The rows' periods.
    pub granularity: Granularity,
    /// One row per group and period that saw a plan or a check-in, by group then period.
    pub rows: Vec<VisitRow>,
    /// The whole scope and range.
    pub total: VisitFigures,
    /// Check-in points for a map, newest first, at most the configured limit.
    pub points: Vec<CheckInPoint>,
    /// Whether points were left out because of the limit (`total.check_ins` says how many
    /// there are).
    pub points_truncated: bool,
}

/// One group in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitRow {
    /// The rep, team or region.
    pub group: Group,
    /// The day, or the Monday of the week.
    pub period: LocalDate,
    /// Its figures.
    pub figures: VisitFigures,
}

/// Visit figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitFigures {
    /// Planned visits.
    pub planned: u64,
    /// Of those, the ones visited.
    pub planned_done: u64,
    /// Check-ins that matched no plan.
    pub unplanned: u64,
    /// All check-ins.
    pub check_ins: u64,
    /// Check-ins inside the customer's fence.
    pub inside: u64,
    /// Check-ins outside it.
    pub outside: u64,
    /// Check-ins whose accuracy circle straddles the fence.
    pub cannot_tell: u64,
    /// Check-ins at customers with no registered location.
    pub unable_to_verify: u64,
    /// Check-ins not judged yet.
    pub unjudged: u64,
    /// Check-ins with at least one suspicion flag.
    pub flagged: u64,
    /// Visits checked out (those with a duration).
    pub checked_out: u64,
    /// Their total duration, seconds.
    pub total_duration_s: u64,
    /// Their average duration, whole seconds rounded down; `None` when none checked out.
    pub average_duration_s: Option<u64>,
}

impl VisitFigures {
    fn add(&mut self, o: &VisitFigures) {
        self.planned += o.planned;
        self.planned_done += o.planned_done;
        self.unplanned += o.unplanned;
        self.check_ins += o.check_ins;
        self.inside += o.inside;
        self.outside += o.outside;
        self.cannot_tell += o.cannot_tell;
        self.unable_to_verify += o.unable_to_verify;
        self.unjudged += o.unjudged;
        self.flagged += o.flagged;
        self.checked_out += o.checked_out;
        self.total_duration_s += o.total_duration_s;
        self.average_duration_s = self.total_duration_s.checked_div(self.checked_out);
    }
}

/// One check-in for the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInPoint {
    /// The visit.
    pub visit_id: RecordId,
    /// The rep.
    pub rep: Group,
    /// The customer.
    pub customer_id: RecordId,
    /// When.
    pub at: Timestamp,
    /// The rep's local day.
    pub date: LocalDate,
    /// Where the phone said it was.
    pub lat: f64,
    /// Where the phone said it was.
    pub lon: f64,
    /// The fence verdict; `None` before judgement.
    pub fence: Option<FenceStatus>,
    /// The suspicion flags' codes.
    pub flags: Vec<String>,
}

/// The SQL expression of a row's period for a date column.
fn period_sql(g: Granularity, column: &str) -> String {
    match g {
        Granularity::Day => column.to_string(),
        Granularity::Week => format!(
            "date({column}, '-' || ((CAST(strftime('%w', {column}) AS INTEGER) + 6) % 7) || ' days')"
        ),
    }
}

/// The visits of the viewer's scope.
pub fn visits(
    ctx: &Context<'_>,
    req: &DashboardRequest,
    granularity: Granularity,
) -> Result<VisitsDashboard> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    let (from, to) = (req.range.from, req.range.to);
    let mut per_owner: HashMap<(RecordId, LocalDate), VisitFigures> = HashMap::new();

    let sql = format!(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT v.owner_id, {period} AS period, COUNT(*),
                COUNT(CASE WHEN v.fence = 'inside' THEN 1 END),
                COUNT(CASE WHEN v.fence = 'outside' THEN 1 END),
                COUNT(CASE WHEN v.fence = 'cannot_tell' THEN 1 END),
                COUNT(CASE WHEN v.fence = 'unable_to_verify' THEN 1 END),
                COUNT(CASE WHEN v.fence IS NULL THEN 1 END),
                COUNT(CASE WHEN v.flags <> '' THEN 1 END),
                COUNT(v.duration_s), COALESCE(SUM(v.duration_s), 0),
                COUNT(CASE WHEN NOT EXISTS (
                    SELECT 1 FROM visit_plan_items p
                    WHERE p.owner_id = v.owner_id AND p.date = v.local_date
                      AND p.customer_id = v.customer_id) THEN 1 END)
         FROM visits v
         WHERE v.deleted = 0 AND v.local_date BETWEEN ?2 AND ?3
           AND v.owner_id IN (SELECT owner_id FROM scope)
         GROUP BY v.owner_id, period",
        period = period_sql(granularity, "v.local_date")
    );
    let mut stmt = ctx.conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![owners, from, to], |r| {
        let c = |i: usize| r.get::<_, i64>(i).map(count);
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, LocalDate>(1)?,
            VisitFigures {
                check_ins: c(2)?,
                inside: c(3)?,
                outside: c(4)?,
                cannot_tell: c(5)?,
                unable_to_verify: c(6)?,
                unjudged: c(7)?,
                flagged: c(8)?,
                checked_out: c(9)?,
                total_duration_s: c(10)?,
                unplanned: c(11)?,
                ..VisitFigures::default()
            },
        ))
    })?;
    for row in rows {
        let (owner, period, f) = row?;
        per_owner.entry((owner, period)).or_default().add(&f);
    }

    let sql = format!(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT p.owner_id, {period} AS period, COUNT(*),
                COUNT(CASE WHEN EXISTS (
                    SELECT 1 FROM visits v
                    WHERE v.owner_id = p.owner_id AND v.local_date = p.date
                      AND v.customer_id = p.customer_id AND v.deleted = 0) THEN 1 END)
         FROM visit_plan_items p
         WHERE p.date BETWEEN ?2 AND ?3 AND p.owner_id IN (SELECT owner_id FROM scope)
         GROUP BY p.owner_id, period",
        period = period_sql(granularity, "p.date")
    );
    let mut stmt = ctx.conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![owners, from, to], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, LocalDate>(1)?,
            count(r.get(2)?),
            count(r.get(3)?),
        ))
    })?;
    for row in rows {
        let (owner, period, planned, done) = row?;
        let f = per_owner.entry((owner, period)).or_default();
        f.planned += planned;
        f.planned_done += done;
    }

    let mut grouped: HashMap<(Group, LocalDate), VisitFigures> = HashMap::new();
    let mut total = VisitFigures::default();
    for ((owner, period), f) in &per_owner {
        if let Some(g) = scope.group_of(*owner, req.group_by) {
            grouped.entry((g, *period)).or_default().add(f);
            total.add(f);
        }
    }
    let mut rows: Vec<VisitRow> = grouped
        .into_iter()
        .map(|((group, period), figures)| VisitRow {
            group,
            period,
            figures,
        })
        .collect();
    rows.sort_by(|a, b| (&a.group, a.period).cmp(&(&b.group, b.period)));

    let limit = ctx.settings.map_point_limit;
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT id, owner_id, customer_id, check_in_at, local_date, lat, lon, fence, flags
         FROM visits
         WHERE deleted = 0 AND local_date BETWEEN ?2 AND ?3
           AND owner_id IN (SELECT owner_id FROM scope)
         ORDER BY check_in_at DESC, id
         LIMIT ?4",
    )?;
    let rows_iter = stmt.query_map(params![owners, from, to, limit], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, RecordId>(1)?,
            r.get::<_, RecordId>(2)?,
            r.get::<_, Timestamp>(3)?,
            r.get::<_, LocalDate>(4)?,
            r.get::<_, f64>(5)?,
            r.get::<_, f64>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    let mut points = Vec::new();
    for row in rows_iter {
        let (visit_id, owner, customer_id, at, date, lat, lon, fence, flags) = row?;
        let Some(rep) = scope.rep(owner) else {
            continue;
        };
        points.push(CheckInPoint {
            visit_id,
            rep,
            customer_id,
            at,
            date,
            lat,
            lon,
            fence: fence.as_deref().map(FenceStatus::from_code),
            flags: flags
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        });
    }
    Ok(VisitsDashboard {
        data_as_of: ctx.data_as_of,
        range: req.range,
        group_by: req.group_by,
        granularity,
        points_truncated: (points.len() as u64) < total.check_ins,
        rows,
        total,
        points,
    })
}
