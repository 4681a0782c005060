//! Drilling down: the units and people of a viewer's scope as a tree (region → team → rep),
//! and one person's own records — their visits with the verdicts, flags and numbers of each
//! check-in, their daily reports with their compliance and penalties, and their deals.
//!
//! Both are read through the same `Scope` as every other dashboard, so a person or a unit
//! outside the viewer's scope is simply not there: asking for a rep of another region gives
//! an empty answer, never their records.

use std::collections::HashSet;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Context, DateRange, Group, Scope};
use crate::fieldwork::FenceStatus;
use crate::fieldwork::geofence::distance_m;
use crate::place::GeoPoint;
use crate::scope::Visibility;
use crate::{Currency, LocalDate, Money, RecordId, Result, Timestamp};

/// The most rows of each list of [`RepRecords`]; the newest are kept.
pub const PERSON_ROWS_LIMIT: usize = 1_000;

/// The units and people a viewer sees, for navigating from a region to a team to a rep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgChart {
    /// The time of the data.
    pub data_as_of: Option<Timestamp>,
    /// Who is looking, by name.
    pub viewer: Group,
    /// The viewer's own unit.
    pub viewer_unit: RecordId,
    /// The units of the scope (deleted ones left out), ordered by name. A unit whose parent
    /// is not in the list is a root of what the viewer sees.
    pub units: Vec<ChartUnit>,
    /// The people of the scope, ordered by name.
    pub people: Vec<ChartPerson>,
}

/// One unit of an [`OrgChart`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChartUnit {
    /// The unit.
    pub id: RecordId,
    /// Its name.
    pub name: String,
    /// `company`, `region`, `branch`, `team` (a newer server may know more).
    pub level: String,
    /// Its parent, when the viewer sees the parent too.
    pub parent_id: Option<RecordId>,
}

/// One person of an [`OrgChart`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChartPerson {
    /// Their profile record.
    pub id: RecordId,
    /// Their name.
    pub name: String,
    /// Their unit.
    pub unit_id: RecordId,
    /// Their role codes.
    pub roles: Vec<String>,
    /// Active and not deleted.
    pub working: bool,
}

/// The units and people of the viewer's scope (narrowed to its focus, if any).
pub fn org_chart(ctx: &Context<'_>) -> Result<OrgChart> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let me = &ctx.viewer.me;
    let mut wanted: HashSet<RecordId> = scope.members.values().map(|m| m.unit).collect();
    let mut stmt = ctx
        .conn
        .prepare_cached("SELECT id, name, level, parent_id, deleted FROM org_units")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<RecordId>>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    let mut all = Vec::new();
    for row in rows {
        let (id, name, level, parent, deleted) = row?;
        let seen = match &scope.visibility {
            Visibility::All => !deleted,
            Visibility::Units(set) => set.contains(&id) && !deleted,
        };
        if seen {
            wanted.insert(id);
        }
        all.push((id, name, level, parent));
    }
    let mut units: Vec<ChartUnit> = all
        .into_iter()
        .filter(|(id, ..)| wanted.contains(id))
        .map(|(id, name, level, parent)| ChartUnit {
            id,
            name,
            level,
            parent_id: parent.filter(|p| wanted.contains(p)),
        })
        .collect();
    units.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let mut people: Vec<ChartPerson> = scope
        .members
        .iter()
        .map(|(id, m)| ChartPerson {
            id: *id,
            name: m.name.clone(),
            unit_id: m.unit,
            roles: m.roles.clone(),
            working: m.working,
        })
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let viewer_name = scope
        .members
        .get(&me.user_id)
        .map(|m| m.name.clone())
        .or_else(|| person_name(ctx, me.user_id).ok().flatten())
        .unwrap_or_default();
    Ok(OrgChart {
        data_as_of: ctx.data_as_of,
        viewer: Group {
            name: viewer_name,
            id: me.user_id,
        },
        viewer_unit: me.unit_id,
        units,
        people,
    })
}

fn person_name(ctx: &Context<'_>, id: RecordId) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(ctx
        .conn
        .prepare_cached("SELECT name FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// One person's own records over some days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepRecords {
    /// The time of the data.
    pub data_as_of: Option<Timestamp>,
    /// The days.
    pub range: DateRange,
    /// The person.
    pub person: Group,
    /// Their unit.
    pub unit: Group,
    /// The currency penalties are stated in.
    pub currency: Currency,
    /// Their check-ins on the days (their own local days), newest first.
    pub visits: Vec<RepVisit>,
    /// Whether older check-ins were left out ([`PERSON_ROWS_LIMIT`]).
    pub visits_truncated: bool,
    /// Their daily reports for the days, newest first.
    pub reports: Vec<RepReport>,
    /// Their deals: every open one, and those won or lost on the days (in the viewer's
    /// zone), the largest first.
    pub deals: Vec<RepDeal>,
}

/// One check-in of a person, with the server's verdict on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepVisit {
    /// The visit.
    pub visit_id: RecordId,
    /// The customer.
    pub customer_id: RecordId,
    /// The customer's name (short name when it has one).
    pub customer_name: String,
    /// When the rep checked in.
    pub at: Timestamp,
    /// The rep's local day.
    pub date: LocalDate,
    /// Where the phone said it was.
    pub lat: f64,
    /// Where the phone said it was.
    pub lon: f64,
    /// The fix's accuracy, in metres.
    pub accuracy_m: f64,
    /// How far from the customer's registered location, in metres; `None` when the customer
    /// has none.
    pub distance_m: Option<f64>,
    /// The phone reported a mock location.
    pub mock: bool,
    /// The fence verdict; `None` before judgement.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub fence: Option<FenceStatus>,
    /// The flags' codes (suspicions and cautions).
    pub flags: Vec<String>,
    /// When the rep checked out.
    pub checked_out_at: Option<Timestamp>,
    /// How long the visit lasted, in seconds.
    pub duration_s: Option<u64>,
    /// Photos taken.
    pub photos: u64,
}

/// One daily report of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepReport {
    /// The report.
    pub report_id: RecordId,
    /// The day it reports on.
    pub date: LocalDate,
    /// `draft`, `submitted` or `missing`.
    pub state: String,
    /// The verdict: `on_time`, `late`, `missing`, `false`, `awaiting_receipt`; `None`
    /// before judgement.
    pub compliance: Option<String>,
    /// When the rep submitted it (by their phone).
    pub submitted_at: Option<Timestamp>,
    /// When the server received it.
    pub received_at: Option<Timestamp>,
    /// A manager found it false.
    pub marked_false: bool,
    /// The penalty of the verdict.
    pub penalty: Option<Money>,
}

/// One deal of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepDeal {
    /// The opportunity.
    pub opportunity_id: RecordId,
    /// Its name.
    pub name: String,
    /// The customer's name.
    pub customer_name: String,
    /// The stage key.
    pub stage: String,
    /// The amount, in the deal's own currency.
    pub amount: Money,
    /// The expected close day.
    pub expected_close: Option<String>,
    /// `won` or `lost` once closed.
    pub outcome: Option<String>,
    /// When it closed.
    pub outcome_at: Option<Timestamp>,
    /// When a manager marked its progress false.
    pub false_progress_at: Option<Timestamp>,
}

/// `person`'s own visits, reports and deals over `range`, if the viewer sees them; an
/// unknown person or one outside the scope has an empty answer.
pub fn person_records(ctx: &Context<'_>, person: RecordId, range: DateRange) -> Result<RepRecords> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let currency = ctx.process.fieldwork.daily_report.currency;
    let Some(member) = scope.members.get(&person) else {
        return Ok(RepRecords {
            data_as_of: ctx.data_as_of,
            range,
            person: Group {
                name: String::new(),
                id: person,
            },
            unit: Group {
                name: String::new(),
                id: person,
            },
            currency,
            visits: Vec::new(),
            visits_truncated: false,
            reports: Vec::new(),
            deals: Vec::new(),
        });
    };
    let (visits, visits_truncated) = visits_of(ctx, person, range)?;
    Ok(RepRecords {
        data_as_of: ctx.data_as_of,
        range,
        person: Group {
            name: member.name.clone(),
            id: person,
        },
        unit: scope.unit_group(member.unit),
        currency,
        visits,
        visits_truncated,
        reports: reports_of(ctx, person, range, currency)?,
        deals: deals_of(ctx, person, range)?,
    })
}

fn visits_of(
    ctx: &Context<'_>,
    person: RecordId,
    range: DateRange,
) -> Result<(Vec<RepVisit>, bool)> {
    let mut stmt = ctx.conn.prepare_cached(
        "SELECT v.id, v.customer_id, COALESCE(NULLIF(c.short_name, ''), c.legal_name, ''),
                v.check_in_at, v.local_date, v.lat, v.lon, v.accuracy_m, v.is_mock, v.fence,
                v.flags, v.check_out_at, v.duration_s, v.photo_count, c.lat, c.lon
         FROM visits v LEFT JOIN customers c ON c.id = v.customer_id
         WHERE v.owner_id = ?1 AND v.local_date BETWEEN ?2 AND ?3 AND v.deleted = 0
         ORDER BY v.check_in_at DESC, v.id DESC
         LIMIT ?4",
    )?;
    let fetch = i64::try_from(PERSON_ROWS_LIMIT).unwrap_or(i64::MAX) + 1;
    let rows = stmt.query_map(params![person, range.from, range.to, fetch], |r| {
        let at_customer = match (r.get::<_, Option<f64>>(14)?, r.get::<_, Option<f64>>(15)?) {
            (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
            _ => None,
        };
        let lat: f64 = r.get(5)?;
        let lon: f64 = r.get(6)?;
        Ok(RepVisit {
            visit_id: r.get(0)?,
            customer_id: r.get(1)?,
            customer_name: r.get(2)?,
            at: r.get(3)?,
            date: r.get(4)?,
            lat,
            lon,
            accuracy_m: r.get(7)?,
            distance_m: at_customer.map(|c| distance_m(c, GeoPoint { lat, lon })),
            mock: r.get(8)?,
            fence: r
                .get::<_, Option<String>>(9)?
                .as_deref()
                .map(FenceStatus::from_code),
            flags: r
                .get::<_, Option<String>>(10)?
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            checked_out_at: r.get(11)?,
            duration_s: r
                .get::<_, Option<i64>>(12)?
                .and_then(|d| u64::try_from(d).ok()),
            photos: u64::try_from(r.get::<_, i64>(13)?).unwrap_or(0),
        })
    })?;
    let mut visits = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let truncated = visits.len() > PERSON_ROWS_LIMIT;
    visits.truncate(PERSON_ROWS_LIMIT);
    Ok((visits, truncated))
}

fn reports_of(
    ctx: &Context<'_>,
    person: RecordId,
    range: DateRange,
    currency: Currency,
) -> Result<Vec<RepReport>> {
    let mut stmt = ctx.conn.prepare_cached(
        "SELECT id, date, state, compliance, submitted_at, received_at, marked_false,
                penalty_minor
         FROM daily_reports
         WHERE owner_id = ?1 AND date BETWEEN ?2 AND ?3 AND deleted = 0
         ORDER BY date DESC, id DESC
         LIMIT ?4",
    )?;
    let limit = i64::try_from(PERSON_ROWS_LIMIT).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![person, range.from, range.to, limit], |r| {
        Ok(RepReport {
            report_id: r.get(0)?,
            date: r.get(1)?,
            state: r.get(2)?,
            compliance: r.get(3)?,
            submitted_at: r.get(4)?,
            received_at: r.get(5)?,
            marked_false: r.get(6)?,
            penalty: r
                .get::<_, Option<i64>>(7)?
                .map(|minor| Money::new(minor, currency)),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn deals_of(ctx: &Context<'_>, person: RecordId, range: DateRange) -> Result<Vec<RepDeal>> {
    let (start, end) = range.instants(&ctx.viewer.me.zone);
    let mut stmt = ctx.conn.prepare_cached(
        "SELECT o.id, o.name, COALESCE(NULLIF(c.short_name, ''), c.legal_name, ''), o.stage,
                o.amount_minor, o.currency, o.expected_close, o.outcome, o.outcome_at,
                o.false_progress_at
         FROM opportunities o LEFT JOIN customers c ON c.id = o.customer_id
         WHERE o.owner_id = ?1 AND o.deleted = 0
           AND (o.outcome IS NULL OR (o.outcome_at >= ?2 AND o.outcome_at < ?3))
         ORDER BY o.amount_minor DESC, o.id
         LIMIT ?4",
    )?;
    let limit = i64::try_from(PERSON_ROWS_LIMIT).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![person, start, end, limit], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<Timestamp>>(8)?,
            r.get::<_, Option<Timestamp>>(9)?,
        ))
    })?;
    let mut deals = Vec::new();
    for row in rows {
        let (id, name, customer_name, stage, minor, currency, close, outcome, at, false_at) = row?;
        deals.push(RepDeal {
            opportunity_id: id,
            name,
            customer_name,
            stage,
            amount: Money::new(minor, currency.parse().unwrap_or_default()),
            expected_close: close,
            outcome: outcome.filter(|o| !o.is_empty()),
            outcome_at: at,
            false_progress_at: false_at,
        });
    }
    Ok(deals)
}
