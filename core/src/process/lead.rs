//! Leads and the public pool (公海).
//!
//! A lead nobody follows up is a lead lost twice: the customer waits and no colleague may call.
//! So a lead idle for the configured days goes back to the pool, where any rep may claim it,
//! within a cap on how many open leads one rep may hold, and not straight back by the rep who
//! let it go (otherwise letting a lead lapse and re-claiming it would reset its clock forever).

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::string_enum;
use crate::time::Timestamp;

use super::validate::{ConfigSection, FieldPath, Known, Problems};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How leads are reclaimed and claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(deny_unknown_fields, default)]
pub struct LeadRules {
    /// Days without a follow-up after which a lead returns to the pool (source rule: 2 weeks).
    pub reclaim_after_days: u32,
    /// The most open leads one rep may hold; claiming and auto-assignment stop there.
    pub max_open_leads_per_rep: u32,
    /// Days a rep must wait before claiming again a lead they returned or lost to the pool.
    pub reclaim_wait_days: u32,
}

impl Default for LeadRules {
    fn default() -> Self {
        LeadRules {
            reclaim_after_days: 14,
            max_open_leads_per_rep: 50,
            reclaim_wait_days: 7,
        }
    }
}

impl ConfigSection for LeadRules {
    fn validate(&self, at: &FieldPath, _known: &Known, out: &mut Problems) {
        out.positive(self.reclaim_after_days, at.key("reclaim_after_days"));
        out.positive(
            self.max_open_leads_per_rep,
            at.key("max_open_leads_per_rep"),
        );
    }
}

/// What the pool rules need to know about one lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadFacts {
    /// The rep holding it; `None` while it is in the pool.
    pub owner: Option<RecordId>,
    /// When the current owner got it.
    pub assigned_at: Option<Timestamp>,
    /// The owner's latest follow-up.
    pub last_follow_up_at: Option<Timestamp>,
    /// Converted to a customer and an opportunity: no longer in the pool's game.
    pub converted: bool,
}

/// A lead that must go back to the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReclaimDue {
    /// The rep losing it.
    pub owner: RecordId,
    /// The last follow-up, or the assignment when there was none.
    pub idle_since: Timestamp,
    /// When it became due.
    pub due_at: Timestamp,
}

/// Whether a held lead is due for reclaim: its last follow-up (or its assignment, if it has
/// none) is at least `reclaim_after_days` ago. 13 days 23 hours stays; 14 days goes.
pub fn reclaim_due(lead: &LeadFacts, rules: &LeadRules, now: Timestamp) -> Option<ReclaimDue> {
    if lead.converted {
        return None;
    }
    let owner = lead.owner?;
    let idle_since = match (lead.last_follow_up_at, lead.assigned_at) {
        (Some(f), Some(a)) => f.max(a),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return None,
    };
    let due_at = idle_since.plus_millis(i64::from(rules.reclaim_after_days) * DAY_MS);
    (now >= due_at).then_some(ReclaimDue {
        owner,
        idle_since,
        due_at,
    })
}

string_enum! {
    /// How a lead left a rep.
    pub enum ReleaseCause {
        /// The rep gave it back.
        Returned = "returned",
        /// The pool took it back for lack of follow-up.
        Reclaimed = "reclaimed",
    }
}

/// A lead leaving a rep, kept on the lead so the waiting period can be enforced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct LeadRelease {
    /// The rep it left.
    pub rep: RecordId,
    /// When.
    pub at: Timestamp,
    /// How.
    pub cause: ReleaseCause,
}

/// Why a rep may not claim a lead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefused {
    /// Someone holds it already.
    #[error("the lead is held by another rep")]
    NotInPool {
        /// Its holder.
        owner: RecordId,
    },
    /// It was converted.
    #[error("the lead has been converted")]
    Converted,
    /// The rep holds as many open leads as allowed.
    #[error("you hold {open} open leads; the limit is {limit}")]
    LimitReached {
        /// The limit.
        limit: u32,
        /// What the rep holds.
        open: u32,
    },
    /// The rep let this lead go too recently.
    #[error("you released this lead recently; you may claim it again from {until}")]
    WaitingPeriod {
        /// When the rep may claim it again.
        until: Timestamp,
    },
}

/// Checks a rep's claim on a lead from the pool.
pub fn check_claim(
    lead: &LeadFacts,
    releases: &[LeadRelease],
    claimant: RecordId,
    claimant_open_leads: u32,
    rules: &LeadRules,
    now: Timestamp,
) -> Result<(), ClaimRefused> {
    if lead.converted {
        return Err(ClaimRefused::Converted);
    }
    if let Some(owner) = lead.owner {
        return Err(ClaimRefused::NotInPool { owner });
    }
    if claimant_open_leads >= rules.max_open_leads_per_rep {
        return Err(ClaimRefused::LimitReached {
            limit: rules.max_open_leads_per_rep,
            open: claimant_open_leads,
        });
    }
    let last_release = releases
        .iter()
        .filter(|r| r.rep == claimant)
        .map(|r| r.at)
        .max();
    if let Some(at) = last_release {
        let until = at.plus_millis(i64::from(rules.reclaim_wait_days) * DAY_MS);
        if now < until {
            return Err(ClaimRefused::WaitingPeriod { until });
        }
    }
    Ok(())
}

/// A rep's current load, for automatic assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepLoad {
    /// The rep.
    pub rep: RecordId,
    /// Open leads the rep holds.
    pub open_leads: u32,
}

/// The rep of the team who gets the next lead: the fewest open leads, below the cap; on a tie
/// the smallest id, so the phone and the server pick the same rep whatever order they list.
pub fn pick_assignee(team: &[RepLoad], rules: &LeadRules) -> Option<RecordId> {
    team.iter()
        .filter(|r| r.open_leads < rules.max_open_leads_per_rep)
        .min_by_key(|r| (r.open_leads, r.rep))
        .map(|r| r.rep)
}
