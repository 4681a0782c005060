//! Manager dashboards, computed in SQL over the projection tables.
//!
//! A manager reads these on a phone in a lift with no signal, and in a browser served by the
//! server. Both must show the same numbers, so every dashboard is a pure function of a
//! read-only SQLite connection holding the projection schema, the viewer, the process
//! configuration and `now`: the phone runs it over its local store, the server over its own
//! copy of the same tables, and the answers compare field for field.
//!
//! # Scope
//!
//! A dashboard counts the records owned by the users the viewer may see: the users whose unit
//! lies in [`OrgTree::visible_units`] of the viewer, plus the viewer. The scope is taken from
//! the users and the org tree, never from which records happen to be in the store, so a
//! server holding every region and a phone holding one give the same answer. Records owned by
//! a user the store does not know are left out (they cannot be placed in a team).
//!
//! # Days
//!
//! A [`DateRange`] is a range of calendar days. Anything that happened on a local day of its
//! own (a check-in, a daily report, a planned visit) counts on the day *the rep lived it*: a
//! check-in at 23:30 in Shanghai counts on that Shanghai day whether the viewer sits in
//! Shanghai, Berlin or UTC, so a rep's visits of a day always match that day's report.
//! Instants with no day of their own (a deal won, a stage entered, a lead reclaimed) are
//! placed by the viewer's zone: the range covers `[from 00:00, to + 1 day 00:00)` there.
//!
//! # Money
//!
//! Amounts are summed in one currency ([`DashboardSettings::currency`]); records in another
//! currency are counted in `excluded_other_currency` instead of being added as if they were
//! the same money.
//!
//! Every result states `data_as_of`: the last successful sync on a phone (`None` when it never
//! synced), the moment of the query on the server.

pub mod attention;
pub mod funnel;
pub mod people;
pub mod reports;
pub mod targets;
pub mod visits;

use std::collections::HashMap;
use std::fmt::Write as _;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::fieldwork::{DaySpan, Employment};
use crate::me::Me;
use crate::process::SalesProcess;
use crate::scope::{OrgTree, Visibility};
use crate::store::StoreRead;
use crate::store::read::sql;
use crate::{Currency, Error, LocalDate, RecordId, Result, Timestamp, Zone};

pub use attention::AttentionList;
pub use funnel::Funnel;
pub use people::{OrgChart, RepRecords};
pub use reports::ReportCompliance;
pub use targets::TargetBoard;
pub use visits::{Granularity, MapPoints, PointCursor, VisitsDashboard};

/// Meta key the sync client writes after every successful sync (JSON of [`Timestamp`]).
pub const META_LAST_SYNC: &str = "sync.last_success_at";

/// The longest range a dashboard accepts, in days: ten years and a little.
pub const MAX_RANGE_DAYS: i64 = 3_700;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Calendar days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRange")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DateRange {
    /// The first day.
    pub from: LocalDate,
    /// The last day (included).
    pub to: LocalDate,
}

#[derive(Deserialize)]
struct RawRange {
    from: LocalDate,
    to: LocalDate,
}

impl TryFrom<RawRange> for DateRange {
    type Error = Error;
    fn try_from(r: RawRange) -> Result<Self> {
        DateRange::new(r.from, r.to)
    }
}

impl DateRange {
    /// A checked range: `to` not before `from`, at most [`MAX_RANGE_DAYS`] long.
    pub fn new(from: LocalDate, to: LocalDate) -> Result<Self> {
        if to < from {
            return Err(Error::InvalidInput {
                field: "range",
                detail: format!("the range ends ({to}) before it starts ({from})"),
            });
        }
        let days = to.days_since(from) + 1;
        if days > MAX_RANGE_DAYS {
            return Err(Error::InvalidInput {
                field: "range",
                detail: format!("{days} days is longer than the {MAX_RANGE_DAYS} allowed"),
            });
        }
        Ok(DateRange { from, to })
    }

    /// One day.
    pub fn day(day: LocalDate) -> Self {
        DateRange { from: day, to: day }
    }

    /// How many days it covers.
    pub fn days(&self) -> i64 {
        self.to.days_since(self.from) + 1
    }

    /// Whether `day` lies in it.
    pub fn contains(&self, day: LocalDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The instants it covers in `zone`: `[from 00:00, the day after to 00:00)`.
    pub fn instants(&self, zone: &Zone) -> (Timestamp, Timestamp) {
        (self.from.start(zone), self.to.succ().start(zone))
    }
}

/// How a dashboard's rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GroupBy {
    /// One row per rep.
    Rep,
    /// One row per team (the rep's own org unit).
    Team,
    /// One row per region (the region above the rep's unit; the unit itself when it lies
    /// in no region, as HQ staff do).
    Region,
}

/// What a dashboard is asked for; this is what the server's API reads from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardRequest {
    /// The days.
    pub range: DateRange,
    /// The rows.
    pub group_by: GroupBy,
}

/// Dashboard settings that are not part of the sales process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DashboardSettings {
    /// The currency amounts are summed in.
    pub currency: Currency,
    /// A held lead shows on the attention list this many days before the pool takes it back.
    pub reclaim_warning_days: u32,
    /// The most check-in points one page of a map may hold
    /// ([`visits::visit_map_points`]).
    pub map_point_limit: u32,
    /// The most items per section of the attention list (oldest problem first).
    pub attention_limit: u32,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            currency: Currency::default(),
            reclaim_warning_days: 3,
            map_point_limit: 5_000,
            attention_limit: 200,
        }
    }
}

/// A part of a viewer's scope a dashboard is narrowed to, for drilling down: a unit and
/// everything below it, or one person. It only ever narrows: a focus outside the viewer's
/// scope leaves nobody in it, never someone the viewer could not see anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Focus {
    /// An org unit and its subtree.
    Unit(RecordId),
    /// One person (a rep, or a manager's own records).
    Person(RecordId),
}

/// Who is looking: the signed-in user and the org tree their scope is read on.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The user.
    pub me: Me,
    /// The tenant's org tree.
    pub tree: OrgTree,
    /// The part of the scope the dashboards are narrowed to; `None` for the whole scope.
    pub focus: Option<Focus>,
}

impl Viewer {
    /// The viewer `me`, with the org tree `store` holds, over their whole scope.
    pub fn of<S: StoreRead>(store: &S, me: Me) -> Result<Viewer> {
        Ok(Viewer {
            me,
            tree: store.org_tree()?,
            focus: None,
        })
    }

    /// The same viewer narrowed to `focus`.
    pub fn focused(self, focus: Option<Focus>) -> Viewer {
        Viewer { focus, ..self }
    }
}

/// The last successful sync recorded in the store's settings, if any.
pub fn last_sync<S: StoreRead>(store: &S) -> Result<Option<Timestamp>> {
    match store.meta(META_LAST_SYNC)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::InvalidInput {
                field: "stored last sync time",
                detail: e.to_string(),
            }),
    }
}

/// Everything a dashboard is computed from besides the request.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The projection tables, read only.
    pub(crate) conn: &'a Connection,
    /// Who is looking.
    pub viewer: &'a Viewer,
    /// The sales process: stage order, probabilities, time limits, report deadline.
    pub process: &'a SalesProcess,
    /// The dashboard settings.
    pub settings: &'a DashboardSettings,
    /// Now, for deadlines and overdue deals.
    pub now: Timestamp,
    /// The time of the data, stated on every result.
    pub data_as_of: Option<Timestamp>,
}

impl<'a> Context<'a> {
    /// The context of a dashboard over `store`.
    pub fn new<S: StoreRead>(
        store: &'a S,
        viewer: &'a Viewer,
        process: &'a SalesProcess,
        settings: &'a DashboardSettings,
        now: Timestamp,
        data_as_of: Option<Timestamp>,
    ) -> Self {
        Context {
            conn: sql(store),
            viewer,
            process,
            settings,
            now,
            data_as_of,
        }
    }
}

/// Which dashboard, for which days and rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardQuery {
    /// The sales funnel.
    Funnel(DashboardRequest),
    /// Visits, with rows per day or week.
    Visits(DashboardRequest, Granularity),
    /// Daily-report compliance.
    Reports(DashboardRequest),
    /// Target attainment.
    Targets(DashboardRequest),
    /// What needs attention; the range selects reclaimed leads.
    Attention(DateRange),
    /// A page of check-in points for the map: days, page size, where the page starts.
    MapPoints(DateRange, u32, Option<PointCursor>),
    /// The units and people of the scope, as a tree.
    OrgChart,
    /// One person's own visits, reports and deals over the days.
    PersonRecords(RecordId, DateRange),
}

/// A computed dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Dashboard {
    /// The sales funnel.
    Funnel(Funnel),
    /// Visits.
    Visits(VisitsDashboard),
    /// Daily-report compliance.
    Reports(ReportCompliance),
    /// Target attainment.
    Targets(TargetBoard),
    /// What needs attention.
    Attention(AttentionList),
    /// A page of check-in points.
    MapPoints(MapPoints),
    /// The units and people of the scope.
    OrgChart(OrgChart),
    /// One person's own records.
    PersonRecords(RepRecords),
}

/// Computes `query` for `me` over `store` at `now`, with the tenant's process and the
/// default settings in its currency; the data is as of `data_as_of`. The server answers the
/// browser with this over its copy; the phone's engine runs the same dashboards.
pub fn compute<S: StoreRead>(
    store: &S,
    me: Me,
    query: &DashboardQuery,
    now: Timestamp,
    data_as_of: Option<Timestamp>,
) -> Result<Dashboard> {
    compute_within(store, me, None, query, now, data_as_of)
}

/// [`compute`] narrowed to `focus`, a part of `me`'s scope (drilling down from a region to
/// a team to a rep).
pub fn compute_within<S: StoreRead>(
    store: &S,
    me: Me,
    focus: Option<Focus>,
    query: &DashboardQuery,
    now: Timestamp,
    data_as_of: Option<Timestamp>,
) -> Result<Dashboard> {
    let viewer = Viewer::of(store, me)?.focused(focus);
    let process = store.sales_process()?;
    let settings = DashboardSettings {
        currency: process.fieldwork.daily_report.currency,
        ..DashboardSettings::default()
    };
    let ctx = Context::new(store, &viewer, &process, &settings, now, data_as_of);
    Ok(match query {
        DashboardQuery::Funnel(req) => Dashboard::Funnel(funnel::funnel(&ctx, req)?),
        DashboardQuery::Visits(req, g) => Dashboard::Visits(visits::visits(&ctx, req, *g)?),
        DashboardQuery::Reports(req) => Dashboard::Reports(reports::reports(&ctx, req)?),
        DashboardQuery::Targets(req) => Dashboard::Targets(targets::targets(&ctx, req)?),
        DashboardQuery::Attention(range) => {
            Dashboard::Attention(attention::attention(&ctx, *range)?)
        }
        DashboardQuery::MapPoints(range, limit, after) => {
            Dashboard::MapPoints(visits::visit_map_points(&ctx, *range, *limit, *after)?)
        }
        DashboardQuery::OrgChart => Dashboard::OrgChart(people::org_chart(&ctx)?),
        DashboardQuery::PersonRecords(person, range) => {
            Dashboard::PersonRecords(people::person_records(&ctx, *person, *range)?)
        }
    })
}

/// A row's group: a rep, a team or a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// What people see.
    pub name: String,
    /// The user or org unit.
    pub id: RecordId,
}

/// A user whose records the viewer sees.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub name: String,
    pub unit: RecordId,
    pub region: Option<RecordId>,
    pub zone: Zone,
    pub roles: Vec<String>,
    /// Active and not deleted: owes daily reports.
    pub working: bool,
    /// The local day the user's profile was created: no report was owed before it.
    pub since: Option<LocalDate>,
    /// Their first working day, when set on the profile (it wins over `since`).
    pub started_on: Option<LocalDate>,
    /// Their last working day, once they left.
    pub left_on: Option<LocalDate>,
    /// Their approved leave.
    pub leave: Vec<DaySpan>,
}

impl Member {
    /// Their own working days for the work calendar, from `fallback` when neither a start
    /// date nor the profile's creation is known.
    pub fn employment(&self, fallback: LocalDate) -> Employment<'_> {
        Employment {
            started_on: self.started_on.or(self.since).unwrap_or(fallback),
            left_on: self.left_on,
            leave: &self.leave,
        }
    }
}

/// The users in a viewer's scope, and the names of the units they belong to.
pub(crate) struct Scope {
    pub members: HashMap<RecordId, Member>,
    /// The units whose figures the viewer sees.
    pub visibility: Visibility,
    units: HashMap<RecordId, String>,
}

impl Scope {
    /// The users `viewer` sees: those of visible units, and the viewer.
    pub fn load(conn: &Connection, viewer: &Viewer) -> Result<Scope> {
        let visible = viewer.tree.visible_units(&viewer.me);
        let mut members = HashMap::new();
        let mut stmt = conn.prepare_cached(
            "SELECT u.id, u.name, u.unit_id, u.roles, u.zone, u.active, u.deleted, r.created_at,
                    u.started_on, u.left_on, u.leave
             FROM users u LEFT JOIN records r ON r.id = u.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, RecordId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, RecordId>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, Option<Timestamp>>(7)?,
                (
                    r.get::<_, Option<LocalDate>>(8)?,
                    r.get::<_, Option<LocalDate>>(9)?,
                    r.get::<_, String>(10)?,
                ),
            ))
        })?;
        for row in rows {
            let (id, name, unit, roles, zone, active, deleted, created, (started, left, leave)) =
                row?;
            if id != viewer.me.user_id && !visible.covers(unit) {
                continue;
            }
            let zone: Zone = zone.parse().unwrap_or_default();
            members.insert(
                id,
                Member {
                    name,
                    unit,
                    region: viewer.tree.region_of(unit),
                    since: created.map(|t| t.local_date(&zone)),
                    zone,
                    roles: roles.split_whitespace().map(str::to_string).collect(),
                    working: active && !deleted,
                    started_on: started,
                    left_on: left,
                    leave: leave
                        .split_whitespace()
                        .filter_map(|s| s.parse().ok())
                        .collect(),
                },
            );
        }
        let mut units = HashMap::new();
        let mut stmt = conn.prepare_cached("SELECT id, name FROM org_units")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, RecordId>(0)?, r.get(1)?)))? {
            let (id, name) = row?;
            units.insert(id, name);
        }
        let visibility = match viewer.focus {
            None => visible,
            Some(focus) => narrow(viewer, &mut members, visible, focus),
        };
        Ok(Scope {
            members,
            visibility,
            units,
        })
    }

    /// The members as a JSON array of hex IDs, for `json_each` in SQL.
    pub fn owners_json(&self) -> String {
        let mut ids: Vec<&RecordId> = self.members.keys().collect();
        ids.sort();
        json_array(ids.into_iter().map(hex_id))
    }

    /// The group `owner`'s records count in, if the owner is in scope.
    pub fn group_of(&self, owner: RecordId, by: GroupBy) -> Option<Group> {
        let m = self.members.get(&owner)?;
        Some(match by {
            GroupBy::Rep => Group {
                name: m.name.clone(),
                id: owner,
            },
            GroupBy::Team => self.unit_group(m.unit),
            GroupBy::Region => self.unit_group(m.region.unwrap_or(m.unit)),
        })
    }

    /// An org unit as a group.
    pub fn unit_group(&self, unit: RecordId) -> Group {
        Group {
            name: self.units.get(&unit).cloned().unwrap_or_default(),
            id: unit,
        }
    }

    /// The rep `owner` as a group, if in scope.
    pub fn rep(&self, owner: RecordId) -> Option<Group> {
        self.group_of(owner, GroupBy::Rep)
    }
}

/// Keeps the members and units within `focus`. A unit the viewer does not see, or a person
/// not among the members, leaves nobody: a focus narrows, it never widens.
fn narrow(
    viewer: &Viewer,
    members: &mut HashMap<RecordId, Member>,
    visible: Visibility,
    focus: Focus,
) -> Visibility {
    match focus {
        Focus::Unit(unit) => {
            if !visible.covers(unit) {
                members.clear();
                return Visibility::Units(Default::default());
            }
            members.retain(|_, m| viewer.tree.is_within(m.unit, unit));
            Visibility::Units(
                viewer
                    .tree
                    .subtree(unit)
                    .into_iter()
                    .filter(|u| visible.covers(*u))
                    .collect(),
            )
        }
        Focus::Person(person) => {
            members.retain(|id, _| *id == person);
            Visibility::Units(Default::default())
        }
    }
}

/// The lower-case hex of an ID, as SQL's `unhex` reads it back.
pub(crate) fn hex_id(id: &RecordId) -> String {
    let mut s = String::with_capacity(32);
    for b in id.as_bytes() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A JSON array of strings that need no escaping (hex, stage keys are escaped by serde).
pub(crate) fn json_array(items: impl Iterator<Item = String>) -> String {
    serde_json::to_string(&items.collect::<Vec<_>>()).unwrap_or_else(|_| "[]".to_string())
}

/// Counts from SQL are never negative.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `part / whole` in basis points, rounded down; `None` when `whole` is zero.
pub(crate) fn share(part: u64, whole: u64) -> Option<crate::BasisPoints> {
    if whole == 0 {
        return None;
    }
    let bp = u128::from(part) * 10_000 / u128::from(whole);
    u32::try_from(bp).ok().map(crate::BasisPoints)
}

/// Sorted, de-duplicated groups, for stable output.
pub(crate) fn sorted<T>(rows: HashMap<Group, T>) -> Vec<(Group, T)> {
    let mut v: Vec<(Group, T)> = rows.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Days as milliseconds.
pub(crate) fn days_ms(days: u32) -> i64 {
    i64::from(days) * DAY_MS
}
