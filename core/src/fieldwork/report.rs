//! Whether a daily report came in on time, late, not at all, or false.
//!
//! The deadline is a wall-clock time in the rep's own zone, so it moves with daylight saving
//! and with the rep. A report written offline counts from the moment the rep submitted it, but
//! only if the device's clock was credible when it reached the server; otherwise the moment
//! the server received it decides. A report is on time strictly *before* the deadline: at
//! 18:00:00.000 it is late.
//!
//! A day with no report is open until the deadline, overdue until the missing cut-off (by
//! default the following midnight), and missing after it. A report that arrives after the
//! cut-off still counts as missing: filing days later must not turn a missing report into a
//! cheaper late one.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::money::Money;
use crate::string_enum;
use crate::time::{LocalDate, Timestamp, Zone};

use super::Judge;
use super::calendar::DayOff;
use super::clock::{ClockOffset, credible_offset};
use super::settings::{ClockSettings, DailyReportSettings};

string_enum! {
    /// How a daily report complied with the deadline.
    pub enum ReportState {
        /// Submitted before the deadline.
        OnTime = "on_time",
        /// Submitted after the deadline but before it became missing.
        Late = "late",
        /// Not submitted before the missing cut-off.
        Missing = "missing",
        /// A manager found it false.
        False = "false",
        /// Submitted on a device whose clock is not credible, and not yet received by the
        /// server: only the server's receipt time can decide.
        AwaitingReceipt = "awaiting_receipt",
    }
}

string_enum! {
    /// Which clock decided a report's submission time.
    pub enum SubmissionBasis {
        /// The device's clock, corrected by its credible offset.
        DeviceClock = "device_clock",
        /// The server's receipt time.
        ServerReceipt = "server_receipt",
        /// No submission time could be used (no report, or none that can be judged yet).
        Unavailable = "unavailable",
    }
}

/// A report's submission, as far as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSubmission {
    /// When the rep submitted it, on the device's clock.
    pub submitted_at: Timestamp,
    /// When the server received it; `None` on the phone before it synced.
    pub received_at: Option<Timestamp>,
    /// The device's clock offset measured when the report was delivered (on the server), or
    /// the latest one known (on the phone).
    pub device_clock: Option<ClockOffset>,
}

/// A manager's finding that a report is false.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct FalseMark {
    /// The manager.
    pub by: RecordId,
    /// When they marked it.
    pub at: Timestamp,
    /// What was false.
    pub reason: String,
}

/// The longest false-report reason kept, in characters.
pub const MAX_FALSE_REASON_CHARS: usize = 1000;

impl FalseMark {
    /// A checked finding: the reason must say something.
    pub fn new(by: RecordId, at: Timestamp, reason: &str) -> Result<Self, ReportError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ReportError::EmptyFalseReason);
        }
        let chars = reason.chars().count();
        if chars > MAX_FALSE_REASON_CHARS {
            return Err(ReportError::FalseReasonTooLong { chars });
        }
        Ok(FalseMark {
            by,
            at,
            reason: reason.to_string(),
        })
    }
}

/// Everything a submitted report is judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFacts {
    /// The day the report is for, in the rep's zone.
    pub date: LocalDate,
    /// The rep's zone.
    pub zone: Zone,
    /// The submission.
    pub submission: ReportSubmission,
    /// A manager's finding that it is false.
    pub false_mark: Option<FalseMark>,
    /// Why the rep owed no report that day ([`super::WorkCalendar::day_off`]), if so: a
    /// report filed anyway is judged, but costs no penalty for lateness.
    pub day_off: Option<DayOff>,
}

/// The judgement stored with a daily report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ReportVerdict {
    /// On time, late, missing, false, or awaiting receipt.
    pub state: ReportState,
    /// Which clock decided.
    pub basis: SubmissionBasis,
    /// The submission time that was judged, on the server's clock.
    #[autosurgeon(missing = "Option::default")]
    pub effective_submitted_at: Option<Timestamp>,
    /// The deadline that applied.
    pub deadline: Timestamp,
    /// The penalty owed (zero when none).
    pub penalty: Money,
    /// The day was a day off for the rep (no report owed, no lateness fined).
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub day_off: Option<DayOff>,
    /// Who judged.
    pub judged_by: Judge,
    /// When, on the judge's clock.
    pub judged_at: Timestamp,
}

/// A report that cannot be judged as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The submission time lies before the report's own day began.
    #[error("a report for {date} cannot be submitted at {submitted_at}, before that day began")]
    SubmittedBeforeReportDay {
        /// The report's day.
        date: LocalDate,
        /// The submission time judged.
        submitted_at: Timestamp,
    },
    /// A false finding needs a reason.
    #[error("marking a report false needs a reason")]
    EmptyFalseReason,
    /// The reason is longer than kept.
    #[error("the reason has {chars} characters; at most {MAX_FALSE_REASON_CHARS} are kept")]
    FalseReasonTooLong {
        /// Its length.
        chars: usize,
    },
}

/// The deadline and missing cut-off of one rep's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportWindow {
    /// The day's first instant.
    pub day_start: Timestamp,
    /// Before this, a report is on time.
    pub deadline: Timestamp,
    /// From this on, a day without a report has a missing report.
    pub missing_at: Timestamp,
}

impl ReportWindow {
    /// The window of `date` in `zone`, daylight saving included.
    pub fn of(date: LocalDate, zone: &Zone, settings: &DailyReportSettings) -> Self {
        let mut cutoff_day = date;
        for _ in 0..settings.missing_after_days {
            cutoff_day = cutoff_day.succ();
        }
        let deadline = date.at(settings.deadline.naive(), zone);
        ReportWindow {
            day_start: date.start(zone),
            deadline,
            missing_at: cutoff_day
                .at(settings.missing_after_time.naive(), zone)
                .max(deadline),
        }
    }
}

/// Where a rep's day stands when no report has come in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportDay {
    /// A report filed now is on time.
    Open {
        /// Before this.
        deadline: Timestamp,
    },
    /// The deadline has passed; a report filed now is late.
    Overdue {
        /// The deadline that passed.
        deadline: Timestamp,
        /// When the report becomes missing.
        missing_at: Timestamp,
    },
    /// The day passed with no report.
    Missing(ReportVerdict),
    /// Nobody owed a report for the day: a weekend, a holiday, leave, before starting or
    /// after leaving.
    DayOff(DayOff),
}

/// Judges a submitted report.
pub fn judge_report(
    facts: &ReportFacts,
    settings: &DailyReportSettings,
    clock: &ClockSettings,
    now: Timestamp,
    judged_by: Judge,
) -> Result<ReportVerdict, ReportError> {
    let window = ReportWindow::of(facts.date, &facts.zone, settings);
    let sub = &facts.submission;
    let (basis, effective) = submission_time(sub, clock, now);

    if let Some(at) = effective
        && at < window.day_start
    {
        return Err(ReportError::SubmittedBeforeReportDay {
            date: facts.date,
            submitted_at: at,
        });
    }

    let state = if facts.false_mark.is_some() {
        ReportState::False
    } else {
        match effective {
            None => ReportState::AwaitingReceipt,
            Some(at) if at < window.deadline => ReportState::OnTime,
            Some(at) if at < window.missing_at => ReportState::Late,
            Some(_) => ReportState::Missing,
        }
    };
    let penalty = match (&facts.day_off, &state) {
        (Some(_), ReportState::Late | ReportState::Missing) => settings.penalty(0),
        _ => penalty(&state, settings),
    };
    Ok(ReportVerdict {
        penalty,
        day_off: facts.day_off.clone(),
        state,
        basis,
        effective_submitted_at: effective,
        deadline: window.deadline,
        judged_by,
        judged_at: now,
    })
}

/// Where `date` stands for a rep in `zone` who has filed no report by `now`; `day_off` says
/// why they owed none, if so ([`super::WorkCalendar::day_off`]).
pub fn report_day_status(
    date: LocalDate,
    zone: &Zone,
    day_off: Option<DayOff>,
    settings: &DailyReportSettings,
    now: Timestamp,
    judged_by: Judge,
) -> ReportDay {
    if let Some(off) = day_off {
        return ReportDay::DayOff(off);
    }
    let window = ReportWindow::of(date, zone, settings);
    if now < window.deadline {
        ReportDay::Open {
            deadline: window.deadline,
        }
    } else if now < window.missing_at {
        ReportDay::Overdue {
            deadline: window.deadline,
            missing_at: window.missing_at,
        }
    } else {
        ReportDay::Missing(ReportVerdict {
            state: ReportState::Missing,
            basis: SubmissionBasis::Unavailable,
            effective_submitted_at: None,
            deadline: window.deadline,
            penalty: settings.penalty(settings.missing_penalty),
            day_off: None,
            judged_by,
            judged_at: now,
        })
    }
}

/// The submission time to judge, on the server's clock, and which clock gave it.
///
/// The device's time is used only when its offset is credible and the corrected time is not
/// later than the moment the report is known to exist (its receipt, or `now` on the phone).
fn submission_time(
    sub: &ReportSubmission,
    clock: &ClockSettings,
    now: Timestamp,
) -> (SubmissionBasis, Option<Timestamp>) {
    let known_by = sub.received_at.unwrap_or(now);
    let from_device = credible_offset(sub.device_clock.as_ref(), clock)
        .map(|o| o.to_server_time(sub.submitted_at))
        .filter(|t| *t <= known_by.plus_millis(clock.tolerance_ms()));
    match (from_device, sub.received_at) {
        (Some(t), _) => (SubmissionBasis::DeviceClock, Some(t)),
        (None, Some(received)) => (SubmissionBasis::ServerReceipt, Some(received)),
        (None, None) => (SubmissionBasis::Unavailable, None),
    }
}

fn penalty(state: &ReportState, settings: &DailyReportSettings) -> Money {
    let units = match state {
        ReportState::Late => settings.late_penalty,
        ReportState::Missing => settings.missing_penalty,
        ReportState::False => settings.false_penalty,
        ReportState::OnTime | ReportState::AwaitingReceipt | ReportState::Other(_) => 0,
    };
    settings.penalty(units)
}
