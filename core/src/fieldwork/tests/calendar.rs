//! The work calendar: who owes a report on which day.

use super::*;
use crate::Money;
use crate::fieldwork::calendar::InvalidSpan;

/// The 2026 National Day week in China: 1–7 October off, Sunday 27 September and Saturday 10
/// October worked instead (调休).
fn national_day() -> WorkCalendar {
    toml::from_str::<FieldworkSettings>(
        r#"
        [calendar]
        public_holidays = ["2026-10-01..2026-10-07"]
        make_up_working_days = ["2026-09-27", "2026-10-10"]
        "#,
    )
    .unwrap()
    .calendar
}

fn always_here() -> Employment<'static> {
    Employment {
        started_on: date("2020-01-01"),
        left_on: None,
        leave: &[],
    }
}

#[test]
fn the_working_week_is_monday_to_friday_unless_configured() {
    let c = WorkCalendar::default();
    let rep = always_here();
    assert_eq!(c.day_off(date("2026-03-13"), &rep), None, "a Friday");
    assert_eq!(c.day_off(date("2026-03-14"), &rep), Some(DayOff::RestDay));
    assert_eq!(c.day_off(date("2026-03-15"), &rep), Some(DayOff::RestDay));

    let six_days: WorkCalendar =
        toml::from_str(r#"working_weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]"#).unwrap();
    assert!(six_days.owes_report(date("2026-03-14"), &rep));
    assert!(!six_days.owes_report(date("2026-03-15"), &rep));
}

#[test]
fn a_public_holiday_is_off_and_a_make_up_saturday_is_worked() {
    let c = national_day();
    let rep = always_here();
    assert_eq!(
        c.day_off(date("2026-10-01"), &rep),
        Some(DayOff::PublicHoliday)
    );
    assert_eq!(
        c.day_off(date("2026-10-05"), &rep),
        Some(DayOff::PublicHoliday),
        "a Monday of the holiday week"
    );
    assert_eq!(
        c.day_off(date("2026-09-27"), &rep),
        None,
        "a make-up Sunday"
    );
    assert_eq!(
        c.day_off(date("2026-10-10"), &rep),
        None,
        "a make-up Saturday"
    );
    assert_eq!(c.day_off(date("2026-10-11"), &rep), Some(DayOff::RestDay));
    assert_eq!(c.day_off(date("2026-10-08"), &rep), None);
}

#[test]
fn leave_and_the_days_before_starting_or_after_leaving_are_owed_nothing() {
    let c = WorkCalendar::default();
    let leave = ["2026-03-16..2026-03-18".parse().unwrap()];
    let rep = Employment {
        started_on: date("2026-03-11"),
        left_on: Some(date("2026-03-27")),
        leave: &leave,
    };
    // She joined on a Wednesday: Monday and Tuesday of that week were not hers.
    assert_eq!(
        c.day_off(date("2026-03-09"), &rep),
        Some(DayOff::NotStarted)
    );
    assert_eq!(
        c.day_off(date("2026-03-10"), &rep),
        Some(DayOff::NotStarted)
    );
    assert_eq!(c.day_off(date("2026-03-11"), &rep), None);
    assert_eq!(c.day_off(date("2026-03-17"), &rep), Some(DayOff::Leave));
    assert_eq!(c.day_off(date("2026-03-19"), &rep), None);
    assert_eq!(c.day_off(date("2026-03-27"), &rep), None, "the last day");
    assert_eq!(c.day_off(date("2026-03-30"), &rep), Some(DayOff::Left));
}

#[test]
fn day_spans_read_one_day_or_a_range_and_refuse_nonsense() {
    let one: DaySpan = "2026-10-01".parse().unwrap();
    assert_eq!((one.from, one.to), (date("2026-10-01"), date("2026-10-01")));
    assert_eq!(one.to_string(), "2026-10-01");
    let week: DaySpan = " 2026-10-01 .. 2026-10-07 ".parse().unwrap();
    assert_eq!(week.to_string(), "2026-10-01..2026-10-07");
    assert!(week.contains(date("2026-10-07")) && !week.contains(date("2026-10-08")));
    assert!(matches!(
        "2026-10-07..2026-10-01".parse::<DaySpan>(),
        Err(InvalidSpan::Backwards { .. })
    ));
    assert!(matches!(
        "2026-01-01..2027-06-01".parse::<DaySpan>(),
        Err(InvalidSpan::TooLong { .. })
    ));
    assert!(matches!(
        "10/1".parse::<DaySpan>(),
        Err(InvalidSpan::Unreadable(_))
    ));
    let err = toml::from_str::<FieldworkSettings>("[calendar]\npublic_holidays = [\"soon\"]\n")
        .unwrap_err();
    assert!(err.to_string().contains("soon"), "{err}");
}

#[test]
fn a_calendar_that_contradicts_itself_is_refused_naming_the_setting() {
    let mut s = FieldworkSettings::default();
    s.calendar.public_holidays = vec!["2026-10-01..2026-10-03".parse().unwrap()];
    s.calendar.make_up_working_days = vec!["2026-10-02".parse().unwrap()];
    s.calendar
        .working_weekdays
        .push(WorkWeekday::from_code("someday"));
    let err = s.validate().unwrap_err();
    assert!(err.names(Setting::CalendarMakeUpWorkingDays), "{err}");
    assert!(err.names(Setting::CalendarWorkingWeekdays), "{err}");
    assert!(err.to_string().contains("2026-10-02"), "{err}");
}

#[test]
fn a_report_filed_late_on_a_day_off_costs_nothing_but_a_false_one_still_does() {
    let late_on_saturday = Report::for_day("2026-03-14", "Asia/Shanghai")
        .submitted_at_local("21:00:00")
        .on_a_day_off(DayOff::RestDay);
    let v = late_on_saturday.verdict();
    assert_eq!(v.state, ReportState::Late);
    assert_eq!(v.penalty, Money::major(0, crate::money::Currency::CNY));
    assert_eq!(v.day_off, Some(DayOff::RestDay));

    let false_on_saturday = late_on_saturday.marked_false("visits that never happened");
    assert_eq!(
        false_on_saturday.verdict().penalty,
        Money::major(50, crate::money::Currency::CNY)
    );
}

#[test]
fn a_day_off_is_neither_open_nor_overdue_nor_missing() {
    let s = DailyReportSettings::default();
    let day = date("2026-10-01");
    let status = report_day_status(
        day,
        &zone("Asia/Shanghai"),
        Some(DayOff::PublicHoliday),
        &s,
        t("2026-10-05T09:00:00+08:00"),
        Judge::Server,
    );
    assert_eq!(status, ReportDay::DayOff(DayOff::PublicHoliday));
}
