//! Opportunity stages: the chain, moving along it, and deals that sit too long.
//!
//! The source rules are blunt: no skipping stages, no faking progress, each stage has a longest
//! time and a reminder to the owner and the manager when it runs out. A deal therefore moves only
//! to the next open stage, back (with a reason), or to an outcome; it enters a stage only with
//! that stage's required fields filled; and every move leaves a history entry that the server
//! re-checks, since a phone's word alone is not proof of progress.

use std::collections::{BTreeMap, BTreeSet};

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::money::{BasisPoints, Money};
use crate::string_enum;
use crate::time::Timestamp;

use super::fields::{FieldValues, MissingField, StageField, missing_fields, validate_fields};
use super::text::percent;
use super::validate::{ConfigProblem, FULL, FieldPath, Known, Problems};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

string_enum! {
    /// How a deal ends.
    pub enum StageOutcome {
        /// The deal was won (中标 / 成交).
        Won = "won",
        /// The deal was lost (丢单).
        Lost = "lost",
    }
}

/// One step of a stage, as in the rollout template's process table: who acts, who approves,
/// what the step must record and how many hours it may take before a reminder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct StageStep {
    /// The step's name (`线索分配`).
    pub name: String,
    /// The role that performs it (`sales_rep`).
    pub actor_role: String,
    /// The role that must approve entering the stage, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_role: Option<String>,
    /// What the step must record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<StageField>,
    /// Hours after the stage was entered at which an undone step is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_after_hours: Option<u32>,
}

/// One stage of the sales process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct StageRule {
    /// Stable key stored on deals (`initiation`).
    pub key: String,
    /// What people see (`立项`).
    pub name: String,
    /// The open stage that follows this one; `None` on the last open stage and on outcomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Set on a terminal stage: how the deal ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<StageOutcome>,
    /// Marks the first stage as the lead stage: leads sit in it, opportunities start after it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lead_stage: bool,
    /// The longest time a deal may stay in this stage, in days; `None` for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
    /// Once overdue, how often the reminder repeats; 0 reminds once.
    #[serde(
        default = "default_reminder_hours",
        skip_serializing_if = "is_default_reminder"
    )]
    pub reminder_every_hours: u32,
    /// The chance a deal in this stage is won, for weighted forecasts.
    #[serde(with = "percent")]
    pub win_probability: BasisPoints,
    /// On an outcome stage: whether a deal may close here from any open stage (lost) or only
    /// from the last open stage (won: no skipping to a win).
    #[serde(default, skip_serializing_if = "is_false")]
    pub enter_from_any_stage: bool,
    /// The stage's form; required fields must be filled to enter the stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<StageField>,
    /// The steps of the rollout template.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StageStep>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_reminder_hours() -> u32 {
    24
}

fn is_default_reminder(h: &u32) -> bool {
    *h == default_reminder_hours()
}

impl StageRule {
    /// An open stage with no fields yet.
    pub fn open(key: &str, name: &str, next: Option<&str>, max_days: Option<u32>, p: u32) -> Self {
        StageRule {
            key: key.to_string(),
            name: name.to_string(),
            next: next.map(str::to_string),
            outcome: None,
            lead_stage: false,
            max_days,
            reminder_every_hours: default_reminder_hours(),
            win_probability: BasisPoints::percent(p),
            enter_from_any_stage: false,
            fields: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// An outcome stage.
    pub fn outcome(key: &str, name: &str, outcome: StageOutcome) -> Self {
        let lost = outcome == StageOutcome::Lost;
        StageRule {
            next: None,
            max_days: None,
            win_probability: if lost { BasisPoints(0) } else { FULL },
            enter_from_any_stage: lost,
            outcome: Some(outcome),
            ..StageRule::open(key, name, None, None, 0)
        }
    }

    /// With these form fields.
    pub fn with_fields(mut self, fields: Vec<StageField>) -> Self {
        self.fields = fields;
        self
    }

    /// Whether a deal here is closed.
    pub fn is_terminal(&self) -> bool {
        self.outcome.is_some()
    }
}

/// The open stages in chain order, starting at the stage no other stage names as `next`.
///
/// Safe on an unchecked configuration: it stops at a repeated stage instead of looping.
pub fn ordered_open_stages(stages: &[StageRule]) -> Vec<&StageRule> {
    let open: Vec<&StageRule> = stages.iter().filter(|s| !s.is_terminal()).collect();
    let named: BTreeSet<&str> = open.iter().filter_map(|s| s.next.as_deref()).collect();
    let Some(start) = open.iter().find(|s| !named.contains(s.key.as_str())) else {
        return Vec::new();
    };
    let mut chain = vec![*start];
    let mut seen = BTreeSet::from([start.key.as_str()]);
    let mut at = *start;
    while let Some(next) = at.next.as_deref() {
        match open.iter().find(|s| s.key == next) {
            Some(s) if seen.insert(s.key.as_str()) => {
                chain.push(*s);
                at = s;
            }
            _ => break,
        }
    }
    chain
}

/// Checks the stage list: a single chain of open stages, a won and a lost outcome.
pub(crate) fn validate_stages(
    stages: &[StageRule],
    at: &FieldPath,
    known: &Known,
    out: &mut Problems,
) {
    let path = |i: usize| at.index(i);
    for (i, s) in stages.iter().enumerate() {
        out.non_blank(&s.key, path(i).key("key"));
        out.non_blank(&s.name, path(i).key("name"));
        out.at_most(s.win_probability, FULL, path(i).key("win_probability"));
        if let Some(d) = s.max_days {
            out.positive(d, path(i).key("max_days"));
        }
        validate_fields(&s.fields, &path(i).key("fields"), out);
        for (j, step) in s.steps.iter().enumerate() {
            let sp = path(i).key("steps").index(j);
            out.non_blank(&step.name, sp.key("name"));
            known.check_role(&step.actor_role, sp.key("actor_role"), out);
            if let Some(r) = &step.approver_role {
                known.check_role(r, sp.key("approver_role"), out);
            }
            if let Some(h) = step.overdue_after_hours {
                out.positive(h, sp.key("overdue_after_hours"));
            }
            validate_fields(&step.fields, &sp.key("fields"), out);
        }
    }
    let before = out.0.len();
    out.unique_keys(
        stages
            .iter()
            .enumerate()
            .map(|(i, s)| (path(i).key("key"), s.key.as_str())),
    );
    if out.0.len() > before {
        return; // the chain cannot be followed with two stages of one key
    }

    let index: BTreeMap<&str, usize> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    let open: Vec<usize> = (0..stages.len())
        .filter(|&i| !stages[i].is_terminal())
        .collect();
    if open.is_empty() {
        out.push(at.clone(), ConfigProblem::EmptyChain);
    }
    for outcome in [StageOutcome::Won, StageOutcome::Lost] {
        if !stages.iter().any(|s| s.outcome.as_ref() == Some(&outcome)) {
            out.push(
                at.clone(),
                ConfigProblem::MissingOutcome {
                    outcome: outcome.to_string(),
                },
            );
        }
    }

    // Links: every `next` names an open stage; outcomes have none.
    let mut next_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut predecessors: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut broken = false;
    for (i, s) in stages.iter().enumerate() {
        let Some(next) = s.next.as_deref() else {
            continue;
        };
        let np = path(i).key("next");
        match index.get(next) {
            None => {
                known.check_stage(next, np, out);
                broken = true;
            }
            Some(&j) if s.is_terminal() || stages[j].is_terminal() => {
                out.push(np, ConfigProblem::MisplacedNext { key: s.key.clone() });
                broken = true;
            }
            Some(&j) => {
                next_of.insert(i, j);
                predecessors.entry(j).or_default().push(i);
            }
        }
    }
    for (&j, preds) in &predecessors {
        if preds.len() > 1 {
            out.push(
                path(preds[1]).key("next"),
                ConfigProblem::BranchingChain {
                    stage: stages[j].key.clone(),
                    predecessors: preds.iter().map(|&p| stages[p].key.clone()).collect(),
                },
            );
            broken = true;
        }
    }

    // Walk from the start; whatever is left over is a cycle or a second chain.
    let starts: Vec<usize> = open
        .iter()
        .copied()
        .filter(|i| !predecessors.contains_key(i))
        .collect();
    let mut reached = BTreeSet::new();
    if let Some(&start) = starts.first() {
        let mut at_i = start;
        reached.insert(at_i);
        while let Some(&n) = next_of.get(&at_i) {
            if !reached.insert(n) {
                break;
            }
            at_i = n;
        }
    }
    let mut reported = BTreeSet::new();
    for &i in &open {
        if reached.contains(&i) || reported.contains(&i) {
            continue;
        }
        // Follow `next` from here; coming back to a visited stage of this walk is a cycle.
        let mut walk = vec![i];
        let mut cur = i;
        let cycle_start = loop {
            match next_of.get(&cur) {
                Some(&n) if walk.contains(&n) => break Some(n),
                Some(&n) if reached.contains(&n) || reported.contains(&n) => break None,
                Some(&n) => {
                    walk.push(n);
                    cur = n;
                }
                None => break None,
            }
        };
        reported.extend(walk.iter().copied());
        match cycle_start {
            Some(c) => {
                let pos = walk.iter().position(|&w| w == c).unwrap_or(0);
                let mut cycle: Vec<String> =
                    walk[pos..].iter().map(|&w| stages[w].key.clone()).collect();
                cycle.push(stages[c].key.clone());
                let last = walk.last().copied().unwrap_or(c);
                out.push(
                    path(last).key("next"),
                    ConfigProblem::CyclicStageOrder { cycle },
                );
            }
            None if !broken => {
                let start = starts
                    .first()
                    .map(|&s| stages[s].key.clone())
                    .unwrap_or_default();
                out.push(
                    path(i).key("key"),
                    ConfigProblem::DisconnectedStage {
                        key: stages[i].key.clone(),
                        start,
                    },
                );
            }
            None => {}
        }
    }

    for (i, s) in stages.iter().enumerate() {
        if s.lead_stage && (s.is_terminal() || starts.first() != Some(&i)) {
            out.push(
                path(i).key("lead_stage"),
                ConfigProblem::LeadStageNotFirst { key: s.key.clone() },
            );
        }
    }
}

string_enum! {
    /// What kind of move a stage change was.
    pub enum MoveKind {
        /// The deal was created in its first stage.
        Open = "open",
        /// To the next stage.
        Forward = "forward",
        /// Back to an earlier stage, or out of an outcome (reopened).
        Back = "back",
        /// To an outcome.
        Close = "close",
    }
}

/// One entry of a deal's stage history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StageChange {
    /// The stage left; `None` when the deal was created.
    pub from: Option<String>,
    /// The stage entered.
    pub to: String,
    /// What kind of move it was.
    pub kind: MoveKind,
    /// When.
    pub at: Timestamp,
    /// Who moved it.
    pub by: RecordId,
    /// Why, for moves back and for outcomes.
    pub reason: Option<String>,
}

/// A move a user asks for.
#[derive(Debug, Clone, Copy)]
pub struct StageMoveRequest<'a> {
    /// The stage to enter.
    pub to: &'a str,
    /// Why (required to move back or to close).
    pub reason: Option<&'a str>,
    /// Who moves the deal.
    pub by: RecordId,
    /// When.
    pub at: Timestamp,
}

/// An approval that entering a stage needs, from the stage's steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepApproval {
    /// The step that asks for it.
    pub step: String,
    /// The role that approves.
    pub role: String,
}

/// An accepted move.
#[derive(Debug, Clone, PartialEq)]
pub struct StageMove {
    /// The history entry to append.
    pub change: StageChange,
    /// Approvals the entered stage asks for; the move waits for them when not empty.
    pub approvals: Vec<StepApproval>,
}

/// The rule an approval to enter `stage` is filed under (`stage:initiation`): how the phone
/// files the request and the server finds it.
pub fn approval_rule(stage: &str) -> String {
    format!("stage:{stage}")
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageMoveRefused {
    /// The target stage does not exist in this process.
    #[error("unknown stage `{key}`")]
    UnknownStage {
        /// The key given.
        key: String,
    },
    /// The deal is already in that stage.
    #[error("the deal is already in `{stage}`")]
    AlreadyThere {
        /// The stage.
        stage: String,
    },
    /// The move would skip stages.
    #[error("cannot move from `{from}` to `{to}` without passing through `{}`", next.as_deref().unwrap_or("the last stage"))]
    Skips {
        /// Current stage.
        from: String,
        /// Target stage.
        to: String,
        /// The stage that must come next.
        next: Option<String>,
    },
    /// The deal is closed; it can only be reopened into an open stage.
    #[error("the deal is closed in `{stage}`")]
    AlreadyClosed {
        /// The outcome stage.
        stage: String,
    },
    /// An opportunity cannot go back to being a lead.
    #[error("`{stage}` is the lead stage; opportunities cannot enter it")]
    LeadStage {
        /// The lead stage.
        stage: String,
    },
    /// The process has no open stage for an opportunity to start in.
    #[error("the process has no stage an opportunity can start in")]
    NoOpeningStage,
    /// Required fields of the target stage are not filled.
    #[error("`{stage}` needs: {}", missing.iter().map(|m| m.label.as_str()).collect::<Vec<_>>().join(", "))]
    MissingFields {
        /// The target stage.
        stage: String,
        /// What is missing, in form order.
        missing: Vec<MissingField>,
    },
    /// Moving back or closing needs a reason.
    #[error("a reason is required to {} a deal", if *kind == MoveKind::Close { "close" } else { "move back" })]
    ReasonRequired {
        /// The move that needs it.
        kind: MoveKind,
    },
}

/// The stage an opportunity starts in: the first open stage after the lead stage.
pub fn opening_stage(stages: &[StageRule]) -> Option<&StageRule> {
    ordered_open_stages(stages)
        .into_iter()
        .find(|s| !s.lead_stage)
}

/// The first history entry of a new opportunity, if its opening stage's fields are filled.
pub fn open_opportunity(
    stages: &[StageRule],
    values: &FieldValues,
    by: RecordId,
    at: Timestamp,
) -> Result<StageChange, StageMoveRefused> {
    let stage = opening_stage(stages)
        .ok_or_else(|| StageMoveRefused::UnknownStage { key: String::new() })?;
    let missing = missing_fields(&stage.fields, values);
    if !missing.is_empty() {
        return Err(StageMoveRefused::MissingFields {
            stage: stage.key.clone(),
            missing,
        });
    }
    Ok(StageChange {
        from: None,
        to: stage.key.clone(),
        kind: MoveKind::Open,
        at,
        by,
        reason: None,
    })
}

/// Checks a deal's move from `current` and produces its history entry.
///
/// A deal whose current stage no longer exists (an admin removed it) may move to any open
/// stage, with a reason: it is being put back on the chain.
pub fn check_stage_move(
    stages: &[StageRule],
    current: &str,
    values: &FieldValues,
    request: &StageMoveRequest<'_>,
) -> Result<StageMove, StageMoveRefused> {
    let target = stages.iter().find(|s| s.key == request.to).ok_or_else(|| {
        StageMoveRefused::UnknownStage {
            key: request.to.to_string(),
        }
    })?;
    if target.key == current {
        return Err(StageMoveRefused::AlreadyThere {
            stage: current.to_string(),
        });
    }
    if target.lead_stage {
        return Err(StageMoveRefused::LeadStage {
            stage: target.key.clone(),
        });
    }
    let chain = ordered_open_stages(stages);
    let pos = |key: &str| chain.iter().position(|s| s.key == key);
    let from = stages.iter().find(|s| s.key == current);
    let skips = |next: Option<&StageRule>| StageMoveRefused::Skips {
        from: current.to_string(),
        to: target.key.clone(),
        next: next.map(|s| s.key.clone()),
    };

    let kind = match (from, target.is_terminal()) {
        (None, false) => MoveKind::Back,
        (None, true) => return Err(skips(chain.last().copied())),
        (Some(f), true) if f.is_terminal() => {
            return Err(StageMoveRefused::AlreadyClosed {
                stage: f.key.clone(),
            });
        }
        (Some(f), false) if f.is_terminal() => MoveKind::Back,
        (Some(f), true) => {
            let last = chain.last().copied();
            if target.enter_from_any_stage || last.is_some_and(|l| l.key == f.key) {
                MoveKind::Close
            } else {
                let next = pos(&f.key).and_then(|i| chain.get(i + 1).copied());
                return Err(skips(next));
            }
        }
        (Some(f), false) => match (pos(&f.key), pos(&target.key)) {
            (Some(fi), Some(ti)) if ti == fi + 1 => MoveKind::Forward,
            (Some(fi), Some(ti)) if ti < fi => MoveKind::Back,
            (Some(fi), _) => return Err(skips(chain.get(fi + 1).copied())),
            (None, _) => MoveKind::Back,
        },
    };

    let missing = missing_fields(&target.fields, values);
    if !missing.is_empty() {
        return Err(StageMoveRefused::MissingFields {
            stage: target.key.clone(),
            missing,
        });
    }
    let reason = request.reason.map(str::trim).filter(|r| !r.is_empty());
    if matches!(kind, MoveKind::Back | MoveKind::Close) && reason.is_none() {
        return Err(StageMoveRefused::ReasonRequired { kind });
    }
    let approvals = if kind == MoveKind::Back {
        Vec::new()
    } else {
        target
            .steps
            .iter()
            .filter_map(|s| {
                s.approver_role.as_ref().map(|role| StepApproval {
                    step: s.name.clone(),
                    role: role.clone(),
                })
            })
            .collect()
    };
    Ok(StageMove {
        change: StageChange {
            from: Some(current.to_string()),
            to: target.key.clone(),
            kind,
            at: request.at,
            by: request.by,
            reason: reason.map(str::to_string),
        },
        approvals,
    })
}

/// How long a deal has been in its stage, and who hears about it.
#[derive(Debug, Clone)]
pub struct StageClock<'a> {
    /// The deal's stage.
    pub stage: &'a str,
    /// When it entered the stage.
    pub entered_at: Timestamp,
    /// The deal's owner.
    pub owner: RecordId,
    /// The owner's manager, if the org tree has one.
    pub manager: Option<RecordId>,
    /// When the last overdue reminder went out.
    pub last_reminder_at: Option<Timestamp>,
}

/// A deal past its stage's longest duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOverdue {
    /// The stage.
    pub stage: String,
    /// When its time ran out.
    pub due_at: Timestamp,
    /// How long ago, in milliseconds.
    pub overdue_ms: i64,
    /// The owner, then the manager.
    pub recipients: Vec<RecordId>,
    /// Whether a reminder should go out now (none yet, or the repeat interval has passed).
    pub remind_now: bool,
    /// The stage's repeat interval, in hours (0: once).
    pub reminder_every_hours: u32,
}

/// Whether a deal has used up its stage's time: overdue from the instant the time runs out.
pub fn stage_overdue(
    stages: &[StageRule],
    clock: &StageClock<'_>,
    now: Timestamp,
) -> Option<StageOverdue> {
    let stage = stages.iter().find(|s| s.key == clock.stage)?;
    let days = stage.max_days?;
    let due_at = clock.entered_at.plus_millis(i64::from(days) * DAY_MS);
    if now < due_at || stage.is_terminal() {
        return None;
    }
    let remind_now = match clock.last_reminder_at {
        None => true,
        // A reminder from before this stay ran out, or one dated in the future (a device's
        // clock, or a modified phone silencing its manager), is no reminder of this overdue.
        Some(last) if last < due_at || last > now => true,
        Some(last) => {
            stage.reminder_every_hours > 0
                && now.millis_since(last) >= i64::from(stage.reminder_every_hours) * HOUR_MS
        }
    };
    let mut recipients = vec![clock.owner];
    if let Some(m) = clock.manager.filter(|m| *m != clock.owner) {
        recipients.push(m);
    }
    Some(StageOverdue {
        stage: stage.key.clone(),
        due_at,
        overdue_ms: now.millis_since(due_at),
        recipients,
        remind_now,
        reminder_every_hours: stage.reminder_every_hours,
    })
}

/// When an undone step of the stage entered at `entered_at` became overdue, if it has.
pub fn step_overdue(
    step: &StageStep,
    entered_at: Timestamp,
    done: bool,
    now: Timestamp,
) -> Option<Timestamp> {
    let due = entered_at.plus_millis(i64::from(step.overdue_after_hours?) * HOUR_MS);
    (!done && now >= due).then_some(due)
}

/// A deal's amount weighted by its stage's win probability, for the forecast.
pub fn weighted_amount(stages: &[StageRule], stage: &str, amount: Money) -> Option<Money> {
    stages
        .iter()
        .find(|s| s.key == stage)
        .map(|s| amount.apply_rate(s.win_probability))
}
