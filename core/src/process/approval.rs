//! Approval chains: which requests need approving, by whom, and when an approval is decided.
//!
//! Chains come from rules, not code: an admin says "contracts over 50,000 need the sales
//! manager, over 100,000 the manager and then the director". Steps run one after the other;
//! inside a step the listed roles approve either all of them or any one. Approvals are decided
//! offline on a manager's phone and synced, so two managers may decide the same step without
//! knowing of each other. The rule for that is simple and the same everywhere: decisions count
//! in the order the server accepts them; the first one that settles the approval wins, and any
//! later decision is refused with [`DecisionRefused::AlreadyDecided`] (the device is told and
//! shows the outcome that stands).

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::money::{BasisPoints, InvalidMoney, Money};
use crate::string_enum;
use crate::time::Timestamp;

use super::pricing::DiscountRules;
use super::stage::StepApproval;
use super::text::{money_text_opt, percent_opt};
use super::validate::{ConfigProblem, ConfigSection, FieldPath, Known, Problems};

string_enum! {
    /// How the roles of one step approve.
    pub enum StepMode {
        /// One approval from any listed role settles the step.
        AnyOf = "any_of",
        /// Each listed role must approve (one person per role).
        AllOf = "all_of",
    }
}

/// One step of a chain. Steps are serial; the roles inside a step work in parallel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct ApprovalStep {
    /// Roles that approve this step.
    pub roles: Vec<String>,
    /// Whether all roles or any one must approve.
    #[serde(default = "any_of")]
    pub mode: StepMode,
}

fn any_of() -> StepMode {
    StepMode::AnyOf
}

impl ApprovalStep {
    /// A step one role approves.
    pub fn single(role: &str) -> Self {
        ApprovalStep {
            roles: vec![role.to_string()],
            mode: StepMode::AnyOf,
        }
    }

    /// A parallel step.
    pub fn parallel(roles: &[&str], mode: StepMode) -> Self {
        ApprovalStep {
            roles: roles.iter().map(|r| (*r).to_string()).collect(),
            mode,
        }
    }

    fn same_as(&self, other: &ApprovalStep) -> bool {
        let mut a = self.roles.clone();
        let mut b = other.roles.clone();
        a.sort();
        b.sort();
        // With one role, "all of" and "any of" mean the same.
        a == b && (self.mode == other.mode || a.len() == 1)
    }
}

/// A rule: when a request matches every condition given, its steps join the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    /// What the rule is called, shown on the approval ("contract over 100,000").
    pub name: String,
    /// Record kinds it applies to (`order`, `opportunity`); empty for every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Applies when the amount is strictly above this.
    #[serde(
        default,
        with = "money_text_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount_over: Option<Money>,
    /// Applies when a line's discount is strictly above this.
    #[serde(default, with = "percent_opt", skip_serializing_if = "Option::is_none")]
    pub discount_over: Option<BasisPoints>,
    /// Applies when a line's discount is above what the requester's roles may give.
    #[serde(default, skip_serializing_if = "is_false")]
    pub discount_over_role_limit: bool,
    /// Applies when a deal enters this stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The steps, in order.
    pub steps: Vec<ApprovalStep>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The approval rules of the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRules {
    /// Every rule; all that match contribute steps.
    #[serde(default)]
    pub rules: Vec<ApprovalRule>,
}

impl ConfigSection for ApprovalRules {
    fn validate(&self, at: &FieldPath, known: &Known, out: &mut Problems) {
        for (i, rule) in self.rules.iter().enumerate() {
            let rp = at.key("rules").index(i);
            out.non_blank(&rule.name, rp.key("name"));
            let has_condition = !rule.kinds.is_empty()
                || rule.amount_over.is_some()
                || rule.discount_over.is_some()
                || rule.discount_over_role_limit
                || rule.stage.is_some();
            if !has_condition {
                out.push(rp.key("name"), ConfigProblem::RuleWithoutCondition);
            }
            if let Some(stage) = &rule.stage {
                known.check_stage(stage, rp.key("stage"), out);
            }
            if let Some(d) = rule.discount_over {
                out.at_most(d, super::validate::FULL, rp.key("discount_over"));
            }
            for (k, kind) in rule.kinds.iter().enumerate() {
                out.non_blank(kind, rp.key("kinds").index(k));
            }
            if rule.steps.is_empty() {
                out.push(rp.key("steps"), ConfigProblem::EmptyList);
            }
            for (j, step) in rule.steps.iter().enumerate() {
                let sp = rp.key("steps").index(j);
                if step.roles.is_empty() {
                    out.push(sp.key("roles"), ConfigProblem::EmptyList);
                }
                for (k, role) in step.roles.iter().enumerate() {
                    known.check_role(role, sp.key("roles").index(k), out);
                }
                out.unique_keys(
                    step.roles
                        .iter()
                        .enumerate()
                        .map(|(k, r)| (sp.key("roles").index(k), r.as_str())),
                );
            }
        }
        out.unique_keys(
            self.rules
                .iter()
                .enumerate()
                .map(|(i, r)| (at.key("rules").index(i).key("name"), r.name.as_str())),
        );
    }
}

/// What is asked for: the facts the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalSubject<'a> {
    /// The record kind (`order`, `opportunity`).
    pub kind: &'a str,
    /// Its amount, if it has one.
    pub amount: Option<Money>,
    /// The largest discount of any of its lines.
    pub max_discount: Option<BasisPoints>,
    /// The requester's roles.
    pub requester_roles: &'a [String],
    /// The stage a deal is entering, for a stage move.
    pub entering_stage: Option<&'a str>,
}

/// The chain a request must pass, with the rules that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ApprovalChain {
    /// The steps, in order.
    pub steps: Vec<ApprovalStep>,
    /// The names of the rules that matched (and of stage steps), for the approver to read.
    pub because: Vec<String>,
}

/// Builds the chain a request needs, or `None` when it needs no approval.
///
/// Every matching rule contributes its steps in rule order; a step equal to one already in the
/// chain is dropped, so "over 50,000 → manager" and "over 100,000 → manager, director" make
/// manager → director for 100,001. Approvals that the entered stage's steps ask for come last.
pub fn required_approval(
    rules: &ApprovalRules,
    discounts: &DiscountRules,
    subject: &ApprovalSubject<'_>,
    stage_approvals: &[StepApproval],
) -> Result<Option<ApprovalChain>, InvalidMoney> {
    let mut chain = ApprovalChain {
        steps: Vec::new(),
        because: Vec::new(),
    };
    let role_limit = discounts.limit_for(subject.requester_roles);
    for rule in &rules.rules {
        if !matches(rule, subject, role_limit)? {
            continue;
        }
        chain.because.push(rule.name.clone());
        push_steps(&mut chain.steps, &rule.steps);
    }
    for sa in stage_approvals {
        chain.because.push(sa.step.clone());
        push_steps(&mut chain.steps, &[ApprovalStep::single(&sa.role)]);
    }
    Ok((!chain.steps.is_empty()).then_some(chain))
}

fn push_steps(into: &mut Vec<ApprovalStep>, steps: &[ApprovalStep]) {
    for step in steps {
        if !into.iter().any(|s| s.same_as(step)) {
            into.push(step.clone());
        }
    }
}

fn matches(
    rule: &ApprovalRule,
    s: &ApprovalSubject<'_>,
    role_limit: BasisPoints,
) -> Result<bool, InvalidMoney> {
    if !rule.kinds.is_empty() && !rule.kinds.iter().any(|k| k == s.kind) {
        return Ok(false);
    }
    if let Some(threshold) = rule.amount_over {
        let Some(amount) = s.amount else {
            return Ok(false);
        };
        if amount.currency != threshold.currency {
            return Err(InvalidMoney::CurrencyMismatch(
                amount.currency,
                threshold.currency,
            ));
        }
        if amount.minor <= threshold.minor {
            return Ok(false);
        }
    }
    let discount = s.max_discount.unwrap_or_default();
    if rule.discount_over.is_some_and(|d| discount <= d) {
        return Ok(false);
    }
    if rule.discount_over_role_limit && discount <= role_limit {
        return Ok(false);
    }
    if let Some(stage) = &rule.stage
        && s.entering_stage != Some(stage.as_str())
    {
        return Ok(false);
    }
    Ok(true)
}

string_enum! {
    /// An approver's answer.
    pub enum Verdict {
        /// Approved.
        Approve = "approve",
        /// Rejected: the whole request is rejected.
        Reject = "reject",
    }
}

/// One decision on an approval, as stored on the approval record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ApprovalDecision {
    /// The step decided (0-based).
    pub step: u32,
    /// Who decided.
    pub by: RecordId,
    /// The role they decided in.
    pub role: String,
    /// The answer.
    pub verdict: Verdict,
    /// When (device time, checked by the server against its clock offset).
    pub at: Timestamp,
    /// The approver's note.
    pub comment: Option<String>,
}

/// Where an approval stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalStatus {
    /// Waiting on a step.
    Pending {
        /// The current step (0-based).
        step: usize,
        /// Roles whose approval the step still needs.
        waiting_for: Vec<String>,
    },
    /// Every step approved.
    Approved,
    /// Rejected at a step.
    Rejected {
        /// The step.
        step: usize,
        /// Who rejected.
        by: RecordId,
    },
}

impl ApprovalStatus {
    /// Whether the approval is settled.
    pub fn is_decided(&self) -> bool {
        !matches!(self, ApprovalStatus::Pending { .. })
    }
}

/// Why a decision is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    /// The requester may never approve their own request.
    #[error("you cannot decide your own request")]
    OwnRequest,
    /// The approval was settled by an earlier decision.
    #[error("this approval has already been decided")]
    AlreadyDecided {
        /// How it was settled.
        status: ApprovalStatus,
    },
    /// The decider holds none of the roles the current step waits for.
    #[error("this step waits for {}; you hold none of these roles", waiting_for.join(", "))]
    NotAnApprover {
        /// The roles the step waits for.
        waiting_for: Vec<String>,
    },
    /// The decision is for another step than the current one.
    #[error("the approval is at step {current}, not {given}")]
    NotCurrentStep {
        /// The current step.
        current: usize,
        /// The step the decision names.
        given: u32,
    },
    /// The decider already decided this step.
    #[error("you have already decided this step")]
    AlreadyDecidedByYou,
}

/// Someone deciding: who, and the roles they hold.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a> {
    /// The user.
    pub user: RecordId,
    /// Their roles.
    pub roles: &'a [String],
}

/// An approval as stored: who asked, the chain, and the decisions so far in stored order.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalState<'a> {
    /// Who asked; never an approver of this request.
    pub requester: RecordId,
    /// The chain built when the request was made.
    pub chain: &'a ApprovalChain,
    /// Decisions in the order the server accepted them.
    pub decisions: &'a [ApprovalDecision],
}

impl ApprovalState<'_> {
    /// The status after the decisions, counted in stored order. A decision the rules would have
    /// refused at its point (a second decision merged from another device after the approval
    /// was settled) does not count; it is returned with its reason so the server can report it.
    pub fn evaluate(&self) -> (ApprovalStatus, Vec<(usize, DecisionRefused)>) {
        let (counted, refused) = self.count();
        (status_of(self.chain, &counted), refused)
    }

    /// Where the approval stands.
    pub fn status(&self) -> ApprovalStatus {
        self.evaluate().0
    }

    /// Checks a new decision and returns the entry to append.
    pub fn decide(
        &self,
        decider: &Decider<'_>,
        step: u32,
        verdict: Verdict,
        comment: Option<&str>,
        at: Timestamp,
    ) -> Result<ApprovalDecision, DecisionRefused> {
        let (counted, _) = self.count();
        let role = admit(self.requester, self.chain, &counted, decider, step)?;
        Ok(ApprovalDecision {
            step,
            by: decider.user,
            role,
            verdict,
            at,
            comment: comment
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        })
    }

    fn count(&self) -> (Vec<ApprovalDecision>, Vec<(usize, DecisionRefused)>) {
        let mut counted: Vec<ApprovalDecision> = Vec::new();
        let mut refused = Vec::new();
        for (i, d) in self.decisions.iter().enumerate() {
            let roles = [d.role.clone()];
            let decider = Decider {
                user: d.by,
                roles: &roles,
            };
            match admit(self.requester, self.chain, &counted, &decider, d.step) {
                Ok(_) => counted.push(d.clone()),
                Err(e) => refused.push((i, e)),
            }
        }
        (counted, refused)
    }
}

/// Whether `decider` may decide `step` now; returns the role they decide in.
fn admit(
    requester: RecordId,
    chain: &ApprovalChain,
    counted: &[ApprovalDecision],
    decider: &Decider<'_>,
    step: u32,
) -> Result<String, DecisionRefused> {
    if decider.user == requester {
        return Err(DecisionRefused::OwnRequest);
    }
    let status = status_of(chain, counted);
    let ApprovalStatus::Pending {
        step: current,
        waiting_for,
    } = status
    else {
        return Err(DecisionRefused::AlreadyDecided { status });
    };
    if usize::try_from(step).ok() != Some(current) {
        return Err(DecisionRefused::NotCurrentStep {
            current,
            given: step,
        });
    }
    if counted
        .iter()
        .any(|d| d.step == step && d.by == decider.user)
    {
        return Err(DecisionRefused::AlreadyDecidedByYou);
    }
    waiting_for
        .iter()
        .find(|r| decider.roles.contains(r))
        .cloned()
        .ok_or(DecisionRefused::NotAnApprover { waiting_for })
}

/// The status given decisions already known to be admissible.
fn status_of(chain: &ApprovalChain, counted: &[ApprovalDecision]) -> ApprovalStatus {
    for (i, step) in chain.steps.iter().enumerate() {
        let here: Vec<&ApprovalDecision> = counted
            .iter()
            .filter(|d| usize::try_from(d.step).ok() == Some(i))
            .collect();
        if let Some(r) = here.iter().find(|d| d.verdict == Verdict::Reject) {
            return ApprovalStatus::Rejected { step: i, by: r.by };
        }
        let approved_roles: Vec<&str> = here.iter().map(|d| d.role.as_str()).collect();
        let done = match step.mode {
            StepMode::AllOf => step
                .roles
                .iter()
                .all(|r| approved_roles.contains(&r.as_str())),
            // Any of, and a mode from a newer version: one approval settles the step.
            _ => !here.is_empty(),
        };
        if !done {
            let waiting_for = match step.mode {
                StepMode::AllOf => step
                    .roles
                    .iter()
                    .filter(|r| !approved_roles.contains(&r.as_str()))
                    .cloned()
                    .collect(),
                _ => step.roles.clone(),
            };
            return ApprovalStatus::Pending {
                step: i,
                waiting_for,
            };
        }
    }
    ApprovalStatus::Approved
}
