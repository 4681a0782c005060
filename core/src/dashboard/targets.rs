//! Target attainment and the leaderboard.
//!
//! The targets shown are those of the grouping's level (rep targets when grouped by rep, team
//! targets by team, region targets by region) whose period overlaps the range, for subjects
//! the viewer sees. Attainment is measured over the target's whole period up to the data
//! time, not just the range: a quarter's target is met by the quarter's deals. Periods are
//! placed in the viewer's zone. Won amount counts deals won in the period; collected amount
//! counts payments received in it. A team's or region's achievement is the sum of its reps'.
//!
//! The leaderboard ranks by attainment (no target amount: last), then by amount achieved;
//! equal attainments share a rank.

use std::collections::HashMap;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Context, DashboardRequest, DateRange, Group, GroupBy, Scope};
use crate::process::attainment;
use crate::record::target::{PeriodKind, TargetMetric, TargetSubject};
use crate::{BasisPoints, Currency, LocalDate, Money, RecordId, Result, Timestamp};

/// The target dashboard: the leaderboard of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetBoard {
    /// The last successful sync the numbers are built from.
    pub data_as_of: Option<Timestamp>,
    /// The days asked for.
    pub range: DateRange,
    /// The level shown.
    pub group_by: GroupBy,
    /// The currency of every amount.
    pub currency: Currency,
    /// The targets, best attainment first.
    pub leaderboard: Vec<TargetRow>,
    /// Targets in scope set in another currency: not shown.
    pub excluded_other_currency: u64,
}

/// One target and how far it is met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetRow {
    /// 1 for the best.
    pub rank: u32,
    /// The target record.
    pub target_id: RecordId,
    /// The rep, team or region.
    pub subject: Group,
    /// Month, quarter or year (`month`, `quarter`, `year`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub period: PeriodKind,
    /// The period's first day.
    pub period_start: LocalDate,
    /// The day after the period.
    pub period_end: LocalDate,
    /// What is counted (`won_amount`, `collected_amount`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub metric: TargetMetric,
    /// The target amount.
    pub target: Money,
    /// What was achieved in the period so far.
    pub achieved: Money,
    /// Achieved over target; `None` when the target is zero.
    pub attainment: Option<BasisPoints>,
}

struct TargetFacts {
    id: RecordId,
    subject: RecordId,
    period: PeriodKind,
    start: LocalDate,
    end: LocalDate,
    metric: TargetMetric,
    amount: i64,
}

/// The targets of the viewer's scope at the level of `req.group_by`.
pub fn targets(ctx: &Context<'_>, req: &DashboardRequest) -> Result<TargetBoard> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    let currency = ctx.settings.currency;
    let zone = &ctx.viewer.me.zone;
    let subject_kind = match req.group_by {
        GroupBy::Rep => TargetSubject::Rep,
        GroupBy::Team => TargetSubject::Team,
        GroupBy::Region => TargetSubject::Region,
    };

    let mut stmt = ctx.conn.prepare_cached(
        "SELECT id, subject_id, period, period_start, period_end, metric, amount_minor, currency
         FROM targets
         WHERE deleted = 0 AND subject = ?1 AND period_start <= ?3 AND period_end > ?2
         ORDER BY period_start, id",
    )?;
    let rows = stmt.query_map(
        params![subject_kind.as_str(), req.range.from, req.range.to],
        |r| {
            Ok((
                TargetFacts {
                    id: r.get(0)?,
                    subject: r.get(1)?,
                    period: PeriodKind::from_code(&r.get::<_, String>(2)?),
                    start: r.get(3)?,
                    end: r.get(4)?,
                    metric: TargetMetric::from_code(&r.get::<_, String>(5)?),
                    amount: r.get(6)?,
                },
                r.get::<_, String>(7)?,
            ))
        },
    )?;
    let mut facts = Vec::new();
    let mut excluded = 0u64;
    for row in rows {
        let (t, cur) = row?;
        let visible = match req.group_by {
            GroupBy::Rep => scope.members.contains_key(&t.subject),
            GroupBy::Team | GroupBy::Region => scope.visibility.covers(t.subject),
        };
        if !visible || !t.metric.is_known() {
            continue;
        }
        if cur != currency.code() {
            excluded += 1;
            continue;
        }
        facts.push(t);
    }

    // What each rep achieved in each period and metric asked for.
    let mut achieved: HashMap<(LocalDate, LocalDate, bool), HashMap<RecordId, i64>> =
        HashMap::new();
    for t in &facts {
        let collected = t.metric == TargetMetric::CollectedAmount;
        let key = (t.start, t.end, collected);
        if achieved.contains_key(&key) {
            continue;
        }
        let (start, end) = (t.start.start(zone), t.end.start(zone));
        let sql = if collected {
            "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
             SELECT o.owner_id, SUM(p.amount_minor)
             FROM payments p JOIN orders o ON o.id = p.order_id
             WHERE o.deleted = 0 AND o.currency = ?2 AND p.received_at >= ?3
               AND p.received_at < ?4 AND o.owner_id IN (SELECT owner_id FROM scope)
             GROUP BY o.owner_id"
        } else {
            "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
             SELECT owner_id, SUM(amount_minor)
             FROM opportunities
             WHERE deleted = 0 AND outcome = 'won' AND currency = ?2 AND outcome_at >= ?3
               AND outcome_at < ?4 AND owner_id IN (SELECT owner_id FROM scope)
             GROUP BY owner_id"
        };
        let mut stmt = ctx.conn.prepare_cached(sql)?;
        let mut by_owner = HashMap::new();
        for row in stmt.query_map(params![owners, currency.code(), start, end], |r| {
            Ok((r.get::<_, RecordId>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (owner, sum) = row?;
            by_owner.insert(owner, sum);
        }
        achieved.insert(key, by_owner);
    }

    let mut board: Vec<TargetRow> = Vec::with_capacity(facts.len());
    for t in facts {
        let collected = t.metric == TargetMetric::CollectedAmount;
        let by_owner = achieved
            .get(&(t.start, t.end, collected))
            .cloned()
            .unwrap_or_default();
        let sum: i64 = by_owner
            .iter()
            .filter(|(owner, _)| match req.group_by {
                GroupBy::Rep => **owner == t.subject,
                GroupBy::Team | GroupBy::Region => scope
                    .members
                    .get(*owner)
                    .is_some_and(|m| ctx.viewer.tree.is_within(m.unit, t.subject)),
            })
            .map(|(_, v)| *v)
            .fold(0i64, i64::saturating_add);
        let subject = match req.group_by {
            GroupBy::Rep => scope.rep(t.subject),
            GroupBy::Team | GroupBy::Region => Some(scope.unit_group(t.subject)),
        };
        let Some(subject) = subject else { continue };
        let target = Money::new(t.amount, currency);
        let achieved = Money::new(sum, currency);
        board.push(TargetRow {
            rank: 0,
            target_id: t.id,
            subject,
            period: t.period,
            period_start: t.start,
            period_end: t.end,
            metric: t.metric,
            target,
            achieved,
            attainment: attainment(achieved, target),
        });
    }
    board.sort_by(|a, b| {
        b.attainment
            .cmp(&a.attainment)
            .then(b.achieved.minor.cmp(&a.achieved.minor))
            .then(a.subject.cmp(&b.subject))
            .then(a.period_start.cmp(&b.period_start))
            .then(a.target_id.cmp(&b.target_id))
    });
    let mut previous: Option<(Option<BasisPoints>, u32)> = None;
    for (i, row) in board.iter_mut().enumerate() {
        let position = u32::try_from(i + 1).unwrap_or(u32::MAX);
        row.rank = match previous {
            Some((a, rank)) if a == row.attainment && a.is_some() => rank,
            _ => position,
        };
        previous = Some((row.attainment, row.rank));
    }
    Ok(TargetBoard {
        data_as_of: ctx.data_as_of,
        range: req.range,
        group_by: req.group_by,
        currency,
        leaderboard: board,
        excluded_other_currency: excluded,
    })
}
