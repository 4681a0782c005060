//! The server's review of a pushed target: a target is set by someone above its subject —
//! a manager for the reps of their team, a director for the teams of their region — with the
//! right to set targets, and nobody sets or changes their own (a rep lowering their own
//! target would earn the attainment bonus).

use super::permission::{Grants, Vantage};
use super::{Context, Outcome, Rejection};
use crate::process::permissions::Right;
use crate::record::Target;
use crate::record::target::TargetSubject;
use crate::rule::RuleCode;

/// Reviews a pushed target (created, changed or deleted).
pub fn review_target(
    ctx: &Context<'_>,
    grants: &Grants,
    at: &Vantage<'_>,
    before: Option<&Target>,
    after: &Target,
) -> Result<Outcome, Rejection> {
    if before == Some(after) {
        return Ok(Outcome::Accept);
    }
    let me = ctx.author;
    for t in before.into_iter().chain(std::iter::once(after)) {
        let own = match t.subject {
            TargetSubject::Rep => t.subject_id == me.user_id,
            _ => t.subject_id == me.unit_id,
        };
        if own {
            return Err(Rejection::new(
                RuleCode::TargetOwn,
                "nobody sets or changes their own target",
            )
            .at("subject_id"));
        }
        if !grants.holds(at, &Right::SetTargets, &t.header) {
            return Err(Rejection::new(
                RuleCode::PermissionDenied,
                "only someone above the target's subject, with the right to set targets, sets it",
            )
            .at(Right::SetTargets.as_str()));
        }
    }
    Ok(Outcome::Accept)
}
