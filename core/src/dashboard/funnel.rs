//! The sales funnel: what is open in each stage, what moved on, what closed and what the
//! pipeline is worth.
//!
//! Open deals are a snapshot at the data time; the range selects the stage entries a
//! conversion is measured on and the deals closed for the win rate. A deal "advanced" from a
//! stage entry when a later entry of its history is a later stage of the chain or the won
//! outcome, so a deal sent back and moved forward again still counts once per entry. The
//! weighted forecast is each stage's open amount times the stage's configured win
//! probability, rounded to the minor unit per stage.

use std::collections::HashMap;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Context, DashboardRequest, DateRange, Group, GroupBy, Scope, count, share, sorted};
use crate::process::StageOutcome;
use crate::process::stage::ordered_open_stages;
use crate::{BasisPoints, Currency, Money, RecordId, Result, Timestamp};

/// The funnel dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// The last successful sync the numbers are built from.
    pub data_as_of: Option<Timestamp>,
    /// The days asked for.
    pub range: DateRange,
    /// The rows.
    pub group_by: GroupBy,
    /// The currency of every amount.
    pub currency: Currency,
    /// The open stages in chain order (unknown stages found on deals at the end).
    pub stages: Vec<StageInfo>,
    /// One row per group.
    pub groups: Vec<FunnelRow>,
    /// The whole scope.
    pub total: FunnelFigures,
    /// Deals in scope whose amount is in another currency: counted, not summed.
    pub excluded_other_currency: u64,
}

/// A stage as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageInfo {
    /// The stage key.
    pub key: String,
    /// What people see.
    pub name: String,
    /// The configured chance of winning a deal in this stage (0 for a stage the
    /// configuration does not know).
    pub win_probability: BasisPoints,
}

/// One group's funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelRow {
    /// The rep, team or region.
    pub group: Group,
    /// Its figures.
    pub figures: FunnelFigures,
}

/// The figures of a funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelFigures {
    /// Per stage, in the order of [`Funnel::stages`].
    pub stages: Vec<StageFigures>,
    /// Open amount over all stages.
    pub pipeline: Money,
    /// Open amounts weighted by stage probability.
    pub weighted_forecast: Money,
    /// Deals won in the range.
    pub won: u64,
    /// Their amount.
    pub won_amount: Money,
    /// Deals lost in the range.
    pub lost: u64,
    /// Won over closed in the range; `None` when nothing closed.
    pub win_rate: Option<BasisPoints>,
}

/// One stage's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageFigures {
    /// The stage key.
    pub stage: String,
    /// Deals open in it now.
    pub open: u64,
    /// Their amount.
    pub open_amount: Money,
    /// Their amount times the stage probability.
    pub weighted_amount: Money,
    /// Deals that entered it in the range.
    pub entered: u64,
    /// Of those, the ones that reached a later stage or won.
    pub advanced: u64,
    /// `advanced / entered`; `None` when none entered.
    pub conversion: Option<BasisPoints>,
}

#[derive(Default, Clone)]
struct Acc {
    open: HashMap<String, (u64, i64)>,
    entered: HashMap<String, (u64, u64)>,
    won: u64,
    won_amount: i64,
    lost: u64,
}

impl Acc {
    fn add(&mut self, other: &Acc) {
        for (k, (n, a)) in &other.open {
            let e = self.open.entry(k.clone()).or_default();
            e.0 += n;
            e.1 += a;
        }
        for (k, (n, a)) in &other.entered {
            let e = self.entered.entry(k.clone()).or_default();
            e.0 += n;
            e.1 += a;
        }
        self.won += other.won;
        self.won_amount += other.won_amount;
        self.lost += other.lost;
    }

    fn figures(&self, stages: &[StageInfo], currency: Currency) -> FunnelFigures {
        let mut pipeline = 0i64;
        let mut weighted = 0i64;
        let stages = stages
            .iter()
            .map(|s| {
                let (open, amount) = self.open.get(&s.key).copied().unwrap_or_default();
                let (entered, advanced) = self.entered.get(&s.key).copied().unwrap_or_default();
                let open_amount = Money::new(amount, currency);
                let weighted_amount = open_amount.apply_rate(s.win_probability);
                pipeline = pipeline.saturating_add(amount);
                weighted = weighted.saturating_add(weighted_amount.minor);
                StageFigures {
                    stage: s.key.clone(),
                    open,
                    open_amount,
                    weighted_amount,
                    entered,
                    advanced,
                    conversion: share(advanced, entered),
                }
            })
            .collect();
        FunnelFigures {
            stages,
            pipeline: Money::new(pipeline, currency),
            weighted_forecast: Money::new(weighted, currency),
            won: self.won,
            won_amount: Money::new(self.won_amount, currency),
            lost: self.lost,
            win_rate: share(self.won, self.won + self.lost),
        }
    }
}

/// The funnel of the viewer's scope.
pub fn funnel(ctx: &Context<'_>, req: &DashboardRequest) -> Result<Funnel> {
    let scope = Scope::load(ctx.conn, ctx.viewer)?;
    let owners = scope.owners_json();
    let currency = ctx.settings.currency;
    let (start, end) = req.range.instants(&ctx.viewer.me.zone);

    let process = ctx.process;
    let mut stages: Vec<StageInfo> = ordered_open_stages(&process.stages)
        .into_iter()
        .map(|s| StageInfo {
            key: s.key.clone(),
            name: s.name.clone(),
            win_probability: s.win_probability,
        })
        .collect();
    let terminal = |key: &str| {
        process
            .stages
            .iter()
            .any(|s| s.key == key && s.is_terminal())
    };

    let mut per_owner: HashMap<RecordId, Acc> = HashMap::new();
    let mut excluded = 0u64;

    // Open deals per owner and stage.
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT owner_id, stage, COUNT(*),
                COALESCE(SUM(CASE WHEN currency = ?2 THEN amount_minor END), 0),
                COUNT(CASE WHEN currency <> ?2 THEN 1 END)
         FROM opportunities
         WHERE deleted = 0 AND outcome IS NULL AND owner_id IN (SELECT owner_id FROM scope)
         GROUP BY owner_id, stage",
    )?;
    let rows = stmt.query_map(params![owners, currency.code()], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (owner, stage, n, amount, other) = row?;
        if terminal(&stage) {
            continue;
        }
        if !stages.iter().any(|s| s.key == stage) {
            stages.push(StageInfo {
                key: stage.clone(),
                name: stage.clone(),
                win_probability: BasisPoints(0),
            });
        }
        excluded += count(other);
        let e = per_owner
            .entry(owner)
            .or_default()
            .open
            .entry(stage)
            .or_default();
        e.0 += count(n);
        e.1 += amount;
    }

    // Deals closed in the range.
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT owner_id, outcome, COUNT(*),
                COALESCE(SUM(CASE WHEN currency = ?2 THEN amount_minor END), 0),
                COUNT(CASE WHEN currency <> ?2 THEN 1 END)
         FROM opportunities
         WHERE deleted = 0 AND outcome IN ('won', 'lost') AND outcome_at >= ?3
           AND outcome_at < ?4 AND owner_id IN (SELECT owner_id FROM scope)
         GROUP BY owner_id, outcome",
    )?;
    let rows = stmt.query_map(params![owners, currency.code(), start, end], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (owner, outcome, n, amount, other) = row?;
        let acc = per_owner.entry(owner).or_default();
        if outcome == StageOutcome::Won.as_str() {
            acc.won += count(n);
            acc.won_amount += amount;
            excluded += count(other);
        } else {
            acc.lost += count(n);
        }
    }

    // Stage entries in the range, and whether each led further.
    let won_rank = stages.len();
    let mut ranks: serde_json::Map<String, serde_json::Value> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.clone(), serde_json::Value::from(i)))
        .collect();
    for s in process.stages.iter() {
        if s.outcome == Some(StageOutcome::Won) {
            ranks.insert(s.key.clone(), serde_json::Value::from(won_rank));
        }
    }
    let ranks = serde_json::Value::Object(ranks).to_string();
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1)),
              ranks(stage, rank) AS (SELECT key, value FROM json_each(?2))
         SELECT o.owner_id, h.stage, COUNT(*),
                COUNT(CASE WHEN EXISTS (
                    SELECT 1 FROM stage_history l JOIN ranks lr ON lr.stage = l.stage
                    WHERE l.opportunity_id = h.opportunity_id AND l.seq > h.seq
                      AND lr.rank > r.rank) THEN 1 END)
         FROM stage_history h
         JOIN ranks r ON r.stage = h.stage
         JOIN opportunities o ON o.id = h.opportunity_id
         WHERE o.deleted = 0 AND h.entered_at >= ?3 AND h.entered_at < ?4
           AND r.rank < ?5 AND o.owner_id IN (SELECT owner_id FROM scope)
         GROUP BY o.owner_id, h.stage",
    )?;
    let rows = stmt.query_map(params![owners, ranks, start, end, won_rank as i64], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (owner, stage, entered, advanced) = row?;
        let e = per_owner
            .entry(owner)
            .or_default()
            .entered
            .entry(stage)
            .or_default();
        e.0 += count(entered);
        e.1 += count(advanced);
    }

    let mut groups: HashMap<Group, Acc> = HashMap::new();
    let mut total = Acc::default();
    for (owner, acc) in &per_owner {
        if let Some(g) = scope.group_of(*owner, req.group_by) {
            groups.entry(g).or_default().add(acc);
            total.add(acc);
        }
    }
    Ok(Funnel {
        data_as_of: ctx.data_as_of,
        range: req.range,
        group_by: req.group_by,
        currency,
        groups: sorted(groups)
            .into_iter()
            .map(|(group, acc)| FunnelRow {
                group,
                figures: acc.figures(&stages, currency),
            })
            .collect(),
        total: total.figures(&stages, currency),
        stages,
        excluded_other_currency: excluded,
    })
}
