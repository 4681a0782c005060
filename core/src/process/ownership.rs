//! Who owns a company that several reps follow under different names.
//!
//! The usage rules settle it in a fixed order, and a rep who loses should be told which rule
//! decided: first the rep whose record carries the registered full name (工商注册全称), then
//! whoever logged the first follow-up, then whoever created the first opportunity. When even
//! that cannot tell (two records with the same instants), a manager decides; the rule says so
//! instead of guessing.

use crate::id::RecordId;
use crate::string_enum;
use crate::time::Timestamp;

string_enum! {
    /// The rule that decided an ownership conflict.
    pub enum OwnershipRule {
        /// Rule 1: the record carries the registered full name.
        RegisteredFullName = "registered_full_name",
        /// Rule 2: the first follow-up was logged on this record.
        FirstFollowUp = "first_follow_up",
        /// Rule 3: the first opportunity was created on this record.
        FirstOpportunity = "first_opportunity",
    }
}

/// One rep's record of the contested company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipClaim {
    /// The rep.
    pub rep: RecordId,
    /// The rep's customer record.
    pub customer: RecordId,
    /// The name on that record.
    pub recorded_name: String,
    /// The first follow-up logged on it.
    pub first_follow_up_at: Option<Timestamp>,
    /// The first opportunity created on it.
    pub first_opportunity_at: Option<Timestamp>,
}

/// Who owns the company, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipVerdict {
    /// The winning rep.
    pub owner: RecordId,
    /// The winning record, into which the others are merged or shared.
    pub customer: RecordId,
    /// The rule that decided.
    pub rule: OwnershipRule,
}

/// Why no owner can be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnershipUndecided {
    /// Fewer than two claims: there is no conflict.
    #[error("there is no conflict to decide")]
    NoConflict,
    /// The three rules leave several reps level; a manager must decide.
    #[error("the rules cannot separate {} reps; a manager must decide", tied.len())]
    Tied {
        /// The reps still level.
        tied: Vec<RecordId>,
    },
}

/// Applies the three rules in order. Rules 2 and 3 only compare the claims still in the running,
/// so when two records both carry the registered name, the earlier follow-up among them wins.
pub fn resolve_ownership(
    registered_full_name: Option<&str>,
    claims: &[OwnershipClaim],
) -> Result<OwnershipVerdict, OwnershipUndecided> {
    if claims.len() < 2 {
        return Err(OwnershipUndecided::NoConflict);
    }
    let mut running: Vec<&OwnershipClaim> = claims.iter().collect();
    let mut rule = OwnershipRule::RegisteredFullName;
    if let Some(full) = registered_full_name
        .map(normalise_name)
        .filter(|n| !n.is_empty())
    {
        let carriers: Vec<&OwnershipClaim> = running
            .iter()
            .copied()
            .filter(|c| normalise_name(&c.recorded_name) == full)
            .collect();
        if !carriers.is_empty() {
            running = carriers;
        }
    }
    for (next_rule, instant) in [
        (
            OwnershipRule::FirstFollowUp,
            (|c: &OwnershipClaim| c.first_follow_up_at) as fn(&OwnershipClaim) -> Option<Timestamp>,
        ),
        (OwnershipRule::FirstOpportunity, |c: &OwnershipClaim| {
            c.first_opportunity_at
        }),
    ] {
        if single_rep(&running) {
            break;
        }
        rule = next_rule;
        if let Some(first) = running.iter().filter_map(|c| instant(c)).min() {
            running.retain(|c| instant(c) == Some(first));
        }
    }
    if single_rep(&running) {
        let winner = running[0];
        return Ok(OwnershipVerdict {
            owner: winner.rep,
            customer: winner.customer,
            rule,
        });
    }
    let mut tied: Vec<RecordId> = running.iter().map(|c| c.rep).collect();
    tied.sort();
    tied.dedup();
    Err(OwnershipUndecided::Tied { tied })
}

/// Whether all remaining claims belong to one rep (a rep may hold two records of the company).
fn single_rep(running: &[&OwnershipClaim]) -> bool {
    running
        .first()
        .is_some_and(|f| running.iter().all(|c| c.rep == f.rep))
}

/// A company name reduced for comparison with the registered name: full-width forms folded
/// to half-width, spaces dropped, Latin letters in lower case. Suffixes such as 有限公司 are
/// kept: the registered name is the whole name, and a record without the suffix does not
/// carry it.
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}
