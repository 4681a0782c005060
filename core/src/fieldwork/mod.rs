//! The rules of field work: check-ins at customer sites, visit plans, daily reports.
//!
//! A rep's phone must judge a check-in in a basement with no signal, and the server must judge
//! the same check-in again when it arrives, because a device's word alone is never trusted. So
//! every rule here is a pure function of plain facts, the configured settings and `now`: it
//! reads no clock, no store and no network, and gives the same answer on both sides. The
//! values a judgement produces (verdicts, flags, positions, proposals) are stored inside the
//! visit and daily-report records, so they hydrate from Automerge and serialise with serde,
//! and enumerations are stored as strings that survive newer app versions.
//!
//! Suspicion is recorded with its numbers rather than turned into a refusal: a manager can
//! read "312 km/h from the previous check-out (at most 130 by any means over that time)" and
//! decide; only the configured hard geofence mode refuses on the spot. A check-in is judged on
//! its own fix ([`check_in`]), on the journey from where the rep was last seen ([`travel`]),
//! on its times against the device's clock, the server's receipt and the orders of recording
//! and upload ([`timeline`]), and on the rep's whole day ([`day`]). Flags are suspicions or
//! cautions ([`FlagKind::is_suspicion`]): a poor indoor fix is worth knowing, not an accusation.

pub mod calendar;
pub mod check_in;
pub mod clock;
pub mod day;
pub mod geofence;
pub mod plan;
pub mod proposal;
pub mod report;
pub mod settings;
pub mod timeline;
pub mod travel;

#[cfg(test)]
mod tests;

pub use calendar::{DayOff, DaySpan, Employment, WorkCalendar, WorkWeekday};
pub use check_in::{
    CheckFlag, CheckInError, CheckInFacts, CheckInJudgement, CheckInVerdict, CheckOutError,
    CheckOutFacts, CheckOutVerdict, DeviceIntegrity, DevicePosition, EarlierVisit, FlagKind,
    InvalidPosition, RefusalReason, judge_check_in, judge_check_out, trustworthy,
};
pub use clock::{ClockOffset, ClockOffsetError, credible_offset};
pub use day::{DayFix, day_flags};
pub use geofence::{FenceStatus, distance_m};
pub use plan::{ActualVisit, PlanLine, PlanOutcome, PlanVsActual, compare_plan};
pub use proposal::{LocationProposal, ProposalError, ProposalStatus};
pub use report::{
    FalseMark, ReportDay, ReportError, ReportFacts, ReportState, ReportSubmission, ReportVerdict,
    ReportWindow, SubmissionBasis, judge_report, report_day_status,
};
pub use settings::{
    ClockSettings, DailyReportSettings, DaySettings, FenceMode, FieldworkSettings,
    GeofenceSettings, InvalidSetting, InvalidSettings, Setting, SettingProblem, TimeOfDay,
    TravelSettings, VisitSettings,
};
pub use timeline::{BootMark, Receipt, Timeline, timeline_flags};
pub use travel::{Journey, Waypoint, reach_m, travel_flag};

crate::string_enum! {
    /// Who made a judgement.
    pub enum Judge {
        /// The rep's phone, at once and offline: what the rep sees.
        Device = "device",
        /// The server, on receipt: the judgement that counts.
        Server = "server",
    }
}
