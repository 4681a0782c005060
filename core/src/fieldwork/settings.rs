//! The numbers field-work rules run on, as an admin configures them.
//!
//! Each section here becomes one table of the process configuration (`[geofence]`, `[visit]`,
//! `[daily_report]`, `[device_clock]`); a section left out, or a key left out of a section,
//! takes the value the source documents use. Unknown keys in a TOML import are refused, so a
//! typo such as `radius = 300` is reported instead of silently keeping 500 m. The same
//! structs are stored in the configuration document, where a key missing from an older
//! document also falls back to its default.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::string_enum;
use crate::time::{InvalidTime, parse_time_of_day};

string_enum! {
    /// What a check-in outside the geofence leads to.
    #[derive(Default)]
    pub enum FenceMode {
        /// The check-in is recorded and flagged for a manager.
        #[default]
        Soft = "soft",
        /// The check-in is refused on the spot (outside the fence, mock location, or a fix too
        /// poor to judge).
        Hard = "hard",
    }
}

/// A wall-clock time of day, written `HH:MM` (or `HH:MM:SS`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay(NaiveTime);

impl TimeOfDay {
    /// From hours and minutes; `None` when out of range.
    pub fn hm(hour: u32, minute: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(TimeOfDay)
    }

    /// The chrono time inside.
    pub const fn naive(self) -> NaiveTime {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::Timelike;
        if self.0.second() == 0 {
            write!(f, "{}", self.0.format("%H:%M"))
        } else {
            write!(f, "{}", self.0.format("%H:%M:%S"))
        }
    }
}

impl fmt::Debug for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeOfDay({self})")
    }
}

impl FromStr for TimeOfDay {
    type Err = InvalidTime;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_time_of_day(s).map(TimeOfDay)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Reconcile for TimeOfDay {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for TimeOfDay {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("a HH:MM time of day", s.to_string()))
    }
}

/// Defaults, one function per setting, shared by `Default`, serde and hydration.
mod defaults {
    use super::*;

    pub fn radius_m() -> u32 {
        500
    }
    pub fn max_accuracy_m() -> u32 {
        100
    }
    /// Open sky with a modern phone gives 3–5 m; at 10 m or better the measured distance is
    /// trusted on its own, so 499 m and 501 m are told apart.
    pub fn decisive_accuracy_m() -> u32 {
        10
    }
    /// The largest photo a visit takes: a full-resolution phone photo is 3–8 MB.
    pub fn max_photo_bytes() -> u64 {
        20 * 1024 * 1024
    }
    pub fn max_travel_speed_kmh() -> u32 {
        120
    }
    /// A real second meeting at the same customer within the hour after leaving is rare;
    /// checking out and straight back in is how visit counts get inflated.
    pub fn repeat_cooldown_minutes() -> u32 {
        60
    }
    /// Shorter than this is a knock on the door, not a visit.
    pub fn min_duration_minutes() -> u32 {
        5
    }
    /// A phone may hand out a cached position from long ago; a fresh fix takes well under two
    /// minutes outdoors.
    pub fn max_fix_age_seconds() -> u32 {
        120
    }
    pub fn deadline() -> TimeOfDay {
        TimeOfDay(NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN))
    }
    pub fn reporting_roles() -> Vec<String> {
        vec!["sales_rep".to_string()]
    }
    pub fn missing_after_days() -> u32 {
        1
    }
    pub fn missing_after_time() -> TimeOfDay {
        TimeOfDay(NaiveTime::MIN)
    }
    pub fn late_penalty() -> u32 {
        10
    }
    pub fn missing_penalty() -> u32 {
        30
    }
    pub fn false_penalty() -> u32 {
        50
    }
    /// Phones that take network time are within a second; five minutes tolerates a phone set by
    /// hand, and is far below the hour or two a rep would move the clock to cheat a deadline.
    pub fn clock_tolerance_seconds() -> u32 {
        300
    }
}

/// The geofence around a customer's registered location (`[geofence]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct GeofenceSettings {
    /// Radius of the fence, metres.
    #[autosurgeon(missing = "defaults::radius_m")]
    pub radius_m: u32,
    /// A fix whose accuracy is worse than this, metres, is flagged (and refused in hard mode).
    #[autosurgeon(missing = "defaults::max_accuracy_m")]
    pub max_accuracy_m: u32,
    /// A fix at least this accurate, metres, is judged by its measured distance alone; a
    /// poorer one by its whole accuracy circle. 0 judges every fix by its circle.
    #[autosurgeon(missing = "defaults::decisive_accuracy_m")]
    pub decisive_accuracy_m: u32,
    /// Soft (record and flag) or hard (refuse).
    #[autosurgeon(missing = "FenceMode::default")]
    pub mode: FenceMode,
}

impl Default for GeofenceSettings {
    fn default() -> Self {
        GeofenceSettings {
            radius_m: defaults::radius_m(),
            max_accuracy_m: defaults::max_accuracy_m(),
            decisive_accuracy_m: defaults::decisive_accuracy_m(),
            mode: FenceMode::default(),
        }
    }
}

/// Plausibility of visits beyond the fence itself (`[visit]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct VisitSettings {
    /// Faster than this between two check-ins, km/h, is impossible travel.
    #[autosurgeon(missing = "defaults::max_travel_speed_kmh")]
    pub max_travel_speed_kmh: u32,
    /// A new check-in at the same customer within this many minutes of checking out is flagged;
    /// 0 turns the flag off.
    #[autosurgeon(missing = "defaults::repeat_cooldown_minutes")]
    pub repeat_cooldown_minutes: u32,
    /// A visit closed within this many minutes is flagged; 0 turns the flag off.
    #[autosurgeon(missing = "defaults::min_duration_minutes")]
    pub min_duration_minutes: u32,
    /// A position fix older than this many seconds at check-in is flagged.
    #[autosurgeon(missing = "defaults::max_fix_age_seconds")]
    pub max_fix_age_seconds: u32,
    /// The largest photo or attachment accepted, bytes.
    #[autosurgeon(missing = "defaults::max_photo_bytes")]
    pub max_photo_bytes: u64,
}

impl Default for VisitSettings {
    fn default() -> Self {
        VisitSettings {
            max_travel_speed_kmh: defaults::max_travel_speed_kmh(),
            repeat_cooldown_minutes: defaults::repeat_cooldown_minutes(),
            min_duration_minutes: defaults::min_duration_minutes(),
            max_fix_age_seconds: defaults::max_fix_age_seconds(),
            max_photo_bytes: defaults::max_photo_bytes(),
        }
    }
}

/// The daily report's deadline and penalties (`[daily_report]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct DailyReportSettings {
    /// Local time on the report's own day before which it counts as on time.
    #[autosurgeon(missing = "defaults::deadline")]
    pub deadline: TimeOfDay,
    /// With `missing_after_time`: when a day with no report becomes a missing report, counted
    /// in days after the report's day (1 with 00:00 is the following midnight).
    #[autosurgeon(missing = "defaults::missing_after_days")]
    pub missing_after_days: u32,
    /// Local time of the day `missing_after_days` after the report's day.
    #[autosurgeon(missing = "defaults::missing_after_time")]
    pub missing_after_time: TimeOfDay,
    /// The currency penalties are counted in.
    #[autosurgeon(missing = "Currency::default")]
    pub currency: Currency,
    /// Penalty for a late report, in whole units of `currency`.
    #[autosurgeon(missing = "defaults::late_penalty")]
    pub late_penalty: u32,
    /// Penalty for a missing report, in whole units of `currency`.
    #[autosurgeon(missing = "defaults::missing_penalty")]
    pub missing_penalty: u32,
    /// Penalty for a report a manager found false, in whole units of `currency`.
    #[autosurgeon(missing = "defaults::false_penalty")]
    pub false_penalty: u32,
    /// Roles whose holders owe a daily report on every working day: the missing-report job,
    /// the compliance dashboards and the phone's reminders all read who owes one from here.
    #[autosurgeon(missing = "defaults::reporting_roles")]
    pub reporting_roles: Vec<String>,
}

impl Default for DailyReportSettings {
    fn default() -> Self {
        DailyReportSettings {
            deadline: defaults::deadline(),
            missing_after_days: defaults::missing_after_days(),
            missing_after_time: defaults::missing_after_time(),
            currency: Currency::default(),
            late_penalty: defaults::late_penalty(),
            missing_penalty: defaults::missing_penalty(),
            false_penalty: defaults::false_penalty(),
            reporting_roles: defaults::reporting_roles(),
        }
    }
}

impl DailyReportSettings {
    /// A penalty setting as money.
    pub fn penalty(&self, whole_units: u32) -> Money {
        Money::major(i64::from(whole_units), self.currency)
    }
}

/// How far a device clock may be from server time and still be believed (`[device_clock]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct ClockSettings {
    /// Seconds.
    #[autosurgeon(missing = "defaults::clock_tolerance_seconds")]
    pub tolerance_seconds: u32,
}

impl Default for ClockSettings {
    fn default() -> Self {
        ClockSettings {
            tolerance_seconds: defaults::clock_tolerance_seconds(),
        }
    }
}

impl ClockSettings {
    /// The tolerance in milliseconds.
    pub fn tolerance_ms(&self) -> i64 {
        i64::from(self.tolerance_seconds) * 1000
    }
}

/// Every field-work section, as the process configuration holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default)]
pub struct FieldworkSettings {
    /// `[geofence]`
    #[autosurgeon(missing = "GeofenceSettings::default")]
    pub geofence: GeofenceSettings,
    /// `[visit]`
    #[autosurgeon(missing = "VisitSettings::default")]
    pub visit: VisitSettings,
    /// `[daily_report]`
    #[autosurgeon(missing = "DailyReportSettings::default")]
    pub daily_report: DailyReportSettings,
    /// `[device_clock]`
    #[autosurgeon(missing = "ClockSettings::default")]
    pub device_clock: ClockSettings,
}

/// One setting of the field-work sections, named as in the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// `geofence.radius_m`
    GeofenceRadius,
    /// `geofence.max_accuracy_m`
    GeofenceMaxAccuracy,
    /// `geofence.decisive_accuracy_m`
    GeofenceDecisiveAccuracy,
    /// `geofence.mode`
    GeofenceMode,
    /// `visit.max_travel_speed_kmh`
    VisitMaxTravelSpeed,
    /// `visit.repeat_cooldown_minutes`
    VisitRepeatCooldown,
    /// `visit.min_duration_minutes`
    VisitMinDuration,
    /// `visit.max_fix_age_seconds`
    VisitMaxFixAge,
    /// `visit.max_photo_bytes`
    VisitMaxPhotoBytes,
    /// `daily_report.missing_after_days`
    ReportMissingAfterDays,
    /// `daily_report.missing_after_time`
    ReportMissingAfterTime,
    /// `daily_report.late_penalty`
    ReportLatePenalty,
    /// `daily_report.missing_penalty`
    ReportMissingPenalty,
    /// `daily_report.false_penalty`
    ReportFalsePenalty,
    /// `device_clock.tolerance_seconds`
    ClockTolerance,
}

impl Setting {
    /// The key as written in the configuration file, `section.key`.
    pub fn key(self) -> &'static str {
        match self {
            Setting::GeofenceRadius => "geofence.radius_m",
            Setting::GeofenceMaxAccuracy => "geofence.max_accuracy_m",
            Setting::GeofenceDecisiveAccuracy => "geofence.decisive_accuracy_m",
            Setting::GeofenceMode => "geofence.mode",
            Setting::VisitMaxTravelSpeed => "visit.max_travel_speed_kmh",
            Setting::VisitRepeatCooldown => "visit.repeat_cooldown_minutes",
            Setting::VisitMinDuration => "visit.min_duration_minutes",
            Setting::VisitMaxFixAge => "visit.max_fix_age_seconds",
            Setting::VisitMaxPhotoBytes => "visit.max_photo_bytes",
            Setting::ReportMissingAfterDays => "daily_report.missing_after_days",
            Setting::ReportMissingAfterTime => "daily_report.missing_after_time",
            Setting::ReportLatePenalty => "daily_report.late_penalty",
            Setting::ReportMissingPenalty => "daily_report.missing_penalty",
            Setting::ReportFalsePenalty => "daily_report.false_penalty",
            Setting::ClockTolerance => "device_clock.tolerance_seconds",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What is wrong with a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingProblem {
    /// A number outside the range that makes sense.
    OutOfRange {
        /// The value given.
        value: u64,
        /// The smallest accepted value.
        min: u64,
        /// The largest accepted value.
        max: u64,
    },
    /// A value this version does not know (for example a fence mode).
    UnknownValue {
        /// The value given.
        value: String,
        /// The values accepted.
        expected: &'static [&'static str],
    },
    /// The moment a report becomes missing is not after its deadline.
    MissingBeforeDeadline {
        /// The deadline on the report's day.
        deadline: TimeOfDay,
        /// Days after the report's day.
        days: u32,
        /// Time of day on that day.
        time: TimeOfDay,
    },
}

/// One setting that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {}", describe(.problem))]
pub struct InvalidSetting {
    /// Which setting.
    pub setting: Setting,
    /// What is wrong with it.
    pub problem: SettingProblem,
}

fn describe(problem: &SettingProblem) -> String {
    match problem {
        SettingProblem::OutOfRange { value, min, max } => {
            format!("{value} is out of range; expected {min} to {max}")
        }
        SettingProblem::UnknownValue { value, expected } => {
            format!(
                "unknown value `{value}`; expected one of: {}",
                expected.join(", ")
            )
        }
        SettingProblem::MissingBeforeDeadline {
            deadline,
            days,
            time,
        } => format!(
            "a report would become missing {days} day(s) later at {time}, which is not after \
             its deadline {deadline}"
        ),
    }
}

/// Every problem found in a group of settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid field-work settings: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct InvalidSettings {
    /// One entry per bad setting, in file order.
    pub problems: Vec<InvalidSetting>,
}

impl InvalidSettings {
    fn check(problems: Vec<InvalidSetting>) -> Result<(), InvalidSettings> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidSettings { problems })
        }
    }

    /// Whether `setting` is among the problems.
    pub fn names(&self, setting: Setting) -> bool {
        self.problems.iter().any(|p| p.setting == setting)
    }
}

fn range(problems: &mut Vec<InvalidSetting>, setting: Setting, value: u32, min: u32, max: u32) {
    if !(min..=max).contains(&value) {
        problems.push(InvalidSetting {
            setting,
            problem: SettingProblem::OutOfRange {
                value: value.into(),
                min: min.into(),
                max: max.into(),
            },
        });
    }
}

/// The largest penalty accepted, in whole currency units: far above any real fine, low enough
/// to catch a value typed in fen instead of yuan.
const MAX_PENALTY: u32 = 100_000;

/// The largest attachment size an admin may allow: a phone uploads it over a mobile network.
const MAX_PHOTO_BYTES: u64 = 1024 * 1024 * 1024;

impl GeofenceSettings {
    /// Checks every setting of the section.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems = Vec::new();
        range(
            &mut problems,
            Setting::GeofenceRadius,
            self.radius_m,
            10,
            50_000,
        );
        range(
            &mut problems,
            Setting::GeofenceMaxAccuracy,
            self.max_accuracy_m,
            1,
            10_000,
        );
        // Beyond 100 m a "decisive" fix could be inside with most of its circle outside.
        range(
            &mut problems,
            Setting::GeofenceDecisiveAccuracy,
            self.decisive_accuracy_m,
            0,
            100,
        );
        if let FenceMode::Other(value) = &self.mode {
            problems.push(InvalidSetting {
                setting: Setting::GeofenceMode,
                problem: SettingProblem::UnknownValue {
                    value: value.clone(),
                    expected: &["soft", "hard"],
                },
            });
        }
        InvalidSettings::check(problems)
    }
}

impl VisitSettings {
    /// Checks every setting of the section.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems = Vec::new();
        range(
            &mut problems,
            Setting::VisitMaxTravelSpeed,
            self.max_travel_speed_kmh,
            1,
            2_000,
        );
        range(
            &mut problems,
            Setting::VisitRepeatCooldown,
            self.repeat_cooldown_minutes,
            0,
            24 * 60,
        );
        range(
            &mut problems,
            Setting::VisitMinDuration,
            self.min_duration_minutes,
            0,
            12 * 60,
        );
        range(
            &mut problems,
            Setting::VisitMaxFixAge,
            self.max_fix_age_seconds,
            1,
            24 * 3600,
        );
        if !(1..=MAX_PHOTO_BYTES).contains(&self.max_photo_bytes) {
            problems.push(InvalidSetting {
                setting: Setting::VisitMaxPhotoBytes,
                problem: SettingProblem::OutOfRange {
                    value: self.max_photo_bytes,
                    min: 1,
                    max: MAX_PHOTO_BYTES,
                },
            });
        }
        InvalidSettings::check(problems)
    }
}

impl DailyReportSettings {
    /// Checks every setting of the section.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems = Vec::new();
        range(
            &mut problems,
            Setting::ReportMissingAfterDays,
            self.missing_after_days,
            0,
            31,
        );
        if self.missing_after_days == 0 && self.missing_after_time <= self.deadline {
            problems.push(InvalidSetting {
                setting: Setting::ReportMissingAfterTime,
                problem: SettingProblem::MissingBeforeDeadline {
                    deadline: self.deadline,
                    days: self.missing_after_days,
                    time: self.missing_after_time,
                },
            });
        }
        for (setting, value) in [
            (Setting::ReportLatePenalty, self.late_penalty),
            (Setting::ReportMissingPenalty, self.missing_penalty),
            (Setting::ReportFalsePenalty, self.false_penalty),
        ] {
            range(&mut problems, setting, value, 0, MAX_PENALTY);
        }
        InvalidSettings::check(problems)
    }
}

impl ClockSettings {
    /// Checks every setting of the section.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems = Vec::new();
        range(
            &mut problems,
            Setting::ClockTolerance,
            self.tolerance_seconds,
            1,
            24 * 3600,
        );
        InvalidSettings::check(problems)
    }
}

impl FieldworkSettings {
    /// Checks every section, reporting every problem at once.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let problems = [
            self.geofence.validate(),
            self.visit.validate(),
            self.daily_report.validate(),
            self.device_clock.validate(),
        ]
        .into_iter()
        .filter_map(Result::err)
        .flat_map(|e| e.problems)
        .collect();
        InvalidSettings::check(problems)
    }
}
