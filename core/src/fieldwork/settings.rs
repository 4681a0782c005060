//! The numbers field-work rules run on, as an admin configures them.
//!
//! Each section here becomes one table of the process configuration (`[geofence]`, `[visit]`,
//! `[travel]`, `[day]`, `[daily_report]`, `[device_clock]`, `[calendar]`); a section left out,
//! or a key left out of a section,
//! takes the value the source documents use. Unknown keys in a TOML import are refused, so a
//! typo such as `radius = 300` is reported instead of silently keeping 500 m. The same
//! structs are stored in the configuration document, where a key missing from an older
//! document also falls back to its default.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use super::calendar::{InvalidCalendar, WorkCalendar};
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
    /// A stated accuracy holds the true position two times in three; a Wi-Fi or cell fix
    /// beyond the accuracy limit misses by far more now and then, and two radii hold it about
    /// 99 times in 100.
    pub fn poor_fix_circles() -> u32 {
        2
    }
    /// The largest photo a visit takes: a full-resolution phone photo is 3–8 MB.
    pub fn max_photo_bytes() -> u64 {
        20 * 1024 * 1024
    }
    /// Straight-line, door to door: an expressway at 120 km/h with the road's detours and the
    /// walk to and from the car stays below it.
    pub fn max_travel_speed_kmh() -> u32 {
        120
    }
    /// High-speed rail covers 1,068 km Beijing–Shanghai in 4 h 18 min, about 250 km/h in a
    /// straight line; 300 leaves room for the fastest lines.
    pub fn rail_kmh() -> u32 {
        300
    }
    /// The least a rail journey adds door to door: reaching the station, boarding, leaving it.
    /// A rep whose customers sit beside both stations needs about half an hour.
    pub fn rail_overhead_minutes() -> u32 {
        30
    }
    /// Airliners cruise at 800–900 km/h; in a straight line between cities a flight averages
    /// less, so 800 is a ceiling.
    pub fn air_kmh() -> u32 {
        800
    }
    /// The least a flight adds door to door: to the airport, boarding, taxiing, leaving.
    pub fn air_overhead_minutes() -> u32 {
        90
    }
    /// Distance granted on every journey on top of the accuracy circles: registered points sit
    /// at a site's gate while the rep stands across a campus.
    pub fn travel_allowance_m() -> u32 {
        1_000
    }
    /// A fix is taken at or just before the check-in on the same clock; one stamped later than
    /// the check-in by more than a GNSS-to-phone clock difference was not taken then.
    pub fn fix_ahead_seconds() -> u32 {
        30
    }
    /// Reps often check out from the car park or the road; beyond this many metres outside the
    /// fence the check-out was made somewhere else.
    pub fn check_out_leeway_m() -> u32 {
        2_000
    }
    /// A real fix lands within a metre of a geocoded point by chance about once in thousands;
    /// location fakers place it there exactly.
    pub fn on_point_m() -> u32 {
        1
    }
    /// A fix on the registered point this precise (metres or better) is flagged at once; a
    /// poorer one only when another of the day's fixes also sits on its customer's point.
    /// Location fakers are set to 20 m or better; Wi-Fi positioning indoors, which can land on
    /// a point registered from an earlier indoor check-in, reports 15–60 m. Tuned on the
    /// field-truth benchmark's tuning seeds (10 missed fakers set to 12–20 m).
    pub fn on_point_accuracy_m() -> u32 {
        20
    }
    /// A receiver's accuracy estimate changes with every sky; the same value to the centimetre
    /// at three different customers in a day is a value someone set.
    pub fn repeated_accuracy_fixes() -> u32 {
        3
    }
    /// Coarse fixes repeat their accuracy honestly (iOS reports 65 m for Wi-Fi, 1,414 m for
    /// cell towers), so only precise values count as repeated.
    pub fn repeated_accuracy_max_m() -> u32 {
        20
    }
    /// Check-ins at different customers from within this many metres count as one spot.
    pub fn cluster_radius_m() -> u32 {
        150
    }
    /// From this many different customers' check-ins at one spot on one day, the spot is
    /// suspect when none of them is registered near it and at least one far from it. Two
    /// customers sharing a building are registered there, so two is enough: a rep at home
    /// checking in a customer with no registered location beside one registered across town
    /// is caught (tuned on the field-truth benchmark's tuning seeds).
    pub fn cluster_min_customers() -> u32 {
        2
    }
    /// "Far" for the spot: further than this from each claimed customer's registered point.
    pub fn cluster_far_m() -> u32 {
        1_000
    }
    /// A whole offline day synced the next morning arrives within a day; two days later is an
    /// upload a manager should know about.
    pub fn max_upload_delay_hours() -> u32 {
        48
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
    /// A phone may hand out a cached position from long ago. Indoors the freshest fix a phone
    /// has can be minutes old (the sample apps accept one up to five minutes old and then wait
    /// for a new one), so ten minutes leaves an honest rep room.
    pub fn max_fix_age_seconds() -> u32 {
        600
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
    /// A fix poorer than `max_accuracy_m` counts as outside only when the fence lies beyond
    /// this many of its accuracy radii.
    #[autosurgeon(missing = "defaults::poor_fix_circles")]
    pub poor_fix_circles: u32,
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
            poor_fix_circles: defaults::poor_fix_circles(),
            mode: FenceMode::default(),
        }
    }
}

/// Plausibility of visits beyond the fence itself (`[visit]`).
///
/// `max_travel_speed_kmh` is the road part of the travel envelope: journeys faster than it are
/// judged against rail and air in [`TravelSettings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct VisitSettings {
    /// The fastest straight-line speed by road, door to door, km/h.
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
    /// A fix stamped more than this many seconds after the check-in is flagged.
    #[autosurgeon(missing = "defaults::fix_ahead_seconds")]
    pub fix_ahead_seconds: u32,
    /// A check-out fix further than this many metres outside the fence is flagged.
    #[autosurgeon(missing = "defaults::check_out_leeway_m")]
    pub check_out_leeway_m: u32,
}

impl Default for VisitSettings {
    fn default() -> Self {
        VisitSettings {
            max_travel_speed_kmh: defaults::max_travel_speed_kmh(),
            repeat_cooldown_minutes: defaults::repeat_cooldown_minutes(),
            min_duration_minutes: defaults::min_duration_minutes(),
            max_fix_age_seconds: defaults::max_fix_age_seconds(),
            max_photo_bytes: defaults::max_photo_bytes(),
            fix_ahead_seconds: defaults::fix_ahead_seconds(),
            check_out_leeway_m: defaults::check_out_leeway_m(),
        }
    }
}

/// What a rep can cover between two places by rail or air (`[travel]`); the road's speed is
/// `visit.max_travel_speed_kmh`.
///
/// A journey is possible when any way of travelling covers it: by road at the road's speed, by
/// rail once the rail overhead is spent, by air once the air overhead is spent, each measured
/// in a straight line beyond the two fixes' accuracy circles and the allowance. One flat speed
/// cap either lets a 150 km/h dash across a city pass or flags every flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct TravelSettings {
    /// Straight-line speed of high-speed rail, km/h.
    #[autosurgeon(missing = "defaults::rail_kmh")]
    pub rail_kmh: u32,
    /// Minutes a rail journey adds door to door.
    #[autosurgeon(missing = "defaults::rail_overhead_minutes")]
    pub rail_overhead_minutes: u32,
    /// Straight-line speed of a flight, km/h.
    #[autosurgeon(missing = "defaults::air_kmh")]
    pub air_kmh: u32,
    /// Minutes a flight adds door to door.
    #[autosurgeon(missing = "defaults::air_overhead_minutes")]
    pub air_overhead_minutes: u32,
    /// Metres granted on every journey besides the accuracy circles.
    #[autosurgeon(missing = "defaults::travel_allowance_m")]
    pub allowance_m: u32,
}

impl Default for TravelSettings {
    fn default() -> Self {
        TravelSettings {
            rail_kmh: defaults::rail_kmh(),
            rail_overhead_minutes: defaults::rail_overhead_minutes(),
            air_kmh: defaults::air_kmh(),
            air_overhead_minutes: defaults::air_overhead_minutes(),
            allowance_m: defaults::travel_allowance_m(),
        }
    }
}

/// What a rep's whole day reveals that one check-in cannot (`[day]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct DaySettings {
    /// A fix within this many metres of its customer's registered point is "on the point";
    /// 0 turns the rule off.
    #[autosurgeon(missing = "defaults::on_point_m")]
    pub on_point_m: u32,
    /// An on-point fix with an accuracy this good (metres) is flagged on its own.
    #[autosurgeon(missing = "defaults::on_point_accuracy_m")]
    pub on_point_accuracy_m: u32,
    /// Different customers' fixes of a day with the same accuracy (to the centimetre) before
    /// it is flagged; 0 turns the rule off.
    #[autosurgeon(missing = "defaults::repeated_accuracy_fixes")]
    pub repeated_accuracy_fixes: u32,
    /// Only accuracies this good (metres) count as repeated.
    #[autosurgeon(missing = "defaults::repeated_accuracy_max_m")]
    pub repeated_accuracy_max_m: u32,
    /// Check-ins within this many metres of each other count as made from one spot.
    #[autosurgeon(missing = "defaults::cluster_radius_m")]
    pub cluster_radius_m: u32,
    /// Different customers checked in from one spot in a day before the spot is judged; 0
    /// turns the rule off.
    #[autosurgeon(missing = "defaults::cluster_min_customers")]
    pub cluster_min_customers: u32,
    /// The spot is suspect when every claimed customer's registered point is further than this
    /// many metres from it.
    #[autosurgeon(missing = "defaults::cluster_far_m")]
    pub cluster_far_m: u32,
}

impl Default for DaySettings {
    fn default() -> Self {
        DaySettings {
            on_point_m: defaults::on_point_m(),
            on_point_accuracy_m: defaults::on_point_accuracy_m(),
            repeated_accuracy_fixes: defaults::repeated_accuracy_fixes(),
            repeated_accuracy_max_m: defaults::repeated_accuracy_max_m(),
            cluster_radius_m: defaults::cluster_radius_m(),
            cluster_min_customers: defaults::cluster_min_customers(),
            cluster_far_m: defaults::cluster_far_m(),
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
    /// Seconds. Also how far the device's times may disagree with each other, with the
    /// server's receipt, and with the order the device recorded and uploaded its visits.
    #[autosurgeon(missing = "defaults::clock_tolerance_seconds")]
    pub tolerance_seconds: u32,
    /// A visit received this many hours after its check-in is flagged as uploaded late.
    #[autosurgeon(missing = "defaults::max_upload_delay_hours")]
    pub max_upload_delay_hours: u32,
}

impl Default for ClockSettings {
    fn default() -> Self {
        ClockSettings {
            tolerance_seconds: defaults::clock_tolerance_seconds(),
            max_upload_delay_hours: defaults::max_upload_delay_hours(),
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
    /// `[travel]`
    #[autosurgeon(missing = "TravelSettings::default")]
    pub travel: TravelSettings,
    /// `[day]`
    #[autosurgeon(missing = "DaySettings::default")]
    pub day: DaySettings,
    /// `[daily_report]`
    #[autosurgeon(missing = "DailyReportSettings::default")]
    pub daily_report: DailyReportSettings,
    /// `[device_clock]`
    #[autosurgeon(missing = "ClockSettings::default")]
    pub device_clock: ClockSettings,
    /// `[calendar]`: which days reports are owed.
    #[autosurgeon(missing = "WorkCalendar::default")]
    pub calendar: WorkCalendar,
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
    /// `geofence.poor_fix_circles`
    GeofencePoorFixCircles,
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
    /// `visit.fix_ahead_seconds`
    VisitFixAhead,
    /// `visit.check_out_leeway_m`
    VisitCheckOutLeeway,
    /// `travel.rail_kmh`
    TravelRailSpeed,
    /// `travel.rail_overhead_minutes`
    TravelRailOverhead,
    /// `travel.air_kmh`
    TravelAirSpeed,
    /// `travel.air_overhead_minutes`
    TravelAirOverhead,
    /// `travel.allowance_m`
    TravelAllowance,
    /// `day.on_point_m`
    DayOnPoint,
    /// `day.on_point_accuracy_m`
    DayOnPointAccuracy,
    /// `day.repeated_accuracy_fixes`
    DayRepeatedAccuracyFixes,
    /// `day.repeated_accuracy_max_m`
    DayRepeatedAccuracyMax,
    /// `day.cluster_radius_m`
    DayClusterRadius,
    /// `day.cluster_min_customers`
    DayClusterMinCustomers,
    /// `day.cluster_far_m`
    DayClusterFar,
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
    /// `calendar.working_weekdays`
    CalendarWorkingWeekdays,
    /// `calendar.make_up_working_days`
    CalendarMakeUpWorkingDays,
    /// `device_clock.max_upload_delay_hours`
    ClockMaxUploadDelay,
}

impl Setting {
    /// The key as written in the configuration file, `section.key`.
    pub fn key(self) -> &'static str {
        match self {
            Setting::GeofenceRadius => "geofence.radius_m",
            Setting::GeofenceMaxAccuracy => "geofence.max_accuracy_m",
            Setting::GeofenceDecisiveAccuracy => "geofence.decisive_accuracy_m",
            Setting::GeofencePoorFixCircles => "geofence.poor_fix_circles",
            Setting::GeofenceMode => "geofence.mode",
            Setting::VisitMaxTravelSpeed => "visit.max_travel_speed_kmh",
            Setting::VisitRepeatCooldown => "visit.repeat_cooldown_minutes",
            Setting::VisitMinDuration => "visit.min_duration_minutes",
            Setting::VisitMaxFixAge => "visit.max_fix_age_seconds",
            Setting::VisitMaxPhotoBytes => "visit.max_photo_bytes",
            Setting::VisitFixAhead => "visit.fix_ahead_seconds",
            Setting::VisitCheckOutLeeway => "visit.check_out_leeway_m",
            Setting::TravelRailSpeed => "travel.rail_kmh",
            Setting::TravelRailOverhead => "travel.rail_overhead_minutes",
            Setting::TravelAirSpeed => "travel.air_kmh",
            Setting::TravelAirOverhead => "travel.air_overhead_minutes",
            Setting::TravelAllowance => "travel.allowance_m",
            Setting::DayOnPoint => "day.on_point_m",
            Setting::DayOnPointAccuracy => "day.on_point_accuracy_m",
            Setting::DayRepeatedAccuracyFixes => "day.repeated_accuracy_fixes",
            Setting::DayRepeatedAccuracyMax => "day.repeated_accuracy_max_m",
            Setting::DayClusterRadius => "day.cluster_radius_m",
            Setting::DayClusterMinCustomers => "day.cluster_min_customers",
            Setting::DayClusterFar => "day.cluster_far_m",
            Setting::ReportMissingAfterDays => "daily_report.missing_after_days",
            Setting::ReportMissingAfterTime => "daily_report.missing_after_time",
            Setting::ReportLatePenalty => "daily_report.late_penalty",
            Setting::ReportMissingPenalty => "daily_report.missing_penalty",
            Setting::ReportFalsePenalty => "daily_report.false_penalty",
            Setting::ClockTolerance => "device_clock.tolerance_seconds",
            Setting::CalendarWorkingWeekdays => "calendar.working_weekdays",
            Setting::CalendarMakeUpWorkingDays => "calendar.make_up_working_days",
            Setting::ClockMaxUploadDelay => "device_clock.max_upload_delay_hours",
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
    /// A day both a public holiday and a make-up working day.
    HolidayAndWorkday(crate::time::LocalDate),
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
        SettingProblem::HolidayAndWorkday(date) => {
            format!("{date} is both a public holiday and a make-up working day")
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
        range(
            &mut problems,
            Setting::GeofencePoorFixCircles,
            self.poor_fix_circles,
            1,
            10,
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
        range(
            &mut problems,
            Setting::VisitFixAhead,
            self.fix_ahead_seconds,
            0,
            3_600,
        );
        range(
            &mut problems,
            Setting::VisitCheckOutLeeway,
            self.check_out_leeway_m,
            0,
            100_000,
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

impl TravelSettings {
    /// Checks every setting of the section.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems = Vec::new();
        for (setting, value, min, max) in [
            (Setting::TravelRailSpeed, self.rail_kmh, 1, 1_000),
            (
                Setting::TravelRailOverhead,
                self.rail_overhead_minutes,
                0,
                600,
            ),
            (Setting::TravelAirSpeed, self.air_kmh, 1, 1_200),
            (
                Setting::TravelAirOverhead,
                self.air_overhead_minutes,
                0,
                600,
            ),
            (Setting::TravelAllowance, self.allowance_m, 0, 50_000),
        ] {
            range(&mut problems, setting, value, min, max);
        }
        InvalidSettings::check(problems)
    }
}

impl DaySettings {
    /// Checks every setting of the section.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems = Vec::new();
        for (setting, value, min, max) in [
            (Setting::DayOnPoint, self.on_point_m, 0, 100),
            (
                Setting::DayOnPointAccuracy,
                self.on_point_accuracy_m,
                0,
                1_000,
            ),
            (
                Setting::DayRepeatedAccuracyFixes,
                self.repeated_accuracy_fixes,
                0,
                50,
            ),
            (
                Setting::DayRepeatedAccuracyMax,
                self.repeated_accuracy_max_m,
                0,
                1_000,
            ),
            (Setting::DayClusterRadius, self.cluster_radius_m, 1, 5_000),
            (
                Setting::DayClusterMinCustomers,
                self.cluster_min_customers,
                0,
                50,
            ),
            (Setting::DayClusterFar, self.cluster_far_m, 0, 100_000),
        ] {
            range(&mut problems, setting, value, min, max);
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
        range(
            &mut problems,
            Setting::ClockMaxUploadDelay,
            self.max_upload_delay_hours,
            1,
            24 * 365,
        );
        InvalidSettings::check(problems)
    }
}

/// The calendar's problems as settings problems.
fn calendar_problems(calendar: &WorkCalendar) -> Result<(), InvalidSettings> {
    let problems = calendar
        .problems()
        .into_iter()
        .map(|p| match p {
            InvalidCalendar::UnknownWeekday(value) => InvalidSetting {
                setting: Setting::CalendarWorkingWeekdays,
                problem: SettingProblem::UnknownValue {
                    value,
                    expected: &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                },
            },
            InvalidCalendar::HolidayAndWorkday(date) => InvalidSetting {
                setting: Setting::CalendarMakeUpWorkingDays,
                problem: SettingProblem::HolidayAndWorkday(date),
            },
        })
        .collect();
    InvalidSettings::check(problems)
}

impl FieldworkSettings {
    /// Checks every section, reporting every problem at once.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let problems = [
            self.geofence.validate(),
            self.visit.validate(),
            self.travel.validate(),
            self.day.validate(),
            self.daily_report.validate(),
            self.device_clock.validate(),
            calendar_problems(&self.calendar),
        ]
        .into_iter()
        .filter_map(Result::err)
        .flat_map(|e| e.problems)
        .collect();
        InvalidSettings::check(problems)
    }
}
