//! Field scenarios for the field-work rules, with builders so each test states only what
//! matters to it.

mod check_in;
mod settings;

use super::*;
use crate::id::RecordId;
use crate::place::GeoPoint;
use crate::time::Timestamp;

/// An instant written as RFC 3339.
pub(super) fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
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
