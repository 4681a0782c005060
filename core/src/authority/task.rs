//! The server's review of a pushed task or schedule entry: the one who gave it (the
//! assigner) decides what it is — title, details, times, reminder, what it is about — and the
//! one it was given to (the assignee, its owner) answers it — accepts, rejects with a reason,
//! completes, postpones. Nobody else changes either, whatever their role lets them see.

use super::{Context, Outcome, Rejection};
use crate::record::Task;
use crate::rule::RuleCode;

/// The task with its answer (status, reason, completion, postponements) taken from `from`.
fn answered_as(task: &Task, from: &Task) -> Task {
    let mut t = task.clone();
    t.status = from.status.clone();
    t.reject_reason = from.reject_reason.clone();
    t.completed_at = from.completed_at;
    t.postponements = from.postponements.clone();
    // A postponement moves the due time with it.
    t.due_at = from.due_at;
    t.header = from.header.clone();
    t
}

/// Reviews a pushed task.
pub fn review_task(
    ctx: &Context<'_>,
    before: Option<&Task>,
    after: &Task,
) -> Result<Outcome, Rejection> {
    let me = ctx.author.user_id;
    let Some(before) = before else {
        if after.assigner_id != me {
            return Err(Rejection::new(
                RuleCode::TaskAssignerOnly,
                "a task is given by the user who pushes it",
            )
            .at("assigner_id"));
        }
        return Ok(Outcome::Accept);
    };
    if after.assigner_id != before.assigner_id {
        return Err(
            Rejection::new(RuleCode::ImmutableHeader, "who gave a task never changes")
                .at("assigner_id"),
        );
    }
    let assignee = before.header.owner_id;
    // What it is: everything but the answer.
    if answered_as(after, before) != answered_as(before, before) && me != before.assigner_id {
        return Err(Rejection::new(
            RuleCode::TaskAssignerOnly,
            "only the one who gave the task changes what it is",
        ));
    }
    // The answer.
    let postponed = after.postponements.len() != before.postponements.len();
    let answered = after.status != before.status
        || after.reject_reason != before.reject_reason
        || after.completed_at != before.completed_at
        || postponed;
    if answered && Some(me) != assignee {
        return Err(Rejection::new(
            RuleCode::TaskAssigneeOnly,
            "only the one the task was given to answers it",
        )
        .at("status"));
    }
    Ok(Outcome::Accept)
}
