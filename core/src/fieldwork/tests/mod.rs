//! Field scenarios for the field-work rules, with builders so each test states only what
//! matters to it.

mod calendar;
mod check_in;
mod plan;
mod properties;
mod report;
mod settings;
mod stored;
mod truth;

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

/// A rep's check-in, built up from a good one: on the customer's doorstep at 10:00 Shanghai
/// time, 10 m accuracy, a fresh fix, an honest phone; judged a second later, with nothing known
/// of the device's clock or of the rep's other visits.
pub(super) struct CheckIn {
    pub facts: CheckInFacts,
    pub settings: FieldworkSettings,
    pub now: Timestamp,
    /// When the rep really checked in, on the server's clock.
    pub true_at: Timestamp,
    /// How far the device's clock runs ahead of the server's, seconds.
    pub device_ahead_s: i64,
}

impl CheckIn {
    pub fn at_the_customer() -> Self {
        let at = t("2026-03-10T10:00:00+08:00");
        CheckIn {
            facts: CheckInFacts {
                customer_id: RecordId::new(),
                customer_location: Some(pudong_site()),
                position: DevicePosition {
                    point: geofence::destination(pudong_site(), 200.0, 12.0),
                    accuracy_m: 10.0,
                    fix_time: at,
                    mock: false,
                    integrity: Some(DeviceIntegrity::default()),
                    since_boot_ms: None,
                },
                checked_in_at: at,
                departure: None,
                next_arrival: None,
                last_visit_here: None,
                timeline: Timeline::default(),
                day: Vec::new(),
            },
            settings: FieldworkSettings::default(),
            now: at.plus_secs(1),
            true_at: at,
            device_ahead_s: 0,
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

    /// The rep left the previous customer `km` north of here `minutes` before checking in,
    /// on a 10 m fix.
    pub fn left_previous_visit_km_away(mut self, km: f64, minutes: i64) -> Self {
        self.facts.departure = Some(Waypoint {
            point: geofence::destination(self.facts.position.point, 0.0, km * 1000.0),
            accuracy_m: 10.0,
            at: self.facts.checked_in_at.plus_secs(-minutes * 60),
        });
        self
    }

    /// The rep's next check-in the judge holds already is `km` south of here, `minutes` after
    /// this one.
    pub fn next_check_in_km_away(mut self, km: f64, minutes: i64) -> Self {
        self.facts.next_arrival = Some(Waypoint {
            point: geofence::destination(self.facts.position.point, 180.0, km * 1000.0),
            accuracy_m: 10.0,
            at: self.facts.checked_in_at.plus_secs(minutes * 60),
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

    /// The device's clock runs `secs` ahead (negative: behind), as its last sync measured;
    /// the check-in and the fix carry its times.
    pub fn device_clock_ahead_secs(mut self, secs: i64) -> Self {
        let shift = secs - self.device_ahead_s;
        self.device_ahead_s = secs;
        self.facts.checked_in_at = self.facts.checked_in_at.plus_secs(shift);
        self.facts.position.fix_time = self.facts.position.fix_time.plus_secs(shift);
        self.facts.timeline.recorded_offset_ms = Some(secs * 1000);
        if let Some(r) = &mut self.facts.timeline.receipt {
            r.device_clock = Some(offset(secs, r.received_at));
        }
        self
    }

    /// The device's last sync before the check-in was `minutes` before it (server clock).
    pub fn synced_minutes_before(mut self, minutes: i64) -> Self {
        self.facts.timeline.synced_at = Some(self.true_at.plus_secs(-minutes * 60));
        self.facts.timeline.recorded_offset_ms = Some(self.device_ahead_s * 1000);
        self
    }

    /// The server received the visit `minutes` after it really happened, measuring the
    /// device's clock on that push; the server judges then.
    pub fn received_minutes_later(mut self, minutes: i64) -> Self {
        let received_at = self.true_at.plus_secs(minutes * 60);
        self.facts.timeline.receipt = Some(Receipt {
            received_at,
            device_clock: Some(offset(self.device_ahead_s, received_at)),
        });
        self.now = received_at;
        self
    }

    /// On the push that delivered the visit the device's clock read `secs` ahead.
    pub fn push_clock_ahead_secs(mut self, secs: i64) -> Self {
        if let Some(r) = &mut self.facts.timeline.receipt {
            r.device_clock = Some(offset(secs, r.received_at));
        }
        self
    }

    /// The device held a visit of the rep checked in `minutes` after this one's time when it
    /// recorded this one.
    pub fn recorded_after_a_visit_minutes_later(mut self, minutes: i64) -> Self {
        self.facts.timeline.recorded_after = Some(self.facts.checked_in_at.plus_secs(minutes * 60));
        self
    }

    /// The server had received a visit of the rep checked in `minutes` after this one.
    pub fn uploaded_after_a_visit_minutes_later(mut self, minutes: i64) -> Self {
        self.facts.timeline.uploaded_after = Some(self.facts.checked_in_at.plus_secs(minutes * 60));
        self
    }

    /// Another check-in today at another customer, `metres` east of here with `accuracy_m`,
    /// whose own customer was `customer_distance_m` away from its fix.
    pub fn also_checked_in_today(
        mut self,
        metres: f64,
        accuracy_m: f64,
        customer_distance_m: Option<f64>,
    ) -> Self {
        self.facts.day.push(DayFix {
            customer_id: RecordId::new(),
            point: geofence::destination(self.facts.position.point, 90.0, metres),
            accuracy_m,
            customer_distance_m,
        });
        self
    }

    /// The fix lies `metres` from the customer's registered point.
    pub fn on_the_point_within(mut self, metres: f64) -> Self {
        self.facts.position.point = geofence::destination(pudong_site(), 45.0, metres);
        self
    }

    pub fn hard_mode(mut self) -> Self {
        self.settings.geofence.mode = FenceMode::Hard;
        self
    }

    pub fn judge_as(&self, judge: Judge) -> Result<CheckInJudgement, CheckInError> {
        judge_check_in(&self.facts, &self.settings, self.now, judge)
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
                day_off: None,
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

    /// The rep owed no report that day.
    pub fn on_a_day_off(mut self, why: DayOff) -> Self {
        self.facts.day_off = Some(why);
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
