//! Tasks and schedule entries (任务 / 日程).
//!
//! A task someone gives to another user is owned by the assignee and shared with the assigner;
//! the assignee accepts or rejects it.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, Index, InvalidRecord, Kind, RecordRef, check, impl_record};
use crate::{RecordId, Timestamp, string_enum};

string_enum! {
    /// A to-do or a calendar entry.
    pub enum TaskKind {
        /// Something to do by a due time.
        Task = "task",
        /// A calendar entry from start to end.
        Schedule = "schedule",
    }
}

string_enum! {
    /// Where a task stands.
    pub enum TaskStatus {
        /// Given by someone else, not answered yet.
        Proposed = "proposed",
        /// To do (own task, or accepted).
        Open = "open",
        /// Refused by the assignee, with a reason.
        Rejected = "rejected",
        /// Done.
        Completed = "completed",
        /// Withdrawn.
        Cancelled = "cancelled",
    }
}

fn default_task_kind() -> TaskKind {
    TaskKind::Task
}

/// A postponement.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Postponement {
    /// The due time before.
    pub from: Option<Timestamp>,
    /// The new due time.
    pub to: Timestamp,
    /// When it was postponed.
    pub at: Timestamp,
}

/// A task or schedule entry; `owner_id` is the assignee.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Task {
    /// Common fields.
    pub header: Header,
    /// Task or schedule entry. Stored as `task_kind`: the document root's `kind` key names the
    /// record kind.
    #[autosurgeon(rename = "task_kind", missing = "default_task_kind")]
    pub kind: TaskKind,
    /// Title.
    pub title: String,
    /// Details.
    #[autosurgeon(missing = "Text::default")]
    pub description: Text,
    /// Who gave it.
    pub assigner_id: RecordId,
    /// Due time (tasks).
    pub due_at: Option<Timestamp>,
    /// Start (schedule entries).
    pub start_at: Option<Timestamp>,
    /// End (schedule entries).
    pub end_at: Option<Timestamp>,
    /// When to remind the assignee.
    pub reminder_at: Option<Timestamp>,
    /// Where it stands.
    pub status: TaskStatus,
    /// The assignee's reason for rejecting.
    pub reject_reason: Option<String>,
    /// When it was completed.
    pub completed_at: Option<Timestamp>,
    /// Postponements, oldest first.
    #[autosurgeon(missing = "Vec::new")]
    pub postponements: Vec<Postponement>,
    /// The record the task is about.
    pub related: Option<RecordRef>,
}

impl Task {
    /// The instant that places the task on a day: due time, or start for schedule entries.
    pub fn when(&self) -> Option<Timestamp> {
        match self.kind {
            TaskKind::Schedule => self.start_at.or(self.due_at),
            _ => self.due_at.or(self.start_at),
        }
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::Task, "title", &self.title)?;
        if let (Some(s), Some(e)) = (self.start_at, self.end_at)
            && e < s
        {
            return Err(InvalidRecord::Invalid {
                kind: Kind::Task,
                field: "end_at",
                detail: "ends before it starts".into(),
            });
        }
        if self.kind == TaskKind::Schedule && self.start_at.is_none() {
            return Err(InvalidRecord::Missing {
                kind: Kind::Task,
                field: "start_at",
            });
        }
        if self.status == TaskStatus::Rejected
            && self
                .reject_reason
                .as_deref()
                .unwrap_or("")
                .trim()
                .is_empty()
        {
            return Err(InvalidRecord::Missing {
                kind: Kind::Task,
                field: "reject_reason",
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.title.clone(),
            status: Some(self.status.to_string()),
            occurred_at: self.when(),
            ..Index::default()
        }
    }
}
impl_record!(Task, Task);
