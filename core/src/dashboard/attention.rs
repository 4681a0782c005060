//! What needs a manager's attention now: deals stuck past their stage's time, leads about to
//! go back to the pool or gone back in the range, deals whose progress a manager found false
//! in the range, approvals waiting for the viewer, and the viewer's own edits the server
//! refused.
//!
//! Whether a deal is overdue and whether a lead is due for reclaim are decided by the same
//! rule functions the reminders and the reclaim job run ([`stage_overdue`], [`reclaim_due`]);
//! SQL only narrows the rows down with the same arithmetic first. Each list is cut at the
//! configured limit, oldest problem first; the `*_total` fields count them all.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Context, DateRange, Group, Scope, count, days_ms};
use crate::process::{LeadFacts, StageClock, reclaim_due, stage_overdue};
use crate::{Currency, Money, RecordId, Result, Timestamp};

/// The attention list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttentionList {
    /// The last successful sync the list is built from.
    pub data_as_of: Option<Timestamp>,
    /// The days reclaimed leads are listed for.
    pub range: DateRange,
    /// Open deals past their stage's longest time.
    pub overdue_opportunities: Vec<OverdueOpportunity>,
    /// How many there are.
    pub overdue_opportunities_total: u64,
    /// Held leads the pool takes back within the warning days (or already due).
    pub leads_due_for_reclaim: Vec<LeadAtRisk>,
    /// How many there are.
    pub leads_due_for_reclaim_total: u64,
    /// Leads the pool took back from reps in scope during the range.
    pub reclaimed_leads: Vec<ReclaimedLead>,
    /// How many there are.
    pub reclaimed_leads_total: u64,
    /// Deals whose progress a manager marked false (虚假推进) during the range.
    #[serde(default)]
    pub false_progress: Vec<FalselyProgressed>,
    /// How many there are.
    #[serde(default)]
    pub false_progress_total: u64,
    /// Pending approvals whose current step waits for one of the viewer's roles.
    pub approvals_waiting: Vec<WaitingApproval>,
    /// The viewer's edits the server refused and nobody has resolved (this device only).
    pub rejected_changes: Vec<RejectedChange>,
}

/// A deal stuck in its stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueOpportunity {
    /// The deal.
    pub opportunity_id: RecordId,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner: Group,
    /// Its stage.
    pub stage: String,
    /// When the stage's time ran out.
    pub due_at: Timestamp,
    /// How long ago, milliseconds.
    pub overdue_ms: i64,
    /// Its amount.
    pub amount: Money,
}

/// A deal a manager found falsely progressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FalselyProgressed {
    /// The deal.
    pub opportunity_id: RecordId,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner: Group,
    /// Its stage.
    pub stage: String,
    /// When the manager marked it.
    pub marked_at: Timestamp,
    /// The penalty, in minor units of its currency (the configured one when marked).
    pub penalty_minor: i64,
}

/// A held lead close to reclaim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadAtRisk {
    /// The lead.
    pub lead_id: RecordId,
    /// The company.
    pub company_name: String,
    /// The rep holding it.
    pub owner: Group,
    /// The last follow-up, or the assignment.
    pub idle_since: Timestamp,
    /// When the pool takes it back.
    pub due_at: Timestamp,
    /// Whether that moment has passed (the reclaim job has not run yet).
    pub due_now: bool,
}

/// A lead the pool took back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReclaimedLead {
    /// The lead.
    pub lead_id: RecordId,
    /// The company.
    pub company_name: String,
    /// The rep it was taken from.
    pub from: Group,
    /// When.
    pub at: Timestamp,
    /// Its status now (`pooled`, or `assigned` again to someone).
    pub status: String,
}

/// An approval waiting for the viewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingApproval {
    /// The approval.
    pub approval_id: RecordId,
    /// What it is about.
    pub title: String,
    /// Who asked.
    pub requester: Group,
    /// The kind of record approved (`order`, `customer`...).
    pub subject_kind: String,
    /// That record.
    pub subject_id: RecordId,
    /// The rule that asked for it.
    pub rule: String,
    /// The amount, if any.
    pub amount: Option<Money>,
    /// The roles the current step waits for.
    pub step_roles: Vec<String>,
    /// When it was asked.
    pub created_at: Timestamp,
}

/// An edit the server refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedChange {
    /// The record edited.
    pub record_id: RecordId,
    /// Its kind.
    pub kind: String,
    /// The refusal's stable code.
    pub reason_code: String,
    /// What to tell the user.
    pub detail: String,
    /// When the server refused it.
    pub rejected_at: Timestamp,
}

const SCOPE_CTE: &str = "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))";

const OVERDUE_CTE: &str = "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1)),
     limits(stage, days) AS (SELECT key, value FROM json_each(?2))";

const OVERDUE_FROM: &str = "FROM opportunities o JOIN limits l ON l.stage = o.stage
     WHERE o.deleted = 0 AND o.outcome IS NULL AND o.stage_entered_at IS NOT NULL
       AND o.stage_entered_at + l.days * 86400000 <= ?3
       AND o.owner_id IN (SELECT owner_id FROM scope)";

const RECLAIMED_FROM: &str = "FROM leads
     WHERE deleted = 0 AND reclaimed_at >= ?2 AND reclaimed_at < ?3
       AND reclaimed_from IN (SELECT owner_id FROM scope)";

/// The attention list of the viewer; `range` selects the reclaimed leads.
pub fn attention(ctx: &Context<'_>, range: DateRange) -> Result<AttentionList> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    let limit = i64::from(ctx.settings.attention_limit);
    let now = ctx.now;
    let me = &ctx.viewer.me;

    // Overdue deals.
    let limits = serde_json::Value::Object(
        ctx.process
            .stages
            .iter()
            .filter(|s| !s.is_terminal())
            .filter_map(|s| Some((s.key.clone(), serde_json::Value::from(s.max_days?))))
            .collect(),
    )
    .to_string();
    let overdue_total: i64 = ctx
        .conn
        .prepare_cached(&format!("{OVERDUE_CTE} SELECT COUNT(*) {OVERDUE_FROM}"))?
        .query_row(params![owners, limits, now], |r| r.get(0))?;
    let mut stmt = ctx.conn.prepare_cached(&format!(
        "{OVERDUE_CTE}
         SELECT o.id, o.name, o.owner_id, o.stage, o.stage_entered_at, o.amount_minor, o.currency
         {OVERDUE_FROM}
         ORDER BY o.stage_entered_at + l.days * 86400000, o.id
         LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![owners, limits, now, limit], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, RecordId>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Timestamp>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let mut overdue_opportunities = Vec::new();
    for row in rows {
        let (id, name, owner_id, stage, entered_at, amount, currency) = row?;
        let Some(owner) = scope.rep(owner_id) else {
            continue;
        };
        let clock = StageClock {
            stage: &stage,
            entered_at,
            owner: owner_id,
            manager: None,
            last_reminder_at: None,
        };
        let Some(due) = stage_overdue(&ctx.process.stages, &clock, now) else {
            continue;
        };
        overdue_opportunities.push(OverdueOpportunity {
            opportunity_id: id,
            name,
            owner,
            stage,
            due_at: due.due_at,
            overdue_ms: due.overdue_ms,
            amount: Money::new(amount, currency.parse().unwrap_or(Currency::default())),
        });
    }

    // Held leads close to reclaim.
    let rules = &ctx.process.leads;
    let reclaim_ms = days_ms(rules.reclaim_after_days);
    let horizon = now.plus_millis(days_ms(ctx.settings.reclaim_warning_days));
    let leads_where = "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1)),
              held AS (
                SELECT id, company_name, owner_id, assigned_at, last_follow_up_at,
                       MAX(COALESCE(last_follow_up_at, assigned_at),
                           COALESCE(assigned_at, last_follow_up_at)) + ?2 AS due
                FROM leads
                WHERE deleted = 0 AND status NOT IN ('converted', 'pooled', 'closed')
                  AND owner_id IN (SELECT owner_id FROM scope))";
    let leads_total: i64 = ctx
        .conn
        .prepare_cached(&format!(
            "{leads_where} SELECT COUNT(*) FROM held WHERE due <= ?3"
        ))?
        .query_row(params![owners, reclaim_ms, horizon], |r| r.get(0))?;
    let mut stmt = ctx.conn.prepare_cached(&format!(
        "{leads_where}
         SELECT id, company_name, owner_id, assigned_at, last_follow_up_at FROM held
         WHERE due <= ?3 ORDER BY due, id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![owners, reclaim_ms, horizon, limit], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, RecordId>(2)?,
            r.get::<_, Option<Timestamp>>(3)?,
            r.get::<_, Option<Timestamp>>(4)?,
        ))
    })?;
    let mut leads_due_for_reclaim = Vec::new();
    for row in rows {
        let (id, company_name, owner_id, assigned_at, last_follow_up_at) = row?;
        let Some(owner) = scope.rep(owner_id) else {
            continue;
        };
        let facts = LeadFacts {
            owner: Some(owner_id),
            assigned_at,
            last_follow_up_at,
            converted: false,
        };
        // Asked at the horizon, the rule says when the lead falls due.
        let Some(due) = reclaim_due(&facts, rules, horizon) else {
            continue;
        };
        leads_due_for_reclaim.push(LeadAtRisk {
            lead_id: id,
            company_name,
            owner,
            idle_since: due.idle_since,
            due_at: due.due_at,
            due_now: reclaim_due(&facts, rules, now).is_some(),
        });
    }

    // Leads reclaimed in the range.
    let (start, end) = range.instants(&me.zone);
    let reclaimed_total: i64 = ctx
        .conn
        .prepare_cached(&format!("{SCOPE_CTE} SELECT COUNT(*) {RECLAIMED_FROM}"))?
        .query_row(params![owners, start, end], |r| r.get(0))?;
    let mut stmt = ctx.conn.prepare_cached(&format!(
        "{SCOPE_CTE}
         SELECT id, company_name, reclaimed_from, reclaimed_at, status {RECLAIMED_FROM}
         ORDER BY reclaimed_at, id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![owners, start, end, limit], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, RecordId>(2)?,
            r.get::<_, Timestamp>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut reclaimed_leads = Vec::new();
    for row in rows {
        let (lead_id, company_name, from, at, status) = row?;
        if let Some(from) = scope.rep(from) {
            reclaimed_leads.push(ReclaimedLead {
                lead_id,
                company_name,
                from,
                at,
                status,
            });
        }
    }

    // Deals marked falsely progressed in the range, along their partial index (`+owner_id`
    // keeps the planner from reading every deal of the reps in scope instead).
    let false_from = "FROM opportunities
         WHERE deleted = 0 AND false_progress_at >= ?2 AND false_progress_at < ?3
           AND +owner_id IN (SELECT owner_id FROM scope)";
    let false_progress_total: i64 = ctx
        .conn
        .prepare_cached(&format!("{SCOPE_CTE} SELECT COUNT(*) {false_from}"))?
        .query_row(params![owners, start, end], |r| r.get(0))?;
    let mut stmt = ctx.conn.prepare_cached(&format!(
        "{SCOPE_CTE}
         SELECT id, name, owner_id, stage, false_progress_at,
                COALESCE(false_progress_penalty_minor, 0)
         {false_from}
         ORDER BY false_progress_at, id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![owners, start, end, limit], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, RecordId>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Timestamp>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut false_progress = Vec::new();
    for row in rows {
        let (opportunity_id, name, owner, stage, marked_at, penalty_minor) = row?;
        if let Some(owner) = scope.rep(owner) {
            false_progress.push(FalselyProgressed {
                opportunity_id,
                name,
                owner,
                stage,
                marked_at,
                penalty_minor,
            });
        }
    }

    // Approvals waiting for one of my roles, asked by someone else in my scope.
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT a.id, r.title, a.owner_id, a.subject_kind, a.subject_id, a.rule, a.amount_minor,
                a.currency, a.step_roles, a.created_at
         FROM approvals a JOIN records r ON r.id = a.id
         WHERE a.deleted = 0 AND a.status = 'pending' AND a.step_roles IS NOT NULL
           AND a.owner_id IN (SELECT owner_id FROM scope) AND a.owner_id <> ?2
         ORDER BY a.created_at, a.id",
    )?;
    let rows = stmt.query_map(params![owners, me.user_id], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, RecordId>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, RecordId>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, Timestamp>(9)?,
        ))
    })?;
    let mut approvals_waiting = Vec::new();
    for row in rows {
        let (id, title, owner, subject_kind, subject_id, rule, amount, currency, roles, at) = row?;
        let step_roles: Vec<String> = roles.split_whitespace().map(str::to_string).collect();
        if !step_roles.iter().any(|r| me.has_role(r)) {
            continue;
        }
        let Some(requester) = scope.rep(owner) else {
            continue;
        };
        approvals_waiting.push(WaitingApproval {
            approval_id: id,
            title,
            requester,
            subject_kind,
            subject_id,
            rule,
            amount: amount.map(|minor| {
                Money::new(
                    minor,
                    currency
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(Currency::default()),
                )
            }),
            step_roles,
            created_at: at,
        });
        if approvals_waiting.len() as i64 >= limit {
            break;
        }
    }

    // My refused edits.
    let mut stmt = ctx.conn.prepare_cached(
        "SELECT record_id, kind, reason_code, detail, rejected_at FROM rejected_changes
         WHERE resolved_at IS NULL ORDER BY rejected_at, seq LIMIT ?1",
    )?;
    let rejected_changes = stmt
        .query_map([limit], |r| {
            Ok(RejectedChange {
                record_id: r.get(0)?,
                kind: r.get(1)?,
                reason_code: r.get(2)?,
                detail: r.get(3)?,
                rejected_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    Ok(AttentionList {
        data_as_of: ctx.data_as_of,
        range,
        overdue_opportunities,
        overdue_opportunities_total: count(overdue_total),
        leads_due_for_reclaim,
        leads_due_for_reclaim_total: count(leads_total),
        reclaimed_leads,
        reclaimed_leads_total: count(reclaimed_total),
        false_progress,
        false_progress_total: count(false_progress_total),
        approvals_waiting,
        rejected_changes,
    })
}
