//! Instants, local days and zones across the boundary.
//!
//! An instant is core's `Timestamp`, a Kotlin `java.time.Instant` and a Swift `Date` (it
//! crosses as UTC milliseconds since the epoch); a local day is core's `LocalDate`, a Kotlin
//! `java.time.LocalDate` and a Swift `DateComponents` of year, month and day (it crosses as
//! `YYYY-MM-DD`); `uniffi.toml` names the foreign types. Times of day cross as `HH:MM`, zones
//! as IANA names, durations as milliseconds (`*_ms`). The zone rules (daylight saving
//! included) are applied here, once, so an Android phone and an iPhone with different
//! time-zone databases still agree on which day a visit belongs to.

use chrono::{DateTime, NaiveTime};
use fieldsales_core::time::parse_time_of_day;
use fieldsales_core::{LocalDate, Timestamp, Zone};

use crate::error::{FieldsalesError, OrInvalid};

uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |at| at.millis(),
    try_lift: |ms| Ok(instant("instant", ms)?),
});

uniffi::custom_type!(LocalDate, String, {
    remote,
    lower: |day| day.to_string(),
    try_lift: |text| Ok(date("date", &text)?),
});

/// Checks an instant from outside: chrono can place it on a calendar.
pub(crate) fn instant(field: &str, ms: i64) -> Result<Timestamp, FieldsalesError> {
    match DateTime::from_timestamp_millis(ms) {
        Some(_) => Ok(Timestamp::from_millis(ms)),
        None => Err(FieldsalesError::InvalidInput {
            field: field.to_string(),
            detail: "milliseconds since 1970-01-01T00:00:00Z, within the calendar's range"
                .to_string(),
        }),
    }
}

pub(crate) fn zone(field: &str, name: &str) -> Result<Zone, FieldsalesError> {
    name.parse::<Zone>().or_invalid(field)
}

pub(crate) fn date(field: &str, text: &str) -> Result<LocalDate, FieldsalesError> {
    text.parse::<LocalDate>().or_invalid(field)
}

pub(crate) fn time_of_day(field: &str, text: &str) -> Result<NaiveTime, FieldsalesError> {
    parse_time_of_day(text).or_invalid(field)
}

/// The local calendar day of the instant `at` in `zone`: the day a visit is counted on, the
/// day a daily report belongs to.
#[uniffi::export]
pub fn local_date_of(at: Timestamp, zone: String) -> Result<LocalDate, FieldsalesError> {
    let zone = self::zone("zone", &zone)?;
    Ok(at.local_date(&zone))
}

/// Checks an IANA zone name, as the phone's settings give it, and returns it as stored
/// (surrounding blanks removed). Unknown or misspelt names are refused.
#[uniffi::export]
pub fn validate_zone(zone: String) -> Result<String, FieldsalesError> {
    Ok(self::zone("zone", &zone)?.name().to_string())
}

/// The first instant of the local day `date` in `zone` (midnight, or the first instant after
/// a daylight-saving gap at midnight).
#[uniffi::export]
pub fn start_of_local_day(date: LocalDate, zone: String) -> Result<Timestamp, FieldsalesError> {
    let zone = self::zone("zone", &zone)?;
    Ok(date.start(&zone))
}

/// The instant at which the wall-clock time `time_of_day` (`HH:MM`) happens on `date` in
/// `zone`: the daily-report deadline of that day, a reminder. A time that happens twice on a
/// daylight-saving change is its first occurrence; one skipped by the change is the first
/// instant after the gap.
#[uniffi::export]
pub fn local_time_on(
    date: LocalDate,
    time_of_day: String,
    zone: String,
) -> Result<Timestamp, FieldsalesError> {
    let zone = self::zone("zone", &zone)?;
    let time = self::time_of_day("time_of_day", &time_of_day)?;
    Ok(date.at(time, &zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse_rfc3339(rfc3339).unwrap()
    }

    fn day(text: &str) -> LocalDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_visit_at_half_past_midnight_in_shanghai_counts_on_the_shanghai_day() {
        let visit = at("2026-03-11T00:30:00+08:00");
        assert_eq!(
            local_date_of(visit, "Asia/Shanghai".into()).unwrap(),
            day("2026-03-11")
        );
        assert_eq!(
            local_date_of(visit, "UTC".into()).unwrap(),
            day("2026-03-10")
        );
    }

    #[test]
    fn the_report_deadline_in_new_york_follows_daylight_saving() {
        let before = local_time_on(day("2026-03-07"), "18:00".into(), "America/New_York".into());
        let after = local_time_on(day("2026-03-08"), "18:00".into(), "America/New_York".into());
        assert_eq!(before.unwrap(), at("2026-03-07T23:00:00Z"));
        assert_eq!(after.unwrap(), at("2026-03-08T22:00:00Z"));
    }

    #[test]
    fn a_day_in_shanghai_starts_at_sixteen_hundred_utc_the_day_before() {
        assert_eq!(
            start_of_local_day(day("2026-03-10"), "Asia/Shanghai".into()).unwrap(),
            at("2026-03-09T16:00:00Z")
        );
    }

    #[test]
    fn a_zone_from_the_settings_is_trimmed_and_a_misspelt_one_refused() {
        assert_eq!(
            validate_zone(" Asia/Shanghai ".into()).unwrap(),
            "Asia/Shanghai"
        );
        let err = validate_zone("Asia/Peking Time".into()).unwrap_err();
        assert!(matches!(err, FieldsalesError::InvalidInput { ref field, .. } if field == "zone"));
    }

    #[test]
    fn each_bad_argument_is_named_in_the_error() {
        let field_of = |r: Result<Timestamp, FieldsalesError>| match r {
            Err(FieldsalesError::InvalidInput { field, .. }) => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        };
        let zone = || "Asia/Shanghai".to_string();
        assert_eq!(
            field_of(local_time_on(day("2026-03-10"), "6pm".into(), zone())),
            "time_of_day"
        );
        assert_eq!(
            field_of(local_time_on(day("2026-03-10"), "18:00".into(), "".into())),
            "zone"
        );
    }

    /// What the apps send crosses as milliseconds and `YYYY-MM-DD` and is checked on the way
    /// in: an instant beyond the calendar or a day that does not exist is refused, naming it.
    #[test]
    fn an_instant_beyond_the_calendar_or_a_day_that_does_not_exist_is_refused() {
        use uniffi::Lift;
        let refused = <Timestamp as Lift<crate::UniFfiTag>>::try_lift(i64::MAX).unwrap_err();
        assert!(
            matches!(
                refused.downcast_ref::<FieldsalesError>(),
                Some(FieldsalesError::InvalidInput { field, .. }) if field == "instant"
            ),
            "{refused:?}"
        );
        let day = <LocalDate as Lift<crate::UniFfiTag>>::try_lift(<String as uniffi::Lower<
            crate::UniFfiTag,
        >>::lower(
            "2026-02-30".into()
        ))
        .unwrap_err();
        assert!(
            matches!(
                day.downcast_ref::<FieldsalesError>(),
                Some(FieldsalesError::InvalidInput { field, .. }) if field == "date"
            ),
            "{day:?}"
        );
    }
}
