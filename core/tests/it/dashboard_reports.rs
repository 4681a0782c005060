//! Daily-report compliance for Monday 9 to Friday 13 March, read on Monday the 16th.

use fieldsales_core::dashboard::reports::{ReportFigures, reports};
use fieldsales_core::dashboard::{DateRange, GroupBy};
use fieldsales_core::fieldwork::ReportState as Compliance;

use crate::dashboard_world::{Desk, World, ask, cny, march, sh};

fn workdays() -> DateRange {
    DateRange::new(march(9), march(13)).unwrap()
}

/// Alice: on time Monday, late Tuesday (¥10), false Wednesday (¥50), nothing Thursday,
/// submitted but not judged yet Friday. Bob: on time every day. Carol: Monday's report came
/// after the cut-off (missing, ¥30), nothing else. Dan (South) files nothing. Mia, the
/// manager, owes no reports.
fn world() -> World {
    let mut w = World::new();
    let (alice, bob, carol) = (w.alice, w.bob, w.carol);
    w.report(alice, march(9), Some((Compliance::OnTime, 0)));
    w.report(alice, march(10), Some((Compliance::Late, 10)));
    w.report(alice, march(11), Some((Compliance::False, 50)));
    w.report(alice, march(13), None);
    for day in 9..=13 {
        w.report(bob, march(day), Some((Compliance::OnTime, 0)));
    }
    w.report(carol, march(9), Some((Compliance::Missing, 30)));
    w
}

fn figures(
    on_time: u64,
    late: u64,
    missing: u64,
    missing_unfiled: u64,
    false_reports: u64,
    unjudged: u64,
    penalty_yuan: i64,
) -> ReportFigures {
    ReportFigures {
        on_time,
        late,
        missing,
        missing_unfiled,
        false_reports,
        awaiting_receipt: 0,
        unjudged,
        penalties: cny(penalty_yuan),
    }
}

#[test]
fn a_director_sees_each_teams_compliance_and_the_penalties_owed() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.eve, sh("2026-03-16 10:00"));
    let r = reports(&desk.ctx(&server), &ask(workdays(), GroupBy::Team)).unwrap();
    let names: Vec<&str> = r.groups.iter().map(|g| g.group.name.as_str()).collect();
    assert_eq!(names, ["上海一组", "杭州组"], "no South team");
    // A1: Alice 1 on time, 1 late, 1 false, Thursday missing (¥30), Friday unjudged;
    // Bob 5 on time. Mia owes nothing.
    assert_eq!(r.groups[0].figures, figures(6, 1, 1, 1, 1, 1, 10 + 50 + 30));
    // A2: Carol's Monday judged missing, Tuesday to Friday never filed: 5 × ¥30.
    assert_eq!(r.groups[1].figures, figures(0, 0, 5, 4, 0, 0, 150));
    assert_eq!(r.total, figures(6, 1, 6, 5, 1, 1, 240));
}

#[test]
fn per_rep_a_manager_sees_only_his_team() {
    let w = world();
    let server = w.server();
    let desk = Desk::new(&w, &server, w.mia, sh("2026-03-16 10:00"));
    let r = reports(&desk.ctx(&server), &ask(workdays(), GroupBy::Rep)).unwrap();
    let names: Vec<&str> = r.groups.iter().map(|g| g.group.name.as_str()).collect();
    assert_eq!(names, ["Alice", "Bob"]);
    assert_eq!(r.groups[0].figures, figures(1, 1, 1, 1, 1, 1, 90));
    assert_eq!(r.groups[1].figures, figures(5, 0, 0, 0, 0, 0, 0));
}

#[test]
fn a_day_is_missing_only_once_its_cut_off_has_passed() {
    let w = world();
    let server = w.server();
    let friday = ask(DateRange::day(march(13)), GroupBy::Rep);
    // Friday 20:00: the deadline has passed but the day stays open for a late report until
    // midnight, so Carol's Friday is not missing yet.
    let desk = Desk::new(&w, &server, w.carol, sh("2026-03-13 20:00"));
    let r = reports(&desk.ctx(&server), &friday).unwrap();
    assert_eq!(r.total.missing, 0);
    // At midnight it is.
    let desk = Desk::new(&w, &server, w.carol, sh("2026-03-14 00:00"));
    let r = reports(&desk.ctx(&server), &friday).unwrap();
    assert_eq!(r.total, figures(0, 0, 1, 1, 0, 0, 30));
}

#[test]
fn the_missing_cut_off_follows_the_configuration() {
    let w = world();
    let server = w.server();
    let friday = ask(DateRange::day(march(13)), GroupBy::Rep);
    let mut desk = Desk::new(&w, &server, w.carol, sh("2026-03-14 00:00"));
    desk.process.fieldwork.daily_report.missing_after_days = 2;
    desk.process.fieldwork.daily_report.missing_penalty = 40;
    assert_eq!(
        reports(&desk.ctx(&server), &friday).unwrap().total.missing,
        0
    );
    desk.now = sh("2026-03-15 00:00");
    let r = reports(&desk.ctx(&server), &friday).unwrap();
    assert_eq!(r.total, figures(0, 0, 1, 1, 0, 0, 40));
}
