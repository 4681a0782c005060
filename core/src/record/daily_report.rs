//! Daily reports (工作日报): what a rep did, found and plans, filed before the deadline.
//!
//! The report sections are collaborative text: a rep may write on the phone and finish in the
//! browser. The submission instant is the device's, together with the device's clock offset
//! at that moment, so the server can judge whether a report written offline before the
//! deadline counts as on time.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{Header, IdSet, Index, InvalidRecord, Kind, impl_record};
use crate::{LocalDate, RecordId, Timestamp, Zone, string_enum};

string_enum! {
    /// Where a report stands in its life.
    pub enum ReportState {
        /// Being written.
        Draft = "draft",
        /// Submitted by the rep.
        Submitted = "submitted",
        /// Never filed: created by the server once the day passed.
        Missing = "missing",
    }
}

/// A manager's comment on a report.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ReportComment {
    /// Who wrote it.
    pub by: RecordId,
    /// When.
    pub at: Timestamp,
    /// What.
    pub text: String,
}

/// A rep's report for one local day; `owner_id` is the rep.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct DailyReport {
    /// Common fields.
    pub header: Header,
    /// The local day reported on.
    pub date: LocalDate,
    /// The rep's zone, in which the deadline applies.
    pub zone: Zone,
    /// What was done.
    pub summary: Text,
    /// Results obtained.
    pub results: Text,
    /// Problems met.
    pub problems: Text,
    /// The plan for tomorrow.
    pub plan_tomorrow: Text,
    /// Visits of the day the report covers.
    #[autosurgeon(missing = "Vec::new")]
    pub visit_ids: Vec<RecordId>,
    /// Follow-ups of the day.
    #[autosurgeon(missing = "Vec::new")]
    pub follow_up_ids: Vec<RecordId>,
    /// Tasks completed that day.
    #[autosurgeon(missing = "Vec::new")]
    pub task_ids: Vec<RecordId>,
    /// Where the report stands.
    pub state: ReportState,
    /// When the rep submitted (device time).
    pub submitted_at: Option<Timestamp>,
    /// The device's known offset to server time at submission, in ms (`None`: never synced).
    pub submitted_clock_offset_ms: Option<i64>,
    /// When the server first received the submitted report.
    pub received_at: Option<Timestamp>,
    /// Managers' comments.
    #[autosurgeon(missing = "Vec::new")]
    pub comments: Vec<ReportComment>,
    /// Managers who read it.
    #[autosurgeon(missing = "IdSet::new")]
    pub read_by: IdSet,
    /// Set by a manager who found the report false, with the reason.
    pub marked_false: Option<ReportComment>,
    /// Compliance with the deadline: the device's judgement at first, the server's once it
    /// reviewed.
    #[autosurgeon(missing = "Option::default")]
    pub verdict: Option<crate::fieldwork::ReportVerdict>,
}

impl DailyReport {
    fn check(&self) -> Result<(), InvalidRecord> {
        if self.state == ReportState::Submitted && self.submitted_at.is_none() {
            return Err(InvalidRecord::Missing {
                kind: Kind::DailyReport,
                field: "submitted_at",
            });
        }
        if let Some(f) = &self.marked_false
            && f.text.trim().is_empty()
        {
            return Err(InvalidRecord::Missing {
                kind: Kind::DailyReport,
                field: "marked_false.text",
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: format!("{}", self.date),
            status: Some(self.state.to_string()),
            occurred_at: self.submitted_at,
            local_date: Some(self.date),
            ..Index::default()
        }
    }
}
impl_record!(DailyReport, DailyReport);
