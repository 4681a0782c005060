//! The judgement values live inside visit and daily-report documents: they must come back out
//! of Automerge and serde exactly as they went in, including values from newer app versions.

use automerge::{AutoCommit, ROOT, transaction::Transactable};
use autosurgeon::{Hydrate, Reconcile, hydrate, reconcile};

use super::*;

fn through_automerge<T: Reconcile + Hydrate>(value: &T) -> T {
    let mut doc = AutoCommit::new();
    reconcile(&mut doc, value).unwrap();
    let bytes = doc.save();
    hydrate(&AutoCommit::load(&bytes).unwrap()).unwrap()
}

fn through_json<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

#[derive(Debug, PartialEq, Reconcile, Hydrate)]
struct VisitDoc {
    position: DevicePosition,
    check_in: CheckInVerdict,
    check_out: Option<CheckOutVerdict>,
    proposal: Option<LocationProposal>,
    clock: Option<ClockOffset>,
}

#[test]
fn a_flagged_visit_survives_the_document_and_the_wire() {
    let c = CheckIn::at_the_customer()
        .customer_without_location()
        .accuracy(150.0)
        .left_previous_visit_km_away(300.0, 60)
        .device_clock_ahead_secs(-900);
    let judged = c.judge().unwrap();
    let mut proposal = CheckIn::at_the_customer()
        .customer_without_location()
        .judge()
        .unwrap()
        .proposal
        .unwrap();
    proposal
        .reject(RecordId::new(), c.now, "this is the rep's home")
        .unwrap();
    let doc = VisitDoc {
        position: c.facts.position,
        check_in: judged.verdict.clone(),
        check_out: None,
        proposal: Some(proposal),
        clock: Some(offset(-900, c.now)),
    };
    assert!(doc.check_in.flags.len() >= 3);
    assert_eq!(through_automerge(&doc), doc);
    assert_eq!(through_json(&judged.verdict), judged.verdict);
}

#[test]
fn a_flag_from_a_newer_version_is_kept_as_written() {
    let verdict = CheckOutVerdict {
        duration_seconds: 60,
        flags: vec![CheckFlag {
            kind: FlagKind::from_code("teleported"),
            observed: Some(1.5),
            limit: None,
        }],
        judged_by: Judge::from_code("auditor"),
        judged_at: t("2026-03-10T10:00:00Z"),
    };
    let back = through_automerge(&verdict);
    assert_eq!(back, verdict);
    assert_eq!(back.flags[0].kind.as_str(), "teleported");
    assert!(!back.flags[0].kind.is_known());
}

#[test]
fn a_report_verdict_survives_the_document_and_the_wire() {
    let v = Report::for_day("2026-03-08", "America/New_York")
        .submitted_at_local("18:00:01")
        .verdict();
    assert_eq!(through_automerge(&v), v);
    assert_eq!(through_json(&v), v);
    let mark = FalseMark::new(RecordId::new(), v.judged_at, "客户说没来过").unwrap();
    assert_eq!(through_automerge(&mark), mark);
}

#[test]
fn settings_survive_the_configuration_document() {
    let mut s = FieldworkSettings::default();
    s.geofence.mode = FenceMode::Hard;
    s.daily_report.deadline = "17:45".parse().unwrap();
    assert_eq!(through_automerge(&s), s);
}

#[test]
fn settings_written_by_an_older_version_take_defaults_for_what_they_lack() {
    let mut doc = AutoCommit::new();
    let geofence = doc
        .put_object(ROOT, "geofence", automerge::ObjType::Map)
        .unwrap();
    doc.put(&geofence, "radius_m", 300_u64).unwrap();
    let s: FieldworkSettings = hydrate(&doc).unwrap();
    assert_eq!(s.geofence.radius_m, 300);
    assert_eq!(s.geofence.max_accuracy_m, 100);
    assert_eq!(s.daily_report, DailyReportSettings::default());
}
