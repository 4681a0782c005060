//! The work calendar: which days a person owes a daily report.
//!
//! Report duty and its fines apply to working days only. A tenant's working week (Monday to
//! Friday unless configured otherwise), its public holidays, and the weekend days worked to
//! make up for a long holiday (调休) say which days the company works; a person's own leave and
//! the days before they started or after they left say which of those they owed. The missing-
//! report job, the compliance dashboards, the reminders and the report judgement all ask this
//! one rule, so nobody is fined for a Saturday, a holiday or a day of leave.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use chrono::{Datelike, Weekday};
use serde::{Deserialize, Serialize};

use crate::string_enum;
use crate::time::LocalDate;

string_enum! {
    /// A day of the week, as the configuration names it.
    pub enum WorkWeekday {
        /// Monday.
        Mon = "mon",
        /// Tuesday.
        Tue = "tue",
        /// Wednesday.
        Wed = "wed",
        /// Thursday.
        Thu = "thu",
        /// Friday.
        Fri = "fri",
        /// Saturday.
        Sat = "sat",
        /// Sunday.
        Sun = "sun",
    }
}

impl WorkWeekday {
    fn of(date: LocalDate) -> Self {
        match date.naive().weekday() {
            Weekday::Mon => WorkWeekday::Mon,
            Weekday::Tue => WorkWeekday::Tue,
            Weekday::Wed => WorkWeekday::Wed,
            Weekday::Thu => WorkWeekday::Thu,
            Weekday::Fri => WorkWeekday::Fri,
            Weekday::Sat => WorkWeekday::Sat,
            Weekday::Sun => WorkWeekday::Sun,
        }
    }
}

/// Consecutive days, both ends included: written `2026-10-01`, or `2026-10-01..2026-10-07`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DaySpan {
    /// The first day.
    pub from: LocalDate,
    /// The last day.
    pub to: LocalDate,
}

/// The longest span accepted: a year (a longer leave is a person who left).
pub const MAX_SPAN_DAYS: i64 = 366;

/// A span that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSpan {
    /// Not `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    #[error("`{0}` is not a day (YYYY-MM-DD) or a span of days (YYYY-MM-DD..YYYY-MM-DD)")]
    Unreadable(String),
    /// Ends before it starts.
    #[error("{from}..{to} ends before it starts")]
    Backwards {
        /// The first day given.
        from: LocalDate,
        /// The last day given.
        to: LocalDate,
    },
    /// Longer than [`MAX_SPAN_DAYS`].
    #[error("{from}..{to} is longer than {MAX_SPAN_DAYS} days")]
    TooLong {
        /// The first day given.
        from: LocalDate,
        /// The last day given.
        to: LocalDate,
    },
}

impl DaySpan {
    /// One day.
    pub fn day(date: LocalDate) -> Self {
        DaySpan {
            from: date,
            to: date,
        }
    }

    /// A checked span.
    pub fn new(from: LocalDate, to: LocalDate) -> Result<Self, InvalidSpan> {
        if to < from {
            return Err(InvalidSpan::Backwards { from, to });
        }
        if to.days_since(from) >= MAX_SPAN_DAYS {
            return Err(InvalidSpan::TooLong { from, to });
        }
        Ok(DaySpan { from, to })
    }

    /// Whether `date` is one of its days.
    pub fn contains(&self, date: LocalDate) -> bool {
        self.from <= date && date <= self.to
    }
}

impl fmt::Display for DaySpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}..{}", self.from, self.to)
        }
    }
}

impl FromStr for DaySpan {
    type Err = InvalidSpan;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let day = |d: &str| -> Result<LocalDate, InvalidSpan> {
            d.trim()
                .parse()
                .map_err(|_| InvalidSpan::Unreadable(s.to_string()))
        };
        match s.split_once("..") {
            Some((from, to)) => DaySpan::new(day(from)?, day(to)?),
            None => Ok(DaySpan::day(day(s)?)),
        }
    }
}

impl Serialize for DaySpan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DaySpan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Reconcile for DaySpan {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for DaySpan {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse().map_err(|_| {
            HydrateError::unexpected("a day or a span of days (YYYY-MM-DD..YYYY-MM-DD)", s.into())
        })
    }
}

fn monday_to_friday() -> Vec<WorkWeekday> {
    vec![
        WorkWeekday::Mon,
        WorkWeekday::Tue,
        WorkWeekday::Wed,
        WorkWeekday::Thu,
        WorkWeekday::Fri,
    ]
}

/// The tenant's work calendar (`[calendar]` of the field-work settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(default, deny_unknown_fields)]
pub struct WorkCalendar {
    /// The days of an ordinary week the company works.
    #[autosurgeon(missing = "monday_to_friday")]
    pub working_weekdays: Vec<WorkWeekday>,
    /// Days off for everyone, on any weekday (国庆, 春节 …).
    #[autosurgeon(missing = "Vec::new")]
    pub public_holidays: Vec<DaySpan>,
    /// Days worked although the week would have them off, to make up for a long holiday (调休).
    #[autosurgeon(missing = "Vec::new")]
    pub make_up_working_days: Vec<DaySpan>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        WorkCalendar {
            working_weekdays: monday_to_friday(),
            public_holidays: Vec::new(),
            make_up_working_days: Vec::new(),
        }
    }
}

/// A person's own working days: when they started, when they left, their leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Employment<'a> {
    /// Their first working day.
    pub started_on: LocalDate,
    /// Their last working day, once they left.
    pub left_on: Option<LocalDate>,
    /// Approved leave.
    pub leave: &'a [DaySpan],
}

string_enum! {
    /// Why nobody owes a report for a day.
    pub enum DayOff {
        /// The week has it off (a weekend).
        RestDay = "rest_day",
        /// A public holiday.
        PublicHoliday = "public_holiday",
        /// The person is on leave.
        Leave = "leave",
        /// Before the person started.
        NotStarted = "not_started",
        /// After the person left.
        Left = "left",
    }
}

/// A calendar setting that cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCalendar {
    /// A weekday this version does not know.
    #[error("`{0}` is not a weekday; use mon, tue, wed, thu, fri, sat or sun")]
    UnknownWeekday(String),
    /// A day both a holiday and a make-up working day.
    #[error("{0} is both a public holiday and a make-up working day")]
    HolidayAndWorkday(LocalDate),
}

impl WorkCalendar {
    /// Why `date` is a day off for `person`, or `None` when they owed a report for it.
    ///
    /// The person's own days come first (before starting, after leaving, on leave); then a
    /// make-up working day is worked whatever the week says; then a public holiday is off,
    /// and the rest follows the working week.
    pub fn day_off(&self, date: LocalDate, person: &Employment<'_>) -> Option<DayOff> {
        if date < person.started_on {
            return Some(DayOff::NotStarted);
        }
        if person.left_on.is_some_and(|left| date > left) {
            return Some(DayOff::Left);
        }
        if person.leave.iter().any(|s| s.contains(date)) {
            return Some(DayOff::Leave);
        }
        if self.make_up_working_days.iter().any(|s| s.contains(date)) {
            return None;
        }
        if self.public_holidays.iter().any(|s| s.contains(date)) {
            return Some(DayOff::PublicHoliday);
        }
        (!self.working_weekdays.contains(&WorkWeekday::of(date))).then_some(DayOff::RestDay)
    }

    /// Whether `person` owed a report for `date`.
    pub fn owes_report(&self, date: LocalDate, person: &Employment<'_>) -> bool {
        self.day_off(date, person).is_none()
    }

    /// Every problem of the calendar.
    pub fn problems(&self) -> Vec<InvalidCalendar> {
        let mut out: Vec<InvalidCalendar> = self
            .working_weekdays
            .iter()
            .filter(|d| !d.is_known())
            .map(|d| InvalidCalendar::UnknownWeekday(d.to_string()))
            .collect();
        for holiday in &self.public_holidays {
            let mut date = holiday.from;
            while date <= holiday.to {
                if self.make_up_working_days.iter().any(|s| s.contains(date)) {
                    out.push(InvalidCalendar::HolidayAndWorkday(date));
                }
                date = date.succ();
            }
        }
        out
    }
}
