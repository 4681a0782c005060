use super::*;
use crate::money::{Currency, Money};

#[test]
fn the_defaults_are_the_numbers_of_the_requirements() {
    let s = FieldworkSettings::default();
    assert_eq!(s.geofence.radius_m, 500);
    assert_eq!(s.geofence.max_accuracy_m, 100);
    assert_eq!(s.geofence.decisive_accuracy_m, 10);
    assert_eq!(s.visit.max_photo_bytes, 20 * 1024 * 1024);
    assert_eq!(s.geofence.mode, FenceMode::Soft);
    assert_eq!(s.visit.max_travel_speed_kmh, 120);
    assert_eq!(s.daily_report.deadline, TimeOfDay::hm(18, 0).unwrap());
    let r = &s.daily_report;
    assert_eq!(r.penalty(r.late_penalty), Money::major(10, Currency::CNY));
    assert_eq!(
        r.penalty(r.missing_penalty),
        Money::major(30, Currency::CNY)
    );
    assert_eq!(r.penalty(r.false_penalty), Money::major(50, Currency::CNY));
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn an_admin_configures_field_work_in_toml() {
    let s: FieldworkSettings = toml::from_str(
        r#"
        [geofence]
        radius_m = 300
        mode = "hard"

        [daily_report]
        deadline = "17:30"
        late_penalty = 20
        currency = "USD"

        [device_clock]
        tolerance_seconds = 120
        "#,
    )
    .unwrap();
    assert_eq!(s.geofence.radius_m, 300);
    assert_eq!(s.geofence.mode, FenceMode::Hard);
    assert_eq!(
        s.geofence.max_accuracy_m, 100,
        "keys left out keep defaults"
    );
    assert_eq!(s.visit, VisitSettings::default(), "sections left out too");
    assert_eq!(s.daily_report.deadline.to_string(), "17:30");
    assert_eq!(s.daily_report.late_penalty, 20);
    assert_eq!(s.daily_report.missing_penalty, 30);
    assert_eq!(s.daily_report.currency, Currency::USD);
    assert_eq!(s.device_clock.tolerance_seconds, 120);
    assert_eq!(s.validate(), Ok(()));

    let round_trip: FieldworkSettings = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
    assert_eq!(round_trip, s);
}

#[test]
fn a_typo_in_the_toml_is_reported_not_ignored() {
    let err = toml::from_str::<FieldworkSettings>("[geofence]\nradius = 300\n").unwrap_err();
    assert!(err.to_string().contains("radius"), "{err}");
    let err = toml::from_str::<FieldworkSettings>("[geofence]\nmode = \"strict\"\n").unwrap_err();
    assert!(err.to_string().contains("strict"), "{err}");
    let err =
        toml::from_str::<FieldworkSettings>("[daily_report]\ndeadline = \"25:00\"\n").unwrap_err();
    assert!(err.to_string().contains("25:00"), "{err}");
    let err = toml::from_str::<FieldworkSettings>("[geofence]\nradius_m = -5\n").unwrap_err();
    assert!(err.to_string().contains("radius_m"), "{err}");
}

#[test]
fn a_zero_radius_is_refused_naming_the_setting() {
    let mut s = FieldworkSettings::default();
    s.geofence.radius_m = 0;
    let err = s.validate().unwrap_err();
    assert_eq!(
        err.problems,
        vec![InvalidSetting {
            setting: Setting::GeofenceRadius,
            problem: SettingProblem::OutOfRange {
                value: 0,
                min: 10,
                max: 50_000
            },
        }]
    );
    assert!(
        err.to_string()
            .contains("geofence.radius_m: 0 is out of range"),
        "{err}"
    );
}

#[test]
fn every_bad_setting_is_reported_at_once() {
    let mut s = FieldworkSettings::default();
    s.geofence.max_accuracy_m = 0;
    s.geofence.mode = FenceMode::Other("strict".into());
    s.visit.max_travel_speed_kmh = 0;
    s.visit.max_fix_age_seconds = 0;
    s.visit.min_duration_minutes = 13 * 60;
    s.daily_report.late_penalty = 1_000_000;
    s.device_clock.tolerance_seconds = 0;
    let err = s.validate().unwrap_err();
    for setting in [
        Setting::GeofenceMaxAccuracy,
        Setting::GeofenceMode,
        Setting::VisitMaxTravelSpeed,
        Setting::VisitMaxFixAge,
        Setting::VisitMinDuration,
        Setting::ReportLatePenalty,
        Setting::ClockTolerance,
    ] {
        assert!(err.names(setting), "{setting} not reported in {err}");
    }
    assert_eq!(err.problems.len(), 7);
    assert!(matches!(
        &err.problems[1].problem,
        SettingProblem::UnknownValue { value, .. } if value == "strict"
    ));
}

#[test]
fn a_report_cannot_become_missing_before_its_deadline() {
    let mut s = DailyReportSettings {
        missing_after_days: 0,
        missing_after_time: "17:00".parse().unwrap(),
        ..DailyReportSettings::default()
    };
    let err = s.validate().unwrap_err();
    assert!(err.names(Setting::ReportMissingAfterTime), "{err}");
    assert!(matches!(
        err.problems[0].problem,
        SettingProblem::MissingBeforeDeadline { days: 0, .. }
    ));
    s.missing_after_time = "22:00".parse().unwrap();
    assert_eq!(s.validate(), Ok(()));
    s.missing_after_days = 32;
    assert!(
        s.validate()
            .unwrap_err()
            .names(Setting::ReportMissingAfterDays)
    );
}

#[test]
fn times_of_day_read_and_print_as_hh_mm() {
    let t: TimeOfDay = "09:05".parse().unwrap();
    assert_eq!(t.to_string(), "09:05");
    assert_eq!(
        "17:59:30".parse::<TimeOfDay>().unwrap().to_string(),
        "17:59:30"
    );
    assert!("noon".parse::<TimeOfDay>().is_err());
}

#[test]
fn a_decisive_accuracy_beyond_100_m_and_a_zero_photo_limit_are_refused() {
    let mut s = FieldworkSettings::default();
    s.geofence.decisive_accuracy_m = 101;
    s.visit.max_photo_bytes = 0;
    let err = s.validate().unwrap_err();
    assert!(err.names(Setting::GeofenceDecisiveAccuracy), "{err}");
    assert!(err.names(Setting::VisitMaxPhotoBytes), "{err}");
    assert!(
        err.to_string()
            .contains("geofence.decisive_accuracy_m: 101 is out of range"),
        "{err}"
    );
}
