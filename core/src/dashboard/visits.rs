//! Visits: plan against actual, check-ins by verdict, time spent, and the points for a map.
//!
//! A planned visit is done when the rep who planned it checked in at that customer on the
//! planned day; a check-in that matches no plan item of its rep, customer and day is
//! unplanned. Days are the rep's own local days (see the module docs of
//! [`crate::dashboard`]); a week starts on Monday and is named by that Monday, so the first
//! and last week of a range may start outside it while counting only the range's days.
//! "Flagged" counts check-ins with at least one suspicion flag, whatever their fence verdict;
//! "unjudged" those with no verdict yet.

use std::collections::{BTreeMap, HashMap};

use rusqlite::params;
use serde::{Deserialize, Serialize};

use chrono::Datelike;

use super::{Context, DashboardRequest, DateRange, Group, GroupBy, Scope, count};
use crate::fieldwork::FenceStatus;
use crate::{Error, LocalDate, RecordId, Result, Timestamp, Zone};

/// The period each row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Granularity {
    /// A day.
    Day,
    /// A week, Monday to Sunday.
    Week,
}

/// The visits dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
}

/// One group in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The fence verdict (`inside`, `outside`, `cannot_tell`, `unable_to_verify`; a newer
    /// server may know more); `None` before judgement.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub fence: Option<FenceStatus>,
    /// The suspicion flags' codes.
    pub flags: Vec<String>,
}

/// Where a page of map points ends: the last point handed out. The next page starts at the
/// next older check-in, so pages neither skip nor repeat a point while check-ins arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointCursor {
    /// The check-in time of the last point.
    pub at: Timestamp,
    /// Its visit.
    pub visit_id: RecordId,
}

/// One page of check-in points for a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MapPoints {
    /// The last successful sync the points are read from.
    pub data_as_of: Option<Timestamp>,
    /// The days asked for.
    pub range: DateRange,
    /// The points, newest check-in first (ties by visit, descending).
    pub points: Vec<CheckInPoint>,
    /// Where the next page starts; `None` when this page holds the last point.
    pub next: Option<PointCursor>,
}

/// Per owner and local day, from the sums the store keeps as check-ins are written
/// (`visit_days`): a year of a region is read as tens of thousands of rep-days instead of a
/// hundred thousand check-ins. Whether a check-in matched a plan is counted from the plan
/// side ([`PLANS_SQL`]): plans are few, check-ins many.
const CHECK_INS_SQL: &str = "
    WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
    SELECT d.owner_id, d.local_date, d.check_ins, d.inside, d.outside, d.cannot_tell,
           d.unable_to_verify, d.unjudged, d.flagged, d.checked_out, d.duration_s
    FROM scope s JOIN visit_days d ON d.owner_id = s.owner_id
    WHERE d.local_date BETWEEN ?2 AND ?3 AND d.check_ins > 0";

/// Per planned rep, day and customer: how many plan items name it, and how many live
/// check-ins of that rep at that customer on that day there are. One look-up per planned
/// visit gives both plan against actual and which check-ins were planned.
const PLANS_SQL: &str = "
    WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1)),
         items AS (
           SELECT p.owner_id, p.date, p.customer_id, COUNT(*) AS n
           FROM scope s JOIN visit_plan_items p ON p.owner_id = s.owner_id
           WHERE p.date BETWEEN ?2 AND ?3
           GROUP BY p.owner_id, p.date, p.customer_id)
    SELECT i.owner_id, i.date, i.n,
           (SELECT COUNT(*) FROM visits v
            WHERE v.owner_id = i.owner_id AND v.local_date = i.date AND v.deleted = 0
              AND v.customer_id = i.customer_id)
    FROM items i";

/// The Monday of `day`'s week.
fn monday_of(day: LocalDate) -> LocalDate {
    let back = day.naive().weekday().num_days_from_monday();
    day.naive()
        .checked_sub_days(chrono::Days::new(u64::from(back)))
        .map_or(day, LocalDate::from_naive)
}

/// The visits of the viewer's scope.
///
/// The check-ins themselves, for a map, are paged by [`visit_map_points`]: a year of a
/// region is far more than a phone should draw or carry in one answer.
pub fn visits(
    ctx: &Context<'_>,
    req: &DashboardRequest,
    granularity: Granularity,
) -> Result<VisitsDashboard> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    let (from, to) = (req.range.from, req.range.to);
    let period = |day: LocalDate| match granularity {
        Granularity::Day => day,
        Granularity::Week => monday_of(day),
    };
    // Per owner, per local day in date order; weeks are folded from days below. A year of
    // a region is tens of thousands of rep-days, so they are kept in ordered maps per owner
    // and sorted once per group rather than hashed and sorted one by one.
    let mut owner_index: HashMap<RecordId, usize> = HashMap::new();
    let mut per_owner: Vec<(RecordId, BTreeMap<LocalDate, VisitFigures>)> = Vec::new();
    let mut days_of = |owner: RecordId| -> usize {
        *owner_index.entry(owner).or_insert_with(|| {
            per_owner.push((owner, BTreeMap::new()));
            per_owner.len() - 1
        })
    };
    let mut day_rows: Vec<(usize, LocalDate, VisitFigures)> = Vec::new();

    let mut stmt = ctx.conn.prepare_cached(CHECK_INS_SQL)?;
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
                // Every check-in until the plans say otherwise.
                unplanned: c(2)?,
                ..VisitFigures::default()
            },
        ))
    })?;
    for row in rows {
        let (owner, day, f) = row?;
        day_rows.push((days_of(owner), day, f));
    }

    let mut stmt = ctx.conn.prepare_cached(PLANS_SQL)?;
    let rows = stmt.query_map(params![owners, from, to], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, LocalDate>(1)?,
            count(r.get(2)?),
            count(r.get(3)?),
        ))
    })?;
    // (owner, day, plan items, of those visited, check-ins that were planned)
    let mut planned: Vec<(usize, LocalDate, u64, u64, u64)> = Vec::new();
    for row in rows {
        let (owner, day, items, check_ins) = row?;
        let done = if check_ins > 0 { items } else { 0 };
        planned.push((days_of(owner), day, items, done, check_ins));
    }

    for (i, day, f) in day_rows {
        per_owner[i].1.insert(day, f);
    }
    for (i, day, items, done, check_ins) in planned {
        let f = per_owner[i].1.entry(day).or_default();
        f.planned += items;
        f.planned_done += done;
        f.unplanned = f.unplanned.saturating_sub(check_ins);
    }

    let mut grouped: HashMap<Group, BTreeMap<LocalDate, VisitFigures>> = HashMap::new();
    let mut total = VisitFigures::default();
    for (owner, days) in per_owner {
        let Some(g) = scope.group_of(owner, req.group_by) else {
            continue;
        };
        let periods = grouped.entry(g).or_default();
        for (day, f) in days {
            total.add(&f);
            periods.entry(period(day)).or_default().add(&f);
        }
    }
    let mut groups: Vec<(Group, BTreeMap<LocalDate, VisitFigures>)> = grouped.into_iter().collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rows = Vec::with_capacity(groups.iter().map(|g| g.1.len()).sum());
    for (group, periods) in groups {
        for (period, figures) in periods {
            rows.push(VisitRow {
                group: group.clone(),
                period,
                figures,
            });
        }
    }
    Ok(VisitsDashboard {
        data_as_of: ctx.data_as_of,
        range: req.range,
        group_by: req.group_by,
        granularity,
        rows,
        total,
    })
}

/// A page of the check-ins of the viewer's scope in `range`, for a map: at most `limit`
/// points (which must lie between 1 and [`super::DashboardSettings::map_point_limit`]),
/// newest first, starting after `after` (the previous page's
/// [`MapPoints::next`]). The days and the scope are those of [`visits`], so the points of
/// all pages are exactly the check-ins it counts.
pub fn visit_map_points(
    ctx: &Context<'_>,
    range: DateRange,
    limit: u32,
    after: Option<PointCursor>,
) -> Result<MapPoints> {
    let most = ctx.settings.map_point_limit.max(1);
    if limit == 0 || limit > most {
        return Err(Error::InvalidInput {
            field: "limit",
            detail: format!("{limit} points: a page holds 1 to {most}"),
        });
    }
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    // A local day lies within 14 hours of the same UTC day (the widest offsets on Earth are
    // -12 and +14 hours), so this window holds every check-in of the range whatever its
    // zone and lets the newest-first index stop early. A day of slack on each side.
    let lo = range.from.pred().start(&Zone::UTC);
    let hi = range.to.succ().succ().start(&Zone::UTC);
    let (after_at, after_id): (Timestamp, [u8; 16]) = match after {
        Some(c) => (c.at, *c.visit_id.as_bytes()),
        // Past any check-in of the range, and past any ID at that instant.
        None => (hi, [0xff; 16]),
    };
    // One more than the page, to know whether another page follows.
    let fetch = i64::from(limit) + 1;
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT v.id, v.owner_id, v.customer_id, v.check_in_at, v.local_date, v.lat, v.lon,
                v.fence, v.flags
         FROM visits v INDEXED BY visits_map
         WHERE v.check_in_at >= ?4 AND (v.check_in_at, v.id) < (?5, ?6)
           AND v.local_date BETWEEN ?2 AND ?3 AND v.deleted = 0
           AND v.owner_id IN (SELECT owner_id FROM scope)
         ORDER BY v.check_in_at DESC, v.id DESC
         LIMIT ?7",
    )?;
    let rows = stmt.query_map(
        params![owners, range.from, range.to, lo, after_at, after_id, fetch],
        |r| {
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
        },
    )?;
    let mut points = Vec::new();
    let mut more = false;
    for row in rows {
        let (visit_id, owner, customer_id, at, date, lat, lon, fence, flags) = row?;
        if points.len() as u64 >= u64::from(limit) {
            more = true;
            break;
        }
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
    let next = if more {
        points.last().map(|p| PointCursor {
            at: p.at,
            visit_id: p.visit_id,
        })
    } else {
        None
    };
    Ok(MapPoints {
        data_as_of: ctx.data_as_of,
        range,
        points,
        next,
    })
}
