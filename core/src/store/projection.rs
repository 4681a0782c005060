//! Projections: the typed rows derived from each document, written in the same transaction.
//!
//! [`write`] replaces everything derived from one record; [`remove`] drops it (used when a
//! record leaves the user's scope). Neither reads other records, so the projection of a
//! record depends only on its document, and [`super::Store::rebuild_projections`] can rebuild
//! every table from the documents alone.

use rusqlite::{Connection, OptionalExtension, params};

use crate::RecordId;
use crate::dedup::{fold_width_and_case, name_grams, normalize_company_name};
use crate::record::{AnyRecord, Kind};

/// The kind tables keyed by `id`.
const KIND_TABLES: &[(Kind, &str)] = &[
    (Kind::OrgUnit, "org_units"),
    (Kind::UserProfile, "users"),
    (Kind::Role, "roles"),
    (Kind::Customer, "customers"),
    (Kind::Contact, "contacts"),
    (Kind::FollowUp, "follow_ups"),
    (Kind::Lead, "leads"),
    (Kind::Opportunity, "opportunities"),
    (Kind::Visit, "visits"),
    (Kind::DailyReport, "daily_reports"),
    (Kind::Task, "tasks"),
    (Kind::Approval, "approvals"),
    (Kind::Product, "products"),
    (Kind::Order, "orders"),
    (Kind::Target, "targets"),
    (Kind::Private, "companions"),
];

/// Child tables keyed by another column.
const CHILD_TABLES: &[(Kind, &str, &str)] = &[
    (Kind::Customer, "customer_names", "customer_id"),
    (Kind::Opportunity, "stage_history", "opportunity_id"),
    (Kind::Visit, "visit_photos", "visit_id"),
    (Kind::VisitPlan, "visit_plan_items", "plan_id"),
    (Kind::Order, "payments", "order_id"),
];

/// The fields a role hides, space-separated, as the `roles` projection keeps them.
pub(crate) fn hidden_codes(role: &crate::record::Role) -> String {
    role.hidden_fields
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

/// Drops every row derived from record `id` of `kind`.
pub fn remove(conn: &Connection, id: RecordId, kind: &str) -> rusqlite::Result<()> {
    if let Some(rid) = conn
        .prepare_cached("SELECT rid FROM records WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
    {
        conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?
            .execute([rid])?;
        conn.prepare_cached("DELETE FROM customer_grams WHERE rowid = ?1")?
            .execute([rid])?;
    }
    conn.prepare_cached("DELETE FROM records WHERE id = ?1")?
        .execute([id])?;
    match kind.parse::<Kind>() {
        Ok(kind) => remove_derived(conn, id, kind),
        Err(_) => {
            conn.prepare_cached("DELETE FROM record_shares WHERE record_id = ?1")?
                .execute([id])?;
            Ok(())
        }
    }
}

/// Replaces every row derived from `record`.
///
/// A record already here keeps its row id, and its entries in the two full-text indexes stay
/// as they are when the text they index did not change: every entry deleted from a
/// contentless FTS5 index first flushes the index's pending entries into a new segment, so an
/// edit that touches no name (most edits) would otherwise cost two index writes and their
/// merging.
pub fn write(conn: &Connection, record: &AnyRecord) -> rusqlite::Result<()> {
    let id = record.header().id;
    let kind = record.kind();
    let old: Option<(i64, String, Option<String>, bool)> = conn
        .prepare_cached("SELECT rid, kind, search_text, deleted FROM records WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((rid, old_kind, old_text, old_deleted)) = old else {
        return put(conn, record, None);
    };
    if old_kind != kind.as_str() {
        remove(conn, id, &old_kind)?;
        return put(conn, record, None);
    }
    let held = Held {
        rid,
        search: old_text.filter(|_| !old_deleted),
        grams: match record {
            AnyRecord::Customer(_) => Some(stored_grams(conn, id)?),
            _ => None,
        },
    };
    remove_derived(conn, id, kind)?;
    put(conn, record, Some(held))
}

/// Writes the rows of a record that has none yet.
pub fn insert(conn: &Connection, record: &AnyRecord) -> rusqlite::Result<()> {
    put(conn, record, None)
}

/// What a record already here has in the `records` row and the full-text indexes.
struct Held {
    rid: i64,
    /// The text in `search` (none for a deleted record).
    search: Option<String>,
    /// The text in `customer_grams` (customers only).
    grams: Option<String>,
}

/// Writes the rows of `record`: its `records` row (in place when `held`), its full-text
/// entries where they differ from what is held, who it is shared with, its kind's rows.
fn put(conn: &Connection, record: &AnyRecord, held: Option<Held>) -> rusqlite::Result<()> {
    let header = record.header();
    let deleted = header.is_deleted();
    let index = record.index();
    let search_text = index.search_text.as_deref().map(fold_width_and_case);
    // One parameter list for both: a new row gets its row id from SQLite (`?1` is NULL);
    // an update keeps the row, its id and its kind (`?2`, `?3` unused).
    let sql = match held {
        None => {
            "INSERT INTO records (rid, id, kind, owner_id, org_unit_id, customer_id, status,
                 occurred_at, local_date, title, search_text, created_at, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        }
        Some(_) => {
            "UPDATE records SET owner_id = ?4, org_unit_id = ?5, customer_id = ?6, status = ?7,
                 occurred_at = ?8, local_date = ?9, title = ?10, search_text = ?11,
                 created_at = ?12, deleted = ?13
             WHERE rid = ?1"
        }
    };
    conn.prepare_cached(sql)?.execute(params![
        held.as_ref().map(|h| h.rid),
        header.id,
        record.kind().as_str(),
        header.owner_id,
        header.org_unit_id,
        index.customer_id,
        index.status,
        index.occurred_at,
        index.local_date,
        index.title,
        search_text,
        header.created_at,
        b(deleted),
    ])?;
    let rid = held
        .as_ref()
        .map_or_else(|| conn.last_insert_rowid(), |h| h.rid);

    let was = held.as_ref().and_then(|h| h.search.as_ref());
    let now = search_text.filter(|_| !deleted);
    if was != now.as_ref() {
        if was.is_some() {
            conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?
                .execute([rid])?;
        }
        if let Some(text) = &now {
            conn.prepare_cached("INSERT INTO search (rowid, text) VALUES (?1, ?2)")?
                .execute(params![rid, text])?;
        }
    }
    insert_shares(conn, record)?;
    write_kind(conn, record, deleted)?;
    if let AnyRecord::Customer(c) = record {
        let grams = grams_of(customer_norms(c).iter().map(|(_, norm)| norm.as_str()));
        let was = held.as_ref().and_then(|h| h.grams.as_ref());
        if was != Some(&grams) {
            if was.is_some() {
                conn.prepare_cached("DELETE FROM customer_grams WHERE rowid = ?1")?
                    .execute([rid])?;
            }
            conn.prepare_cached("INSERT INTO customer_grams (rowid, grams) VALUES (?1, ?2)")?
                .execute(params![rid, grams])?;
        }
    }
    Ok(())
}

/// Drops the rows derived from record `id` other than its `records` row and its full-text
/// entries: who it is shared with, its kind's row and child rows.
fn remove_derived(conn: &Connection, id: RecordId, kind: Kind) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM record_shares WHERE record_id = ?1")?
        .execute([id])?;
    for (k, table) in KIND_TABLES {
        if *k == kind {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?
                .execute([id])?;
        }
    }
    for (k, table, column) in CHILD_TABLES {
        if *k == kind {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE {column} = ?1"))?
                .execute([id])?;
        }
    }
    Ok(())
}

/// A customer's normalised names, by source (the duplicate check's `customer_names`).
fn customer_norms(c: &crate::record::Customer) -> Vec<(&'static str, String)> {
    [
        ("legal", Some(c.legal_name.as_str())),
        ("short", c.short_name.as_deref()),
        ("english", c.english_name.as_deref()),
    ]
    .into_iter()
    .filter_map(|(source, name)| {
        let norm = normalize_company_name(name?);
        (!norm.is_empty()).then_some((source, norm))
    })
    .collect()
}

/// What `customer_grams` indexes for a customer with these normalised names.
fn grams_of<'a>(norms: impl Iterator<Item = &'a str>) -> String {
    let mut grams: Vec<String> = norms.flat_map(name_grams).collect();
    grams.sort();
    grams.dedup();
    grams.join(" ")
}

/// What `customer_grams` holds for customer `id`, from its stored normalised names.
fn stored_grams(conn: &Connection, id: RecordId) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare_cached("SELECT norm FROM customer_names WHERE customer_id = ?1")?;
    let norms = stmt
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(grams_of(norms.iter().map(String::as_str)))
}

fn insert_shares(conn: &Connection, record: &AnyRecord) -> rusqlite::Result<()> {
    let header = record.header();
    let mut share = conn.prepare_cached(
        "INSERT OR IGNORE INTO record_shares (record_id, user_id) VALUES (?1, ?2)",
    )?;
    for user in header.shared_with.iter() {
        share.execute(params![header.id, user])?;
    }
    Ok(())
}

fn write_kind(conn: &Connection, record: &AnyRecord, deleted: bool) -> rusqlite::Result<()> {
    let d = b(deleted);
    match record {
        AnyRecord::OrgUnit(u) => {
            conn.prepare_cached(
                "INSERT INTO org_units (id, name, level, parent_id, manager_id, zone, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                u.header.id,
                u.name,
                u.level.as_str(),
                u.parent_id,
                u.manager_id,
                u.zone.as_ref().map(|z| z.name()),
                d
            ])?;
        }
        AnyRecord::UserProfile(u) => {
            let roles: Vec<&str> = u.roles.iter().map(String::as_str).collect();
            let leave: Vec<String> = u.leave.iter().map(ToString::to_string).collect();
            conn.prepare_cached(
                "INSERT INTO users (id, name, employee_no, unit_id, roles, zone, active, deleted,
                     started_on, left_on, leave)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                u.header.id,
                u.name,
                u.employee_no,
                u.unit_id,
                roles.join(" "),
                u.zone.name(),
                b(u.active),
                d,
                u.started_on,
                u.left_on,
                leave.join(" ")
            ])?;
        }
        AnyRecord::Role(r) => {
            conn.prepare_cached(
                "INSERT INTO roles (id, code, name, data_scope, hidden_fields, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                r.header.id,
                r.code,
                r.name,
                r.data_scope.as_str(),
                hidden_codes(r),
                d
            ])?;
        }
        AnyRecord::Customer(c) => {
            conn.prepare_cached(
                "INSERT INTO customers (id, owner_id, legal_name, short_name, english_name,
                     industry, tier, lat, lon, pending_location, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                c.header.id,
                c.header.owner_id,
                c.legal_name,
                c.short_name,
                c.english_name,
                c.industry,
                c.tier,
                c.location.map(|p| p.lat),
                c.location.map(|p| p.lon),
                b(c.location_proposal.as_ref().is_some_and(|p| {
                    p.status == crate::record::customer::ProposalStatus::Pending
                })),
                d
            ])?;
            // The duplicate check keeps deleted (voided) customers too. (Their bigrams go to
            // `customer_grams` in `insert` and `write`, which know whether they changed.)
            let mut names = conn.prepare_cached(
                "INSERT OR REPLACE INTO customer_names (customer_id, norm, source) VALUES (?1, ?2, ?3)",
            )?;
            for (source, norm) in customer_norms(c) {
                names.execute(params![c.header.id, norm, source])?;
            }
        }
        AnyRecord::Contact(c) => {
            conn.prepare_cached(
                "INSERT INTO contacts (id, customer_id, owner_id, name, title, phone, email,
                     decision_role, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                c.header.id,
                c.customer_id,
                c.header.owner_id,
                c.name,
                c.title,
                c.phone,
                c.email,
                c.decision_role.as_str(),
                d
            ])?;
        }
        AnyRecord::FollowUp(f) => {
            conn.prepare_cached(
                "INSERT INTO follow_ups (id, owner_id, customer_id, subject_kind, subject_id,
                     method, occurred_at, visit_id, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                f.header.id,
                f.header.owner_id,
                record.index().customer_id,
                f.subject.kind.as_str(),
                f.subject.id,
                f.method.as_str(),
                f.occurred_at,
                f.visit_id,
                d
            ])?;
        }
        AnyRecord::Lead(l) => {
            let reclaimed = l
                .events
                .iter()
                .rfind(|e| e.kind == crate::record::lead::LeadEventKind::Reclaimed);
            conn.prepare_cached(
                "INSERT INTO leads (id, owner_id, org_unit_id, company_name, status, source,
                     assigned_at, last_follow_up_at, deleted, reclaimed_from, reclaimed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                l.header.id,
                l.header.owner_id,
                l.header.org_unit_id,
                l.company_name,
                l.status.as_str(),
                l.source,
                l.assigned_at,
                l.last_follow_up_at,
                d,
                reclaimed.and_then(|e| e.rep_id),
                reclaimed.map(|e| e.at),
            ])?;
        }
        AnyRecord::Opportunity(o) => {
            conn.prepare_cached(
                "INSERT INTO opportunities (id, owner_id, customer_id, name, amount_minor, currency,
                     stage, stage_entered_at, expected_close, outcome, outcome_at, created_at, deleted,
                     false_progress_at, false_progress_penalty_minor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                o.header.id,
                o.header.owner_id,
                o.customer_id,
                o.name,
                o.amount.minor,
                o.amount.currency.code(),
                o.stage,
                o.stage_entered_at(),
                o.expected_close,
                o.outcome.as_ref().map(|x| x.kind.as_str()),
                o.outcome.as_ref().map(|x| x.at),
                o.header.created_at,
                d,
                o.marked_false.as_ref().map(|m| m.at),
                o.marked_false.as_ref().map(|m| m.penalty.minor)
            ])?;
            let mut history = conn.prepare_cached(
                "INSERT INTO stage_history (opportunity_id, seq, stage, entered_at, left_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (seq, (stage, entered_at, left_at)) in o.stays().into_iter().enumerate() {
                history.execute(params![o.header.id, seq as i64, stage, entered_at, left_at])?;
            }
        }
        AnyRecord::Visit(v) => {
            let p = &v.check_in.position;
            conn.prepare_cached(
                "INSERT INTO visits (id, owner_id, customer_id, plan_id, check_in_at, local_date,
                     zone, lat, lon, accuracy_m, is_mock, check_out_at, duration_s, photo_count,
                     deleted, fence, flags, judged_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )?
            .execute(params![
                v.header.id,
                v.header.owner_id,
                v.customer_id,
                v.plan_id,
                v.check_in.at,
                v.check_in.at.local_date(&v.check_in.zone),
                v.check_in.zone.name(),
                p.point.lat,
                p.point.lon,
                p.accuracy_m,
                b(p.mock),
                v.check_out.as_ref().map(|c| c.at),
                v.duration_secs(),
                v.photos.len() as i64,
                d,
                v.verdict.as_ref().map(|j| j.fence.as_str().to_string()),
                v.verdict.as_ref().map(|j| j
                    .flags
                    .iter()
                    .map(|f| f.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")),
                v.verdict.as_ref().map(|j| j.judged_by.as_str().to_string()),
            ])?;
            let mut photos = conn.prepare_cached(
                "INSERT OR IGNORE INTO visit_photos (sha256, visit_id) VALUES (?1, ?2)",
            )?;
            for photo in &v.photos {
                photos.execute(params![photo.sha256, v.header.id])?;
            }
        }
        AnyRecord::VisitPlan(plan) => {
            let mut items = conn.prepare_cached(
                "INSERT OR REPLACE INTO visit_plan_items (plan_id, owner_id, date, customer_id, planned_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            if !deleted {
                for item in &plan.items {
                    items.execute(params![
                        plan.header.id,
                        plan.header.owner_id,
                        plan.date,
                        item.customer_id,
                        item.planned_at
                    ])?;
                }
            }
        }
        AnyRecord::DailyReport(r) => {
            conn.prepare_cached(
                "INSERT INTO daily_reports (id, owner_id, date, zone, state, submitted_at,
                     clock_offset_ms, received_at, marked_false, comment_count, deleted,
                     compliance, penalty_minor, judged_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                r.header.id,
                r.header.owner_id,
                r.date,
                r.zone.name(),
                r.state.as_str(),
                r.submitted_at,
                r.submitted_clock_offset_ms,
                r.received_at,
                b(r.marked_false.is_some()),
                r.comments.len() as i64,
                d,
                r.verdict.as_ref().map(|j| j.state.as_str().to_string()),
                r.verdict.as_ref().map(|j| j.penalty.minor),
                r.verdict.as_ref().map(|j| j.judged_by.as_str().to_string()),
            ])?;
        }
        AnyRecord::Task(t) => {
            conn.prepare_cached(
                "INSERT INTO tasks (id, owner_id, assigner_id, kind, title, status, due_at,
                     start_at, end_at, reminder_at, completed_at, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                t.header.id,
                t.header.owner_id,
                t.assigner_id,
                t.kind.as_str(),
                t.title,
                t.status.as_str(),
                t.due_at,
                t.start_at,
                t.end_at,
                t.reminder_at,
                t.completed_at,
                d
            ])?;
        }
        AnyRecord::Approval(a) => {
            use crate::process::approval::ApprovalStatus as Standing;
            let (waiting, roles) = match a.standing() {
                Standing::Pending { step, waiting_for }
                    if a.status == crate::record::approval::ApprovalStatus::Pending =>
                {
                    (Some(step), Some(waiting_for.join(" ")))
                }
                _ => (None, None),
            };
            conn.prepare_cached(
                "INSERT INTO approvals (id, owner_id, subject_kind, subject_id, rule, status,
                     amount_minor, step_index, step_roles, created_at, decided_at, deleted,
                     currency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                a.header.id,
                a.header.owner_id,
                a.subject.kind.as_str(),
                a.subject.id,
                a.rule,
                a.status.as_str(),
                a.amount.map(|m| m.minor),
                waiting.map(|i| i as i64),
                roles,
                a.header.created_at,
                a.decided_at,
                d,
                a.amount.map(|m| m.currency.code().to_string()),
            ])?;
        }
        AnyRecord::Product(p) => {
            conn.prepare_cached(
                "INSERT INTO products (id, code, name, list_price_minor, currency, category,
                     product_line, active, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                p.header.id,
                p.code,
                p.name,
                p.list_price.minor,
                p.list_price.currency.code(),
                p.category,
                p.product_line,
                b(p.active),
                d
            ])?;
        }
        AnyRecord::Order(o) => {
            conn.prepare_cached(
                "INSERT INTO orders (id, owner_id, customer_id, opportunity_id, number, total_minor,
                     currency, status, confirmed_at, new_customer, collected_minor, delivery, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                o.header.id,
                o.header.owner_id,
                o.customer_id,
                o.opportunity_id,
                o.number,
                o.total.minor,
                o.total.currency.code(),
                o.status.as_str(),
                o.confirmed_at,
                b(o.new_customer),
                o.collected().minor,
                o.delivery.as_str(),
                d
            ])?;
            let mut payments = conn.prepare_cached(
                "INSERT OR REPLACE INTO payments (order_id, payment_id, amount_minor, received_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for p in &o.payments {
                payments.execute(params![o.header.id, p.id, p.amount.minor, p.received_at])?;
            }
        }
        AnyRecord::Target(t) => {
            conn.prepare_cached(
                "INSERT INTO targets (id, subject, subject_id, period, period_start, period_end,
                     metric, amount_minor, currency, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                t.header.id,
                t.subject.as_str(),
                t.subject_id,
                t.period.as_str(),
                t.period_start,
                t.period_end(),
                t.metric.as_str(),
                t.amount.minor,
                t.amount.currency.code(),
                d
            ])?;
        }
        AnyRecord::Private(p) => {
            conn.prepare_cached(
                "INSERT INTO companions (id, record_id, record_kind) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![p.header.id, p.of.id, p.of.kind.as_str()])?;
        }
        AnyRecord::ProcessConfig(_) => {}
    }
    Ok(())
}
