//! Instants, local dates and time zones.
//!
//! Every instant is UTC milliseconds since the Unix epoch ([`Timestamp`]). Where a *local day*
//! matters (the daily-report deadline, visits counted per day) the record also carries the
//! user's IANA zone ([`Zone`]), and local days are computed with the zone's rules, daylight
//! saving included. Rules never read the system clock themselves: they take `now` from a
//! [`Clock`], so tests can stand at 17:59:59 in Shanghai.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// An instant: UTC milliseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current system time. Rules take a [`Clock`] instead.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }

    /// As a chrono UTC date-time.
    pub fn to_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// From a chrono date-time in any zone.
    pub fn from_datetime<T: TimeZone>(dt: &DateTime<T>) -> Self {
        Timestamp(dt.timestamp_millis())
    }

    /// Parses RFC 3339 (`2026-03-08T17:59:59+08:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Self, InvalidTime> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|dt| Timestamp::from_datetime(&dt))
            .map_err(|_| InvalidTime::Instant(s.chars().take(64).collect()))
    }

    /// This instant plus a signed number of milliseconds (saturating).
    pub const fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// This instant plus whole seconds.
    pub const fn plus_secs(self, s: i64) -> Self {
        self.plus_millis(s.saturating_mul(1000))
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The local calendar day of this instant in `zone`.
    pub fn local_date(self, zone: &Zone) -> LocalDate {
        LocalDate(self.to_utc().with_timezone(&zone.tz()).date_naive())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Reconcile for Timestamp {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.timestamp(self.0)
    }
}

impl Hydrate for Timestamp {
    fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
        Ok(Timestamp(t))
    }
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        Ok(Timestamp(i))
    }
}

/// A calendar day with no zone, as a user sees it on their own phone.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalDate(NaiveDate);

impl LocalDate {
    /// From year, month and day; `None` for a day that does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, day).map(LocalDate)
    }

    /// The chrono date inside.
    pub const fn naive(self) -> NaiveDate {
        self.0
    }

    /// From a chrono date.
    pub const fn from_naive(d: NaiveDate) -> Self {
        LocalDate(d)
    }

    /// The next day.
    pub fn succ(self) -> Self {
        LocalDate(self.0.succ_opt().unwrap_or(self.0))
    }

    /// The previous day.
    pub fn pred(self) -> Self {
        LocalDate(self.0.pred_opt().unwrap_or(self.0))
    }

    /// Days from `other` to `self`.
    pub fn days_since(self, other: LocalDate) -> i64 {
        (self.0 - other.0).num_days()
    }

    /// The UTC instant at which the local wall-clock time `time` happens on this day in `zone`.
    ///
    /// On a daylight-saving change a wall-clock time can happen twice (the earlier one is taken,
    /// so a deadline is never later than the user expects) or not at all (the first instant
    /// after the gap is taken).
    pub fn at(self, time: NaiveTime, zone: &Zone) -> Timestamp {
        let tz = zone.tz();
        let naive = NaiveDateTime::new(self.0, time);
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(dt) => Timestamp::from_datetime(&dt),
            LocalResult::Ambiguous(first, _) => Timestamp::from_datetime(&first),
            LocalResult::None => {
                // Skipped by a forward change: walk forward minute by minute (gaps are ≤ 2 h).
                let mut probe = naive;
                for _ in 0..180 {
                    probe += chrono::Duration::minutes(1);
                    if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
                        return Timestamp::from_datetime(&dt);
                    }
                }
                Timestamp::from_datetime(&Utc.from_utc_datetime(&naive))
            }
        }
    }

    /// The first instant of this day in `zone`.
    pub fn start(self, zone: &Zone) -> Timestamp {
        self.at(NaiveTime::MIN, zone)
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Debug for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalDate({self})")
    }
}

impl FromStr for LocalDate {
    type Err = InvalidTime;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(LocalDate)
            .map_err(|_| InvalidTime::Date(s.chars().take(32).collect()))
    }
}

impl Reconcile for LocalDate {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for LocalDate {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("a YYYY-MM-DD date", s.to_string()))
    }
}

/// An IANA time zone such as `Asia/Shanghai`, validated when made.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(chrono_tz::Tz);

impl Zone {
    /// China Standard Time, the default zone of the source documents.
    pub const SHANGHAI: Zone = Zone(chrono_tz::Asia::Shanghai);
    /// UTC.
    pub const UTC: Zone = Zone(chrono_tz::UTC);

    /// The chrono-tz zone inside.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::SHANGHAI
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl FromStr for Zone {
    type Err = InvalidTime;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(Zone)
            .map_err(|_| InvalidTime::Zone(s.chars().take(64).collect()))
    }
}

impl TryFrom<String> for Zone {
    type Error = InvalidTime;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> String {
        z.name().to_string()
    }
}

impl Reconcile for Zone {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.name())
    }
}

impl Hydrate for Zone {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("an IANA time zone", s.to_string()))
    }
}

/// A time value from outside that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTime {
    /// Not an RFC 3339 instant.
    #[error("invalid instant `{0}`: expected RFC 3339 such as 2026-03-08T17:59:59+08:00")]
    Instant(String),
    /// Not a `YYYY-MM-DD` date.
    #[error("invalid date `{0}`: expected YYYY-MM-DD")]
    Date(String),
    /// Not an IANA zone name.
    #[error("unknown time zone `{0}`: expected an IANA name such as Asia/Shanghai")]
    Zone(String),
    /// Not an `HH:MM` time of day.
    #[error("invalid time of day `{0}`: expected HH:MM")]
    TimeOfDay(String),
}

/// Parses `HH:MM` or `HH:MM:SS`.
pub fn parse_time_of_day(s: &str) -> Result<NaiveTime, InvalidTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| InvalidTime::TimeOfDay(s.chars().take(16).collect()))
}

/// Where rules get "now" from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until moved: for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(at.millis())))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.millis(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> LocalDate {
        s.parse().unwrap()
    }

    #[test]
    fn late_evening_in_shanghai_is_still_that_local_day() {
        // 23:30 in Shanghai is 15:30 UTC the same day; 00:30 is the previous UTC day.
        let ts = Timestamp::parse_rfc3339("2026-03-10T23:30:00+08:00").unwrap();
        assert_eq!(ts.local_date(&Zone::SHANGHAI), date("2026-03-10"));
        let early = Timestamp::parse_rfc3339("2026-03-11T00:30:00+08:00").unwrap();
        assert_eq!(early.local_date(&Zone::SHANGHAI), date("2026-03-11"));
        assert_eq!(early.local_date(&Zone::UTC), date("2026-03-10"));
    }

    #[test]
    fn six_pm_follows_daylight_saving_in_new_york() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let six = parse_time_of_day("18:00").unwrap();
        // 2026-03-08 is the spring-forward day: 18:00 is EDT (UTC-4).
        assert_eq!(
            date("2026-03-08").at(six, &ny),
            Timestamp::parse_rfc3339("2026-03-08T22:00:00Z").unwrap()
        );
        assert_eq!(
            date("2026-03-07").at(six, &ny),
            Timestamp::parse_rfc3339("2026-03-07T23:00:00Z").unwrap()
        );
    }

    #[test]
    fn a_skipped_wall_clock_time_resolves_to_after_the_gap() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let t = date("2026-03-08").at(parse_time_of_day("02:30").unwrap(), &ny);
        assert_eq!(t, Timestamp::parse_rfc3339("2026-03-08T07:00:00Z").unwrap());
    }

    #[test]
    fn bad_time_input_is_a_typed_error() {
        assert!(matches!(
            "Mars/Olympus".parse::<Zone>(),
            Err(InvalidTime::Zone(_))
        ));
        assert!(matches!(
            "2026-02-30".parse::<LocalDate>(),
            Err(InvalidTime::Date(_))
        ));
        assert!(matches!(
            Timestamp::parse_rfc3339("yesterday"),
            Err(InvalidTime::Instant(_))
        ));
        assert!(parse_time_of_day("25:00").is_err());
    }
}
