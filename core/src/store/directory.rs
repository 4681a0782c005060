//! Typed queries over the projections that name people and link records: who works here, a
//! customer by its names, a customer's contacts, the records about a subject. Each returns
//! plain rows or ids, so a caller hydrates only the records it then needs.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use crate::fieldwork::{DaySpan, Employment};
use crate::{Error, LocalDate, RecordId, Result, Timestamp, Zone};

/// A person as the `users` projection holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The profile record.
    pub id: RecordId,
    /// Full name.
    pub name: String,
    /// Employee number.
    pub employee_no: String,
    /// Their unit.
    pub unit_id: RecordId,
    /// Role codes.
    pub roles: Vec<String>,
    /// Their time zone.
    pub zone: Zone,
    /// Whether the account is active.
    pub active: bool,
    /// When their profile was created (their first day of work as far as the records know).
    pub since: Timestamp,
    /// Their first working day, when set on the profile.
    pub started_on: Option<LocalDate>,
    /// Their last working day, once they left.
    pub left_on: Option<LocalDate>,
    /// Their approved leave.
    pub leave: Vec<DaySpan>,
}

impl PersonRow {
    /// Their own working days, for the work calendar: from their start date (or the day their
    /// profile was created, in their zone) to the day they left, less their leave.
    pub fn employment(&self) -> Employment<'_> {
        Employment {
            started_on: self
                .started_on
                .unwrap_or_else(|| self.since.local_date(&self.zone)),
            left_on: self.left_on,
            leave: &self.leave,
        }
    }

    /// Whether they hold a role.
    pub fn has_role(&self, code: &str) -> bool {
        self.roles.iter().any(|r| r == code)
    }
}

const PERSON_COLUMNS: &str = "u.id, u.name, u.employee_no, u.unit_id, u.roles, u.zone, u.active,
     r.created_at, u.started_on, u.left_on, u.leave";
const PEOPLE: &str = "users u JOIN records r ON r.id = u.id";

fn person_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(PersonRow, String)> {
    let roles: String = r.get(4)?;
    Ok((
        PersonRow {
            id: r.get(0)?,
            name: r.get(1)?,
            employee_no: r.get(2)?,
            unit_id: r.get(3)?,
            roles: roles.split_whitespace().map(str::to_owned).collect(),
            zone: Zone::SHANGHAI,
            active: r.get(6)?,
            since: r.get(7)?,
            started_on: r.get(8)?,
            left_on: r.get(9)?,
            leave: r
                .get::<_, String>(10)?
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
        },
        r.get(5)?,
    ))
}

fn with_zone((mut row, zone): (PersonRow, String)) -> Result<PersonRow> {
    row.zone = zone.parse().map_err(|_| {
        Error::Internal(format!(
            "the profile {} is stored with an unknown zone",
            row.id
        ))
    })?;
    Ok(row)
}

/// Every live person, by id.
pub(crate) fn people(conn: &Connection) -> Result<Vec<PersonRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PERSON_COLUMNS} FROM {PEOPLE} WHERE u.deleted = 0 ORDER BY u.id"
    ))?;
    let rows = stmt.query_map([], person_row)?;
    rows.map(|r| with_zone(r?)).collect()
}

/// One live person.
pub(crate) fn person(conn: &Connection, id: RecordId) -> Result<Option<PersonRow>> {
    conn.prepare_cached(&format!(
        "SELECT {PERSON_COLUMNS} FROM {PEOPLE} WHERE u.id = ?1 AND u.deleted = 0"
    ))?
    .query_row([id], person_row)
    .optional()?
    .map(with_zone)
    .transpose()
}

/// The live people of one unit, by id.
pub(crate) fn people_of_unit(conn: &Connection, unit: RecordId) -> Result<Vec<PersonRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PERSON_COLUMNS} FROM {PEOPLE} WHERE u.unit_id = ?1 AND u.deleted = 0 ORDER BY u.id"
    ))?;
    let rows = stmt.query_map([unit], person_row)?;
    rows.map(|r| with_zone(r?)).collect()
}

/// A customer's owner by the customer's id: `None` when there is no such live customer,
/// `Some(None)` for an unowned one.
pub(crate) fn customer_owner(conn: &Connection, id: RecordId) -> Result<Option<Option<RecordId>>> {
    Ok(conn
        .prepare_cached("SELECT owner_id FROM customers WHERE id = ?1 AND deleted = 0")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// The live customers one of whose names normalises to `norm` (see
/// [`crate::dedup::normalize_company_name`]), with their owners, by id.
pub(crate) fn customers_named(
    conn: &Connection,
    norm: &str,
) -> Result<Vec<(RecordId, Option<RecordId>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT c.id, c.owner_id FROM customer_names n
         JOIN customers c ON c.id = n.customer_id
         WHERE n.norm = ?1 AND c.deleted = 0 ORDER BY c.id",
    )?;
    let rows = stmt.query_map([norm], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every customer's legal name (deleted ones included), by id.
pub(crate) fn customer_legal_names(conn: &Connection) -> Result<HashMap<RecordId, String>> {
    let mut stmt = conn.prepare_cached("SELECT id, legal_name FROM customers")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live contacts of `customer` with exactly this name, by id.
pub(crate) fn contacts_named(
    conn: &Connection,
    customer: RecordId,
    name: &str,
) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM contacts WHERE customer_id = ?1 AND name = ?2 AND deleted = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map(rusqlite::params![customer, name], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live approvals about `subject` (an order, an opportunity), by id.
pub(crate) fn approvals_of(conn: &Connection, subject: RecordId) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM approvals WHERE subject_id = ?1 AND deleted = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([subject], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live approvals in this status (`pending`, …), by id.
pub(crate) fn approvals_in(conn: &Connection, status: &str) -> Result<Vec<RecordId>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM approvals WHERE status = ?1 AND deleted = 0 ORDER BY id")?;
    let rows = stmt.query_map([status], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live opportunities still open (neither won nor lost), by id.
pub(crate) fn open_opportunities(conn: &Connection) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM opportunities WHERE outcome IS NULL AND deleted = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// See [`super::StoreRead::stages_run_out`].
pub(crate) fn stages_run_out(
    conn: &Connection,
    limits: &HashMap<String, i64>,
    now: Timestamp,
) -> Result<Vec<RecordId>> {
    let Some(shortest) = limits.values().min() else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, stage, stage_entered_at FROM opportunities
         WHERE outcome IS NULL AND deleted = 0 AND stage_entered_at <= ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([now.millis().saturating_sub(*shortest)], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, stage, entered) = row?;
        if limits
            .get(&stage)
            .is_some_and(|limit| entered.saturating_add(*limit) <= now.millis())
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// The live orders in this status (`confirmed`, …), by id.
pub(crate) fn orders_in(conn: &Connection, status: &str) -> Result<Vec<RecordId>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM orders WHERE status = ?1 AND deleted = 0 ORDER BY id")?;
    let rows = stmt.query_map([status], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live targets set for `subject` (a rep, a team, a region), by id.
pub(crate) fn targets_of(conn: &Connection, subject: RecordId) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM targets WHERE subject_id = ?1 AND deleted = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([subject], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live leads a rep holds, by id.
pub(crate) fn held_leads(conn: &Connection) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM leads WHERE owner_id IS NOT NULL AND deleted = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The latest check-in of `rep`'s live visits.
pub(crate) fn latest_check_in(conn: &Connection, rep: RecordId) -> Result<Option<Timestamp>> {
    Ok(conn
        .prepare_cached(
            "SELECT max(check_in_at) FROM visits INDEXED BY visits_owner_time
             WHERE owner_id = ?1 AND deleted = 0",
        )?
        .query_row([rep], |r| r.get(0))?)
}

/// The days `rep` has a live report for that settles the day: submitted, or marked missing
/// already. A draft does not settle a day.
pub(crate) fn settled_report_days(conn: &Connection, rep: RecordId) -> Result<Vec<LocalDate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT date FROM daily_reports
         WHERE owner_id = ?1 AND deleted = 0 AND state <> 'draft' ORDER BY date",
    )?;
    let rows = stmt.query_map([rep], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `rep`'s live missing reports and their days, by day.
pub(crate) fn missing_reports_of(
    conn: &Connection,
    rep: RecordId,
) -> Result<Vec<(RecordId, LocalDate)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date FROM daily_reports
         WHERE owner_id = ?1 AND deleted = 0 AND state = 'missing' ORDER BY date, id",
    )?;
    let rows = stmt.query_map([rep], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Live missing reports of a day the rep has a live submitted report for, by id.
pub(crate) fn superseded_missing_reports(conn: &Connection) -> Result<Vec<RecordId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id FROM daily_reports m
         WHERE m.state = 'missing' AND m.deleted = 0 AND EXISTS (
             SELECT 1 FROM daily_reports s
             WHERE s.owner_id = m.owner_id AND s.date = m.date
               AND s.state = 'submitted' AND s.deleted = 0)
         ORDER BY m.id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
