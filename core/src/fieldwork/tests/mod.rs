//! Field scenarios for the field-work rules, with builders so each test states only what
//! matters to it.

mod check_in;
mod plan;
mod properties;
mod report;
mod settings;
mod stored;

use super::*;
use crate::id::RecordId;
use crate::place::GeoPoint;
use crate::time::{LocalDate, Timestamp, Zone};

/// An instant written as RFC 3339.
pub(super) fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

pub(super) fn date(s: &str) -> LocalDate {
    s.parse().unwrap()
}

pub(super) fn zone(s: &str) -> Zone {
    s.parse().unwrap()
}

/// A customer's site in Shanghai's Pudong district.
pub(super) fn pudong_site() -> GeoPoint {
    GeoPoint::new(31.2222, 121.5447).unwrap()
}

/// A clock offset the server measured at `at`, `offset_s` seconds ahead.
pub(super) fn offset(offset_s: i64, at: Timestamp) -> ClockOffset {
    ClockOffset::observed_by_server(at.plus_secs(offset_s), at)
}

/// A rep's check-in, built up from a good one: on the customer's doorstep, 10 m accuracy,
/// a fresh fix, an honest phone.
pub(super) struct CheckIn {
    pub facts: CheckInFacts,
    pub settings: FieldworkSettings,
    pub now: Timestamp,
}

impl CheckIn {
    pub fn at_the_customer() -> Self {
        let at = t("2026-03-10T10:00:00+08:00");
        CheckIn {
            facts: CheckInFacts {
                customer_id: RecordId::new(),
                customer_location: Some(pudong_site()),
                position: DevicePosition {
                    point: pudong_site(),
                    accuracy_m: 10.0,
                    fix_time: at,
                    mock: false,
                    integrity: Some(DeviceIntegrity::default()),
                },
                checked_in_at: at,
                previous_check_in: None,
                last_visit_here: None,
                device_clock: None,
            },
            settings: FieldworkSettings::default(),
            now: at.plus_secs(1),
        }
    }

    /// Stands the rep `metres` east of the customer.
    pub fn metres_away(mut self, metres: f64) -> Self {
        self.facts.position.point = geofence::destination(pudong_site(), 90.0, metres);
        self
    }

    pub fn accuracy(mut self, metres: f64) -> Self {
        self.facts.position.accuracy_m = metres;
        self
    }

    pub fn mock_location(mut self) -> Self {
        self.facts.position.mock = true;
        self
    }

    pub fn rooted(mut self) -> Self {
        self.facts.position.integrity = Some(DeviceIntegrity {
            rooted: true,
            emulator: false,
        });
        self
    }

    pub fn customer_without_location(mut self) -> Self {
        self.facts.customer_location = None;
        self
    }

    /// The fix was taken `secs` before the rep pressed check-in.
    pub fn fix_taken_secs_earlier(mut self, secs: i64) -> Self {
        self.facts.position.fix_time = self.facts.checked_in_at.plus_secs(-secs);
        self
    }

    /// The rep's previous check-in was `km` north of here, `minutes` earlier, 10 m accuracy.
    pub fn previous_check_in_km_away(mut self, km: f64, minutes: i64) -> Self {
        let here = self.facts.position;
        self.facts.previous_check_in = Some(DevicePosition {
            point: geofence::destination(here.point, 0.0, km * 1000.0),
            accuracy_m: 10.0,
            fix_time: here.fix_time.plus_secs(-minutes * 60),
            ..here
        });
        self
    }

    /// The rep checked out of this customer `minutes` ago.
    pub fn checked_out_here_minutes_ago(mut self, minutes: i64) -> Self {
        let now = self.facts.checked_in_at;
        self.facts.last_visit_here = Some(EarlierVisit {
            checked_in_at: now.plus_secs(-minutes * 60 - 3600),
            checked_out_at: Some(now.plus_secs(-minutes * 60)),
        });
        self
    }

    pub fn device_clock_ahead_secs(mut self, secs: i64) -> Self {
        self.facts.device_clock = Some(offset(secs, self.now));
        self
    }

    pub fn hard_mode(mut self) -> Self {
        self.settings.geofence.mode = FenceMode::Hard;
        self
    }

    pub fn judge_as(&self, judge: Judge) -> Result<CheckInJudgement, CheckInError> {
        let s = &self.settings;
        judge_check_in(
            &self.facts,
            &s.geofence,
            &s.visit,
            &s.device_clock,
            self.now,
            judge,
        )
    }

    pub fn judge(&self) -> Result<CheckInJudgement, CheckInError> {
        self.judge_as(Judge::Server)
    }

    /// Judges, expecting the check-in to be accepted.
    pub fn verdict(&self) -> CheckInVerdict {
        self.judge().expect("check-in accepted").verdict
    }
}

/// A daily report, built up from one filed in Shanghai on 2026-03-10, submitted and received
/// at the same moment from a phone whose clock is right.
pub(super) struct Report {
    pub facts: ReportFacts,
    pub settings: FieldworkSettings,
    pub now: Timestamp,
}

impl Report {
    pub fn for_day(day: &str, tz: &str) -> Self {
        let date = date(day);
        let zone = zone(tz);
        let noon = date.at(chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(), &zone);
        Report {
            facts: ReportFacts {
                date,
                zone,
                submission: ReportSubmission {
                    submitted_at: noon,
                    received_at: Some(noon),
                    device_clock: Some(offset(0, noon)),
                },
                false_mark: None,
            },
            settings: FieldworkSettings::default(),
            now: noon,
        }
    }

    /// Submitted and received at `local` wall-clock time (`HH:MM:SS`) on the report's day,
    /// with a correct clock measured on receipt.
    pub fn submitted_at_local(self, local: &str) -> Self {
        let at = self.local(local);
        self.submitted_at(at)
            .received_at(at)
            .device_clock_off_secs(0)
    }

    pub fn local(&self, local: &str) -> Timestamp {
        let time = chrono::NaiveTime::parse_from_str(local, "%H:%M:%S").unwrap();
        self.facts.date.at(time, &self.facts.zone)
    }

    /// Submitted when the *device's* clock read `at`.
    pub fn submitted_at(mut self, at: Timestamp) -> Self {
        self.facts.submission.submitted_at = at;
        self
    }

    /// Received by the server at `at`; the judgement happens then too.
    pub fn received_at(mut self, at: Timestamp) -> Self {
        self.facts.submission.received_at = Some(at);
        self.now = self.now.max(at);
        if let Some(o) = &mut self.facts.submission.device_clock {
            *o = offset(o.offset_ms / 1000, at);
        }
        self
    }

    /// Not yet received: the phone judges on its own at `now`.
    pub fn not_yet_synced(mut self, now: Timestamp) -> Self {
        self.facts.submission.received_at = None;
        self.now = now;
        self
    }

    /// The device clock, as measured on delivery, is `secs` ahead of the server.
    pub fn device_clock_off_secs(mut self, secs: i64) -> Self {
        let at = self.facts.submission.received_at.unwrap_or(self.now);
        self.facts.submission.device_clock = Some(offset(secs, at));
        self
    }

    pub fn clock_never_measured(mut self) -> Self {
        self.facts.submission.device_clock = None;
        self
    }

    pub fn marked_false(mut self, reason: &str) -> Self {
        self.facts.false_mark = Some(FalseMark::new(RecordId::new(), self.now, reason).unwrap());
        self
    }

    pub fn judge(&self) -> Result<ReportVerdict, ReportError> {
        judge_report(
            &self.facts,
            &self.settings.daily_report,
            &self.settings.device_clock,
            self.now,
            Judge::Server,
        )
    }

    pub fn verdict(&self) -> ReportVerdict {
        self.judge().expect("report judged")
    }
}
