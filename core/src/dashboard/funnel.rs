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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelRow {
    /// The rep, team or region.
    pub group: Group,
    /// Its figures.
    pub figures: FunnelFigures,
}

/// The figures of a funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Deals whose progress a manager marked false (虚假推进) in the range.
    #[serde(default)]
    pub false_progress: u64,
    /// The penalties those marks carry.
    #[serde(default = "zero_penalties")]
    pub false_progress_penalties: Money,
}

fn zero_penalties() -> Money {
    Money::zero(Currency::default())
}

/// One stage's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    false_progress: u64,
    false_progress_penalties: i64,
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
        self.false_progress += other.false_progress;
        self.false_progress_penalties += other.false_progress_penalties;
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
            false_progress: self.false_progress,
            false_progress_penalties: Money::new(self.false_progress_penalties, currency),
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

    // Deals a manager found falsely progressed in the range, with their fines: along their
    // partial index (`+owner_id` keeps the planner from reading every deal in scope instead).
    let mut stmt = ctx.conn.prepare_cached(
        "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
         SELECT owner_id, COUNT(*), COALESCE(SUM(false_progress_penalty_minor), 0)
         FROM opportunities
         WHERE deleted = 0 AND false_progress_at >= ?2 AND false_progress_at < ?3
           AND +owner_id IN (SELECT owner_id FROM scope)
         GROUP BY owner_id",
    )?;
    let rows = stmt.query_map(params![owners, start, end], |r| {
        Ok((
            r.get::<_, RecordId>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (owner, n, penalties) = row?;
        let acc = per_owner.entry(owner).or_default();
        acc.false_progress += count(n);
        acc.false_progress_penalties += penalties;
    }

    // Stage entries in the range, and whether each led further: an entry of a stage led
    // further when a later entry of the same deal ranks higher (a later stage of the chain,
    // or won). Stages not in `stages` and not won (lost, unknown closed ones) neither count
    // nor lead further.
    let won_rank = stages.len();
    let mut ranks: HashMap<&str, usize> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    for s in process.stages.iter() {
        if s.outcome == Some(StageOutcome::Won) {
            ranks.insert(s.key.as_str(), won_rank);
        }
    }
    // The live deals of the scope, and whose they are.
    let mut deal_owner: HashMap<RecordId, usize> = HashMap::new();
    let mut owners_seen: Vec<RecordId> = Vec::new();
    {
        let mut stmt = ctx.conn.prepare_cached(
            "WITH scope(owner_id) AS (SELECT unhex(value) FROM json_each(?1))
             SELECT o.id, o.owner_id
             FROM scope s JOIN opportunities o ON o.owner_id = s.owner_id
             WHERE o.deleted = 0",
        )?;
        let mut rows = stmt.query([&owners])?;
        let mut last: Option<(RecordId, usize)> = None;
        while let Some(row) = rows.next()? {
            let deal: RecordId = row.get(0)?;
            let owner: RecordId = row.get(1)?;
            let index = match last {
                Some((o, i)) if o == owner => i,
                _ => {
                    let i = owners_seen
                        .iter()
                        .position(|o| *o == owner)
                        .unwrap_or_else(|| {
                            owners_seen.push(owner);
                            owners_seen.len() - 1
                        });
                    last = Some((owner, i));
                    i
                }
            };
            deal_owner.insert(deal, index);
        }
    }
    // Per owner and rank: (entered, advanced).
    let mut entered = vec![vec![(0u64, 0u64); won_rank]; owners_seen.len()];
    {
        // Each deal with an entry in the range, its whole history in order, read once: whether
        // an entry led further is the highest rank after it, a running maximum from the end.
        let mut stmt = ctx.conn.prepare_cached(
            "SELECT h.opportunity_id, h.stage, h.entered_at
             FROM stage_history h
             WHERE h.opportunity_id IN (
                 SELECT opportunity_id FROM stage_history
                 WHERE entered_at >= ?1 AND entered_at < ?2)
             ORDER BY h.opportunity_id, h.seq",
        )?;
        let mut rows = stmt.query(params![start, end])?;
        // The current deal's entries: (rank, in the range).
        let mut history: Vec<(Option<usize>, bool)> = Vec::new();
        let mut current: Option<Option<usize>> = None;
        let mut tally = |owner: Option<usize>, history: &[(Option<usize>, bool)]| {
            let Some(owner) = owner else {
                return;
            };
            let mut higher_after: Option<usize> = None;
            for (rank, in_range) in history.iter().rev() {
                if let (Some(rank), true) = (rank, in_range)
                    && *rank < won_rank
                {
                    let e = &mut entered[owner][*rank];
                    e.0 += 1;
                    if higher_after.is_some_and(|h| h > *rank) {
                        e.1 += 1;
                    }
                }
                if let Some(rank) = rank {
                    higher_after = Some(higher_after.map_or(*rank, |h| h.max(*rank)));
                }
            }
        };
        let mut deal: Option<RecordId> = None;
        while let Some(row) = rows.next()? {
            let id: RecordId = row.get(0)?;
            if deal != Some(id) {
                if let Some(owner) = current {
                    tally(owner, &history);
                }
                history.clear();
                deal = Some(id);
                current = Some(deal_owner.get(&id).copied());
            }
            let rank = ranks
                .get(row.get_ref(1)?.as_str().unwrap_or_default())
                .copied();
            let at: Timestamp = row.get(2)?;
            history.push((rank, at >= start && at < end));
        }
        if let Some(owner) = current {
            tally(owner, &history);
        }
    }
    for (owner, per_rank) in owners_seen.iter().zip(entered) {
        for (rank, (n, advanced)) in per_rank.into_iter().enumerate() {
            if n == 0 {
                continue;
            }
            let e = per_owner
                .entry(*owner)
                .or_default()
                .entered
                .entry(stages[rank].key.clone())
                .or_default();
            e.0 += n;
            e.1 += advanced;
        }
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
