//! The server's review of a pushed follow-up: its time is judged against the server's
//! receipt. The first follow-up decides who owns a company several reps claim, so a
//! follow-up backdated to win that dispute is refused: it may be at most the configured
//! window older than its receipt (an honest phone offline for a day or two syncs well within
//! it), not in the future beyond the clock tolerance, and its time never changes afterwards.

use super::{Context, Outcome, Rejection};
use crate::record::FollowUp;
use crate::rule::RuleCode;

const HOUR_MS: i64 = 3_600_000;

/// Reviews a pushed follow-up.
pub fn review_follow_up(
    ctx: &Context<'_>,
    before: Option<&FollowUp>,
    after: &FollowUp,
) -> Result<Outcome, Rejection> {
    if let Some(before) = before {
        if before.occurred_at != after.occurred_at || before.subject != after.subject {
            return Err(Rejection::new(
                RuleCode::ImmutableFollowUp,
                "a follow-up's time and subject never change once recorded",
            )
            .at("occurred_at"));
        }
        return Ok(Outcome::Accept);
    }
    let window = i64::from(ctx.process.customers.follow_up_backdate_hours) * HOUR_MS;
    let tolerance = i64::from(ctx.process.fieldwork.device_clock.tolerance_seconds) * 1_000;
    let age = ctx.now.millis() - after.occurred_at.millis();
    if age > window {
        return Err(Rejection::new(
            RuleCode::FollowUpBackdated,
            format!(
                "a follow-up is recorded at most {} hours after it happened; this one is {} hours old",
                ctx.process.customers.follow_up_backdate_hours,
                age / HOUR_MS
            ),
        )
        .at("occurred_at"));
    }
    if -age > tolerance {
        return Err(Rejection::new(
            RuleCode::FollowUpInFuture,
            "a follow-up cannot happen after it is received",
        )
        .at("occurred_at"));
    }
    Ok(Outcome::Accept)
}
